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
# Each instruction is charged to the innermost frame of stormsim's own source that holds it
# (`addr2line -i` on callgrind's per-instruction counts), so the standard library's code
# inlined into a function (a heap's sift, a bounds check, a move) counts where it is used.
#
# Usage: benches/instructions.sh
# Environment: STORMSIM_BASELINE (the loop's source, default ../shared/bench/baseline from
# the repository), PYTHON (default python3). Needs valgrind.
set -euo pipefail
export LC_ALL=C

python=${PYTHON:-python3}
for tool in valgrind addr2line; do
    command -v $tool > /dev/null || { echo "error: $tool is needed (apt install valgrind binutils)" >&2; exit 2; }
done
# shellcheck source=benches/build-both.sh
source "$(dirname "$0")/build-both.sh"

# Instructions of a whole process under callgrind; its profile goes to "$scratch/$1.cg".
instructions() {
    local name=$1
    shift
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$scratch/$name.cg" "$@" > "$scratch/$name.out" 2> "$scratch/$name.err" ||
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
"$python" - "$scratch" "$stormsim" << 'EOF'
import collections, re, subprocess, sys

scratch, binary = sys.argv[1], sys.argv[2]
# The part of the program an instruction belongs to, from the innermost frame of our own
# source holding it: (part, pattern on "file:line function"); the first match wins.
PARTS = [
    ("event list: heap, lanes, dispatch", r"src/engine/(queue|mod)\.rs|src/simulation\.rs"),
    ("request and attempt slots", r"src/engine/slab\.rs"),
    ("statistics: meters, recorder, histograms", r"src/stats/"),
    ("random draws and arrival times", r"src/engine/(rng|time)\.rs|src/model/source\.rs|CpuCost.*sample"),
    ("request path: client, balancer, instance", r"src/model/"),
    ("reading the scenario, outputs", r"src/"),
]
OTHER = "other: ChaCha blocks, libc, PNG encoding"


def self_costs(path):
    """Instructions per address, from a callgrind profile written with --dump-instr=yes."""
    costs, addr, skip = collections.Counter(), 0, False
    for line in open(path):
        if line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost
            continue
        fields = line.split()
        if len(fields) < 3 or not re.match(r"^(0x[0-9a-f]+|[+-]\d+|\*)$", fields[0]):
            continue
        token = fields[0]
        if token.startswith("0x"):
            addr = int(token, 16)
        elif token[0] in "+-":
            addr += int(token)
        if skip:
            skip = False
            continue
        costs[addr] += int(fields[2])
    return costs


def parts_of(costs):
    """Instructions per part: each address goes to the innermost frame in stormsim's src/."""
    addrs = list(costs)
    out = subprocess.run(
        ["addr2line", "-a", "-f", "-i", "-C", "-e", binary],
        input="\n".join(hex(a) for a in addrs), capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    frames, addr, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            addr, i = int(out[i], 16), i + 1
            frames[addr] = []
            continue
        frames[addr].append((out[i], out[i + 1] if i + 1 < len(out) else ""))
        i += 2
    parts = collections.Counter()
    for addr in addrs:
        ours = [f"{loc} {fn}" for fn, loc in frames.get(addr, [])
                if "/src/" in loc and "/.cargo/" not in loc and "/rustc/" not in loc]
        site = ours[0] if ours else ""
        part = next((name for name, pattern in PARTS if site and re.search(pattern, site)), OTHER)
        parts[part] += costs[addr]
    return parts


events = dict(line.split() for line in open(f"{scratch}/events"))
columns = list(events)
table = {c: parts_of(self_costs(f"{scratch}/stormsim-{c}.cg")) for c in columns}
names = [name for name, _ in PARTS] + [OTHER]
print(f"{'part':<45}" + "".join(f"{c:>9}" for c in columns))
for name in names:
    print(f"{name:<45}" + "".join(f"{table[c][name] / int(events[c]):>9.0f}" for c in columns))
print(f"{'total':<45}" + "".join(f"{sum(table[c].values()) / int(events[c]):>9.0f}" for c in columns))
EOF
