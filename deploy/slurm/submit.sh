#!/usr/bin/env bash
# Submits a sharded sweep to Slurm: an array job with one task per shard, then a merge job
# that runs after the array whatever became of its tasks, and either writes RESULTS/sweep or
# names the shards to run again.
#
#   deploy/slurm/submit.sh [OPTIONS] SCENARIO [SHARDS] [SWEEP FLAGS...]
#   deploy/slurm/submit.sh [OPTIONS] --rerun K[,K...] RESULTS
#
#   --cpus N        CPUs per task; stormsim simulates on that many threads  [STORMSIM_CPUS, 1]
#   --time T        time limit per task, as Slurm writes it (30, 2:00:00, 1-0) [STORMSIM_TIME, 1:00:00]
#   --mem M         memory per task (500M, 2G)          [STORMSIM_MEM, the partition's default]
#   --partition P   the partition                       [STORMSIM_PARTITION, the cluster's default]
#   --results DIR   the results folder                  [RESULTS, results/<scenario>-<date>]
#   --force         reuse a results folder that holds an earlier sweep (removing its files)
#   --rerun K,...   run these shards of the sweep in RESULTS again (with its recorded
#                   scenario, flags and requests; options given here replace those), then merge
#
# SHARDS defaults to 8. STORMSIM names the binary (default: stormsim on the PATH). The binary,
# the scenario and the results folder must be on a filesystem every node sees. The requests
# are checked against the partition (sinfo) before anything is submitted. Results: RESULTS/
# shard-<K>.json per task, logs/, then sweep/ (what an unsharded `stormsim sweep` writes).
set -euo pipefail

die() {
    echo "submit.sh: error: $*" >&2
    exit 2
}
usage="usage: submit.sh [--cpus N] [--time T] [--mem M] [--partition P] [--results DIR] [--force] SCENARIO [SHARDS] [SWEEP FLAGS...]
       submit.sh [--cpus N] [--time T] [--mem M] [--partition P] --rerun K[,K...] RESULTS"

cpus=${STORMSIM_CPUS:-} time=${STORMSIM_TIME:-} mem=${STORMSIM_MEM:-} partition=${STORMSIM_PARTITION:-}
results=${RESULTS:-} force=false rerun=
while (($#)); do
    case $1 in
        --cpus | --time | --mem | --partition | --results | --rerun)
            (($# >= 2)) || die "$1 needs a value"
            declare "${1#--}=$2"
            shift 2
            ;;
        --force) force=true && shift ;;
        -h | --help) echo "$usage" && exit 0 ;;
        --) shift && break ;;
        -*) die "unknown option $1 (before the scenario; sweep flags go after it)"$'\n'"$usage" ;;
        *) break ;;
    esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -n $rerun ]]; then
    (($# == 1)) || die "--rerun takes the results folder of the sweep, and nothing else"$'\n'"$usage"
    results=$(realpath -- "$1")
    [[ -f $results/submission ]] || die "$results holds no submission record (submit.sh writes one)"
    # What the first submission recorded; options given now replace its requests.
    given=("$cpus" "$time" "$mem" "$partition")
    # shellcheck source=/dev/null
    source "$results/submission"
    [[ -n ${given[0]} ]] && cpus=${given[0]}
    [[ -n ${given[1]} ]] && time=${given[1]}
    [[ -n ${given[2]} ]] && mem=${given[2]}
    [[ -n ${given[3]} ]] && partition=${given[3]}
    stormsim=${STORMSIM:-$stormsim}
    [[ $rerun =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--rerun $rerun: expected shard numbers such as 3 or 1,5"
    IFS=, read -ra indexes <<<"$rerun"
    for shard in "${indexes[@]}"; do
        ((10#$shard < shards)) || die "--rerun: there is no shard $shard; shards are 0 to $((shards - 1))"
    done
    array=$rerun
else
    (($# >= 1)) || die "no scenario"$'\n'"$usage"
    scenario=$(realpath -- "$1") || die "no scenario file $1"
    [[ -f $scenario ]] || die "no scenario file $1"
    shift
    shards=8
    if (($#)) && [[ $1 =~ ^[0-9]+$ ]]; then
        shards=$((10#$1))
        shift
    fi
    ((shards >= 1)) || die "the shard count must be at least 1"
    flags=("$@")
    stormsim=${STORMSIM:-stormsim}
    results=${results:-results/$(basename "$scenario" .toml)-$(date +%Y%m%d-%H%M%S)}
    results=$(realpath -m -- "$results")
    array=0-$((shards - 1))
fi
cpus=${cpus:-1} time=${time:-1:00:00}

# The binary: every task runs it, so name it by an absolute path.
if ! found=$(command -v -- "$stormsim"); then
    die "the stormsim binary \"$stormsim\" is not found: set STORMSIM to its path (on a" \
        "filesystem every node sees), or put stormsim on the PATH"
fi
stormsim=$(realpath -- "$found")

# Slurm's durations: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. Prints seconds.
seconds() {
    local text=$1 days=0 a b c
    [[ $text =~ ^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$ ]] || return 1
    if [[ $text == *-* ]]; then
        days=${text%%-*} text=${text#*-}
        IFS=: read -r a b c <<<"$text"
        echo $(((((10#$days * 24 + 10#$a) * 60 + 10#${b:-0}) * 60) + 10#${c:-0}))
    else
        IFS=: read -r a b c <<<"$text"
        if [[ -n $c ]]; then echo $((((10#$a * 60 + 10#$b) * 60) + 10#$c)); else echo $((10#$a * 60 + 10#${b:-0})); fi
    fi
}
# Memory as sbatch reads it (megabytes without a unit). Prints megabytes.
megabytes() {
    [[ ${1^^} =~ ^([0-9]+)([KMGT]?)B?$ ]] || return 1
    local n=$((10#${BASH_REMATCH[1]}))
    case ${BASH_REMATCH[2]} in
        K) echo $(((n + 1023) / 1024)) ;;
        G) echo $((n * 1024)) ;;
        T) echo $((n * 1024 * 1024)) ;;
        *) echo "$n" ;;
    esac
}
if ! [[ $cpus =~ ^[0-9]+$ ]] || ((10#$cpus < 1)); then
    die "--cpus $cpus: expected a whole number of CPUs, at least 1"
fi
task_seconds=$(seconds "$time") || die "--time $time: expected a Slurm time such as 30 (minutes), 2:00:00 or 1-12:00:00"
if [[ -n $mem ]]; then
    task_mb=$(megabytes "$mem") || die "--mem $mem: expected a size such as 500M or 2G"
fi

# Refuse what the partition cannot give: such a job would pend for ever.
if command -v sinfo >/dev/null; then
    part=$partition
    [[ -n $part ]] || part=$(sinfo -h -o '%P' | sed -n 's/\*$//p' | head -n 1)
    [[ -n $part ]] || die "the cluster has no default partition: pass --partition"
    nodes=$(sinfo -h -N -p "$part" -o '%c %m') || die "sinfo cannot read partition $part"
    [[ -n $nodes ]] || die "partition $part has no nodes (sinfo -p $part)"
    max_cpus=$(awk '$1 + 0 > m { m = $1 + 0 } END { print m + 0 }' <<<"$nodes")
    max_mb=$(awk '$2 + 0 > m { m = $2 + 0 } END { print m + 0 }' <<<"$nodes")
    ((10#$cpus <= max_cpus)) ||
        die "--cpus $cpus: no node of partition $part has more than $max_cpus CPUs; ask for --cpus $max_cpus or fewer"
    if [[ -n $mem ]] && ((task_mb > max_mb)); then
        die "--mem $mem: no node of partition $part has more than ${max_mb}M; ask for --mem ${max_mb}M or less"
    fi
    limit=$(sinfo -h -p "$part" -o '%l' | head -n 1)
    if limit_seconds=$(seconds "$limit") && ((task_seconds > limit_seconds)); then
        die "--time $time: partition $part allows at most $limit per job; ask for --time $limit or less"
    fi
else
    echo "submit.sh: warning: sinfo not found; the requests are not checked against the partition" >&2
fi
requests=(--cpus-per-task="$cpus" --time="$time")
[[ -n $mem ]] && requests+=(--mem="$mem")
[[ -n $partition ]] && requests+=(--partition="$partition")

if [[ -z $rerun ]]; then
    # Check the scenario and flags here, once, rather than in every task.
    plan=$("$stormsim" sweep "$scenario" "${flags[@]}" --shard "0/$shards" --plan) ||
        die "stormsim refused the sweep (above); nothing was submitted"
    head -n 1 <<<"$plan"
    if [[ -e $results ]] && compgen -G "$results/shard-*.json" >/dev/null || [[ -e $results/sweep || -e $results/submission ]]; then
        $force || die "$results holds an earlier sweep; pass --force to replace it, or --results DIR"
        rm -rf -- "$results"/shard-*.json "$results/sweep" "$results/submission" "$results/logs"
    fi
    mkdir -p "$results/logs"
    # What --rerun needs to submit the same tasks again.
    {
        printf 'scenario=%q\nshards=%q\nstormsim=%q\n' "$scenario" "$shards" "$stormsim"
        printf 'cpus=%q\ntime=%q\nmem=%q\npartition=%q\n' "$cpus" "$time" "$mem" "$partition"
        printf 'flags=('
        ((${#flags[@]})) && printf ' %q' "${flags[@]}"
        printf ' )\n'
    } >"$results/submission"
fi

export SCENARIO=$scenario RESULTS=$results SHARDS=$shards STORMSIM=$stormsim SUBMIT=$here/submit.sh
array_job=$(sbatch --parsable --array="$array" "${requests[@]}" --output="$results/logs/shard-%a-%A.out" \
    --export=ALL "$here/sweep.sbatch" "${flags[@]}")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --dependency=afterany:"$array_job" --output="$results/logs/merge-%j.out" \
    ${partition:+--partition="$partition"} --export=ALL "$here/merge.sbatch")
merge_job=${merge_job%%;*}
echo "array job $array_job: shards $array of $shards, each $cpus CPU(s) for up to $time${mem:+ with $mem}"
echo "merge job $merge_job: runs after the array, whatever its outcome; log $results/logs/merge-$merge_job.out"
echo "results: $results (shard-<K>.json, then sweep/)"
echo "watch:   squeue -j $array_job,$merge_job"
