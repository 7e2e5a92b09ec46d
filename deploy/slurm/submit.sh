#!/usr/bin/env bash
# Submits a sharded sweep to Slurm: an array job with one task per shard, then a merge job
# that starts once every task has succeeded.
#
#   deploy/slurm/submit.sh scenarios/examples/capacity-mmc.toml 8
#
# Results land in results/<scenario>-<date>/ : shard-<K>.json per task, then sweep/ (the
# same sweep.csv, sweep.json and charts as an unsharded `stormsim sweep`).
set -euo pipefail
scenario=${1:?usage: submit.sh SCENARIO [SHARDS] [extra sweep flags...]}
shards=${2:-8}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
results=${RESULTS:-results/$(basename "$scenario" .toml)-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$results/logs"
export SCENARIO="$scenario" RESULTS="$results" SWEEP_FLAGS="$*"
array=$(sbatch --parsable --array=0-$((shards - 1)) --output="$results/logs/shard-%a.out" \
    --export=ALL "$here/sweep.sbatch")
sbatch --parsable --dependency=afterok:"${array%%;*}" --output="$results/logs/merge.out" \
    --export=ALL "$here/merge.sbatch"
echo "submitted array job $array ($shards shards); results in $results"
