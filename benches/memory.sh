#!/usr/bin/env bash
# Peak memory of a run: every shipped scenario under `scenarios/` runs once with its whole
# run folder written (charts included), and the script prints each one's peak resident set
# (`/usr/bin/time -f %M`), largest last. It fails if one exceeds LIMIT_MB.
#
# Usage: benches/memory.sh
# Environment: LIMIT_MB (default 15).
set -euo pipefail
export LC_ALL=C

limit_mb=${LIMIT_MB:-15}
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is needed (apt install time)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "building stormsim (release) ..." >&2
stormsim=$(cd "$repo" && cargo build --release --locked --message-format=json |
    sed -n 's/.*"executable":"\([^"]*\/stormsim\)".*/\1/p' | tail -n 1)

echo "Peak resident set per shipped scenario (stormsim run, whole run folder), $(date -u +%Y-%m-%d):"
find "$repo/scenarios" -name '*.toml' | sort | while read -r scenario; do
    rm -rf "$scratch/run"
    /usr/bin/time -f %M -o "$scratch/rss" "$stormsim" run "$scenario" --out "$scratch/run" --quiet \
        > /dev/null 2> "$scratch/err" || true
    printf '%s %s\n' "$(tail -n 1 "$scratch/rss")" "${scenario#"$repo"/}"
done | sort -n | awk -v limit="$limit_mb" '
    { printf "%8.1f MB  %s\n", $1 / 1024, $2; if ($1 > max) max = $1 }
    END {
        printf "largest: %.1f MB (limit %s MB)\n", max / 1024, limit
        if (max / 1024 > limit) exit 1
    }'
