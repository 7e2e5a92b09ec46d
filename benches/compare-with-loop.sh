#!/usr/bin/env bash
# stormsim against the bare event loop of the shared bench folder (and SimPy, when it is
# installed) on the three benchmark models, side by side in one run.
#
# Each model runs in both programs on the same model and horizon (`scenarios/bench/*.toml`
# state the loop's arguments), so both handle the same events: whole-process wall time,
# medians of RUNS paired runs whose order alternates, so a change in load hits both sides.
# The ratio compares model events per second, counted as the loop counts them (arrivals and
# completions; in the retry model also sends, timeouts and backoff wake-ups), because the
# two programs' random draws differ and their event counts differ by a few hundredths of a
# percent. stormsim runs with everything on (histograms, interval series) and writes its
# whole run folder, charts included.
#
# SimPy is far slower, so it runs a shorter horizon of the same models and reports its own
# rate (timed around `env.run`, without the interpreter's start): a comparison of rates.
#
# Usage: benches/compare-with-loop.sh
# Environment: STORMSIM_BASELINE (the loop's source, default ../shared/bench/baseline from
# the repository), RUNS (default 5), PYTHON (default python3).
set -euo pipefail
export LC_ALL=C

runs=${RUNS:-5}
python=${PYTHON:-python3}
# shellcheck source=benches/build-both.sh
source "$(dirname "$0")/build-both.sh"

# Wall time of one whole process, in seconds; its stdout goes to "$scratch/out".
wall() {
    local start=$EPOCHREALTIME
    "$@" > "$scratch/out" 2> "$scratch/err" || { cat "$scratch/err" >&2; exit 2; }
    local end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The loop's model events from its output.
loop_events() { sed -n 's/.*model_events=\([0-9]*\).*/\1/p' "$scratch/out"; }

# stormsim's events counted as the loop counts them, from summary.json.
stormsim_events() {
    "$python" -c '
import json, sys
e = json.load(open(sys.argv[1]))["engine"]["events"]
retry = sys.argv[2] == "retry"
print(e["total"] if retry else e["arrivals"] + e["completions"])' "$scratch/run/summary.json" "$1"
}

has_simpy=false
if "$python" -c 'import simpy' 2> /dev/null; then
    has_simpy=true
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "stormsim against the bare event loop: whole process, same model and horizon,"
echo "medians of $runs paired runs, $(date -u +%Y-%m-%d), $(nproc) CPUs, ${cpu:-unknown CPU},"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-42s %12s %12s %9s %11s %9s\n' model "loop events" "stormsim ev" "loop s" "stormsim s" "speed"

# name | scenario | loop arguments | SimPy script and arguments (shorter horizon)
models=(
    "M/M/1 rho 0.8, 1e7 s|mm1|mmc 0.8 1 1 1e7 1000 1|simpy_mmc.py --lam 0.8 --mu 1 --c 1 --horizon 3e5"
    "M/M/10 rho 0.9, 1.08e6 s|mmc|mmc 9 1 10 1080000 1000 1|simpy_mmc.py --lam 9 --mu 1 --c 10 --horizon 3e4"
    "retry (T 4 s, 3 retries), seed 2, 1e6 s|retry|retry 6 1 10 4 3 0.5 1e6 2|simpy_retry.py --lam 6 --mu 1 --c 10 --T 4 --k 3 --backoff 0.5 --horizon 3e4 --seed 2"
)
simpy_lines=()
for entry in "${models[@]}"; do
    IFS='|' read -r name scenario loop_args simpy_args <<< "$entry"
    loop_times=() stormsim_times=() simpy_rates=()
    for round in $(seq 1 "$runs"); do
        for side in loop stormsim; do
            # Alternate which side goes first.
            if [ $((round % 2)) -eq 0 ]; then side=$([ "$side" = loop ] && echo stormsim || echo loop); fi
            if [ "$side" = loop ]; then
                # shellcheck disable=SC2086
                loop_times+=("$(wall "$loop" $loop_args)")
                loop_n=$(loop_events)
            else
                stormsim_times+=("$(wall "$stormsim" run "$repo/scenarios/bench/$scenario.toml" \
                    --out "$scratch/run" --force --quiet)")
                stormsim_n=$(stormsim_events "$scenario")
            fi
        done
        if $has_simpy; then
            # shellcheck disable=SC2086
            "$python" "$baseline_src/../${simpy_args%% *}" ${simpy_args#* } > "$scratch/simpy"
            simpy_rates+=("$(sed -n 's/.*model_events_per_s=\([0-9]*\).*/\1/p' "$scratch/simpy")")
        fi
    done
    loop_s=$(printf '%s\n' "${loop_times[@]}" | median)
    stormsim_s=$(printf '%s\n' "${stormsim_times[@]}" | median)
    awk -v name="$name" -v ln="$loop_n" -v sn="$stormsim_n" -v ls="$loop_s" -v ss="$stormsim_s" 'BEGIN {
        printf "%-42s %11.2fM %11.2fM %9.3f %11.3f %8.2fx\n", name, ln / 1e6, sn / 1e6, ls, ss, (sn / ss) / (ln / ls)
    }'
    if $has_simpy; then
        simpy_rate=$(printf '%s\n' "${simpy_rates[@]}" | median)
        simpy_lines+=("$(awk -v name="$name" -v r="$simpy_rate" -v sn="$stormsim_n" -v ss="$stormsim_s" 'BEGIN {
            printf "%-42s %10.3fM/s %12.2fM/s %10.0fx", name, r / 1e6, sn / ss / 1e6, (sn / ss) / r
        }')")
    fi
done
echo "(speed: stormsim's events per second over the loop's)"
echo
if $has_simpy; then
    echo "SimPy $("$python" -c 'import simpy; print(simpy.__version__)'), shorter horizons, its own timer, medians of $runs:"
    printf '%-42s %12s %14s %11s\n' model "SimPy" "stormsim" "stormsim/SimPy"
    printf '%s\n' "${simpy_lines[@]}"
else
    echo "SimPy: skipped, \`$python -c 'import simpy'\` fails (pip install simpy to include it)"
fi
