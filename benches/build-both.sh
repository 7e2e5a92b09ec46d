# Sourced by the benchmark scripts: builds stormsim (release) and the bare event loop of
# the shared bench folder in a scratch folder, and sets `repo`, `baseline_src`, `scratch`
# (removed on exit), `stormsim` and `loop`.
#
# Environment: STORMSIM_BASELINE (the loop's source, default ../shared/bench/baseline from
# the repository).

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
baseline_src=${STORMSIM_BASELINE:-$repo/../shared/bench/baseline}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

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
# shellcheck disable=SC2034 # used by the scripts that source this one
loop=$scratch/baseline/target/release/baseline
