#!/usr/bin/env bash
# Where stormsim's time goes against the bare event loop, in instructions: both programs
# run the three benchmark models under callgrind at a tenth of the benchmark horizon, and
# the script prints instructions per model event for each, their ratio, and stormsim's
# instructions per event by part of the program.
#
# Instruction counts do not move with the host's load, so this is the figure to compare
# across changes on a shared machine; `compare-with-loop.sh` gives the wall-clock ratio,
# which follows the instruction ratio within a few hundredths on these models (both
# programs run at a similar number of instructions per cycle).
#
# The parts are read from callgrind's attribution of each instruction to its source file:
# code inlined from the standard library (bounds-checked indexing, Vec and Option access,
# moves) is attributed to the library's files, so it has its own line.
#
# Usage: benches/instructions.sh
# Environment: STORMSIM_BASELINE (the loop's source, default ../shared/bench/baseline from
# the repository), PYTHON (default python3). Needs valgrind.
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
baseline_src=${STORMSIM_BASELINE:-$repo/../shared/bench/baseline}
python=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

command -v valgrind > /dev/null || { echo "error: valgrind is needed (apt install valgrind)" >&2; exit 2; }
if [ ! -f "$baseline_src/Cargo.toml" ]; then
    echo "error: no event loop at $baseline_src; set STORMSIM_BASELINE to its folder" >&2
    exit 2
fi

echo "building stormsim (release) ..." >&2
stormsim=$(cd "$repo" && cargo build --release --locked --message-format=json |
    sed -n 's/.*"executable":"\([^"]*\/stormsim\)".*/\1/p' | tail -n 1)
echo "building the loop from $baseline_src in a scratch folder ..." >&2
cp -r "$baseline_src" "$scratch/baseline"
(cd "$scratch/baseline" && CARGO_TARGET_DIR="$scratch/baseline/target" cargo build --release --quiet)
loop=$scratch/baseline/target/release/baseline

# Instructions of a whole process under callgrind; its profile goes to "$scratch/$1.cg".
instructions() {
    local name=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$scratch/$name.cg" "$@" > "$scratch/$name.out" 2> "$scratch/$name.err" ||
        { cat "$scratch/$name.err" >&2; exit 2; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$scratch/$name.err"
}

echo
echo "Instructions per model event (callgrind, whole process), $(date -u +%Y-%m-%d):"
printf '%-34s %10s %12s %12s %14s\n' model events "loop /ev" "stormsim /ev" "loop/stormsim"

# name | scenario | horizon in seconds (a tenth of the benchmark's) | loop arguments
models=(
    "M/M/1 rho 0.8, 1e6 s|mm1|1000000|mmc 0.8 1 1 1e6 1000 1"
    "M/M/10 rho 0.9, 1.08e5 s|mmc|108000|mmc 9 1 10 108000 1000 1"
    "retry, seed 2, 1e5 s|retry|100000|retry 6 1 10 4 3 0.5 1e5 2"
)
for entry in "${models[@]}"; do
    IFS='|' read -r name scenario horizon loop_args <<< "$entry"
    sed "s/^duration = .*/duration = \"${horizon}s\"/" "$repo/scenarios/bench/$scenario.toml" > "$scratch/$scenario.toml"
    # shellcheck disable=SC2086
    loop_ir=$(instructions "loop-$scenario" "$loop" $loop_args)
    loop_events=$(sed -n 's/.*model_events=\([0-9]*\).*/\1/p' "$scratch/loop-$scenario.out")
    stormsim_ir=$(instructions "stormsim-$scenario" "$stormsim" run "$scratch/$scenario.toml" \
        --out "$scratch/run-$scenario" --quiet)
    stormsim_events=$("$python" -c '
import json, sys
e = json.load(open(sys.argv[1]))["engine"]["events"]
print(e["total"] if sys.argv[2] == "retry" else e["arrivals"] + e["completions"])' \
        "$scratch/run-$scenario/summary.json" "$scenario")
    awk -v name="$name" -v le="$loop_events" -v li="$loop_ir" -v se="$stormsim_events" -v si="$stormsim_ir" 'BEGIN {
        printf "%-34s %9.2fM %12.0f %12.0f %13.2fx\n", name, se / 1e6, li / le, si / se, (li / le) / (si / se)
    }'
    echo "$scenario $stormsim_events" >> "$scratch/events"
done

echo
echo "stormsim's instructions per model event, by part of the program:"
"$python" - "$scratch" << 'EOF'
import collections, re, subprocess, sys

scratch = sys.argv[1]
# First match wins: (part, pattern on the source file callgrind names).
PARTS = [
    ("event list: heap, lanes, dispatch", r"engine/(queue|mod)\.rs|binary_heap|simulation\.rs"),
    ("request and attempt slots", r"engine/slab\.rs"),
    ("statistics: meters, recorder, histograms", r"src/stats/"),
    ("random draws: ChaCha8, Exp, Gamma", r"rand|chacha|engine/rng\.rs"),
    ("arrival times: rate profile inversion", r"model/source\.rs|engine/time\.rs"),
    ("model: routing, admission, retries", r"src/model/"),
    ("inlined std: indexing, Vec/Option access, moves", r"/library/(core|alloc)/"),
    ("outputs: charts, CSV, JSON, report", r"src/report/|png|plotters|ab_glyph|ttf|fdeflate|csv|serde|image"),
]
events = dict(line.split() for line in open(f"{scratch}/events"))
columns = list(events)
table = {}
for scenario in columns:
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", f"{scratch}/stormsim-{scenario}.cg"],
        capture_output=True, text=True, check=True,
    ).stdout
    parts = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+?):", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        file = m.group(2)
        part = next((name for name, pattern in PARTS if re.search(pattern, file)), "other (startup, libc, ...)")
        parts[part] += int(m.group(1).replace(",", ""))
    table[scenario] = {part: n / int(events[scenario]) for part, n in parts.items()}
names = [name for name, _ in PARTS] + ["other (startup, libc, ...)"]
print(f"{'part':<50}" + "".join(f"{c:>10}" for c in columns))
for name in names:
    print(f"{name:<50}" + "".join(f"{table[c].get(name, 0):>10.0f}" for c in columns))
print(f"{'total':<50}" + "".join(f"{sum(table[c].values()):>10.0f}" for c in columns))
EOF
