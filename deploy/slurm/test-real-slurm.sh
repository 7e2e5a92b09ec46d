#!/usr/bin/env bash
# Runs deploy/slurm/ under a real single-node Slurm: installs Debian's slurm-wlm and munge
# when missing, starts munged, slurmctld and slurmd as plain daemons on a private
# configuration (own socket, ports and state in a temporary folder; nothing of the machine's
# own Slurm is touched), then:
#   1. submits a small sharded sweep with submit.sh, waits for its merge job, and compares
#      the merged sweep/ byte for byte with an unsharded `stormsim sweep`;
#   2. submits it again with one task failing, checks the merge job names that shard and the
#      command that reruns it, runs that command, and compares again;
#   3. checks submit.sh refuses requests the partition cannot give and a missing binary.
# Skips (exit 0, saying so) only where the packages are missing and cannot be installed.
#
#   deploy/slurm/test-real-slurm.sh [STORMSIM]     (default: target/debug/stormsim)
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin # the daemons, for a PATH without the system folders
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stormsim=$(realpath -- "${1:-$repo/target/debug/stormsim}")
[[ -x $stormsim ]] || { echo "no stormsim binary at $stormsim; build it first (cargo build)" >&2 && exit 2; }
# Generous: only catches a hang (a healthy wait here takes seconds).
wait_limit=${STORMSIM_SLURM_WAIT:-900}

skip() {
    echo "== real Slurm: SKIPPED: $*"
    exit 0
}
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null ||
    ! command -v sbatch >/dev/null; then
    [[ $(id -u) == 0 ]] || skip "slurm-wlm and munge are not installed, and installing them needs root"
    command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed, and there is no apt-get"
    install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null 2>&1; }
    install || { apt-get update >/dev/null 2>&1 && install; } ||
        skip "apt-get could not install slurm-wlm and munge (no package source reachable?)"
fi
[[ $(id -u) == 0 ]] || skip "starting slurmd needs root"

work=$(mktemp -d /tmp/stormsim-slurm.XXXXXX)
chmod 755 "$work" # munged serves its socket only from a folder everyone may enter
stop_daemons() {
    # Only the daemons started here, by their pid files.
    for name in slurmd slurmctld munged; do
        if [[ -s $work/$name.pid ]]; then kill "$(cat "$work/$name.pid")" 2>/dev/null || true; fi
    done
}
trap stop_daemons EXIT
fail() {
    echo "== real Slurm: FAILED: $*" >&2
    for log in "$work"/*.log "$work"/results*/logs/*.out; do
        [[ -f $log ]] && { echo "--- $log" && tail -n 30 "$log"; } >&2
    done
    exit 1
}

# munge: a fresh key and its own socket, so a munged already running is left alone.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge.key"
munged --socket="$work/munge.socket" --key-file="$work/munge.key" --log-file="$work/munged.log" \
    --pid-file="$work/munged.pid" --seed-file="$work/munged.seed" || fail "munged did not start"

# A free pair of ports for slurmctld and slurmd.
port=16817
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || (echo >"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; do
    port=$((port + 2))
done
host=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=stormsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
$(slurmd -C | head -n 1) NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=02:00:00 State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
node_cpus=$(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')

# Waits until the command after `what` succeeds, or fails after wait_limit seconds.
wait_for() {
    local what=$1 waited=0
    shift
    until "$@"; do
        ((waited < wait_limit)) || fail "waited ${wait_limit}s for $what; squeue: $(squeue 2>&1)"
        sleep 1
        waited=$((waited + 1))
    done
}
node_idle() { [[ $(sinfo -h -N -o %t 2>/dev/null) == idle ]]; }
wait_for "the node to be idle" node_idle
echo "== real Slurm: $(sinfo --version), one node with $node_cpus CPUs"

job_state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
job_ended() { ! [[ $(job_state "$1") =~ ^(PENDING|CONFIGURING|RUNNING|COMPLETING)$ ]]; }
# Waits for a job to end; prints its final state.
wait_job() {
    wait_for "job $1 to end" job_ended "$1"
    job_state "$1"
}
job_of() { sed -n "s/^$1 job \([0-9]*\):.*/\1/p" <<<"$2"; }
# The merged folder equals the unsharded one: every file byte for byte, report.html up to its
# presentation (the scenario's notes, the command line it was made by).
presented() { perl -0pe 's/<h2>(The scenario.s assumptions|Reproduce)<\/h2>.*//s' "$1"; }
same_folder() {
    local file
    diff <(cd "$1" && ls) <(cd "$2" && ls) >&2 || return 1
    for file in "$1"/*; do
        if [[ ${file##*/} == report.html ]]; then
            cmp <(presented "$file") <(presented "$2/report.html") || return 1
        else
            cmp "$file" "$2/${file##*/}" || return 1
        fi
    done
}

scenario=$repo/scenarios/examples/capacity-mmc.toml
flags=(--param "services.backend.cores=6,7,8" --replications 2 --param simulation.duration=1m)
cd "$work"
"$stormsim" sweep "$scenario" "${flags[@]}" --quiet --out "$work/whole" >"$work/whole.txt" ||
    fail "the unsharded sweep failed"

echo "== real Slurm: 3 shards, submitted, merged, compared"
out=$(STORMSIM=$stormsim "$repo/deploy/slurm/submit.sh" --results "$work/results" --time 10 \
    "$scenario" 3 "${flags[@]}") || fail "submit.sh failed: $out"
echo "$out"
merge=$(job_of merge "$out")
[[ -n $merge && -n $(job_of array "$out") ]] || fail "submit.sh did not name its array and merge jobs"
state=$(wait_job "$merge")
[[ $state == COMPLETED ]] || fail "the merge job ended $state"
same_folder "$work/results/sweep" "$work/whole" || fail "the merged sweep/ differs from the unsharded sweep"
for shard in 0 1 2; do
    grep -q '"threads":1' "$work/results/shard-$shard.json" ||
        fail "shard $shard did not run on the 1 CPU it asked for: $(grep -o '"threads":[0-9]*' "$work/results/shard-$shard.json")"
done
echo "ok: merged sweep/ is byte-identical to the unsharded sweep; each task ran on 1 thread (--cpus 1)"

echo "== real Slurm: a failed task, reported by the merge job and rerun with its command"
# A binary that fails once, as shard 1: a task lost to a node failure.
cat >"$work/flaky-stormsim" <<EOF
#!/bin/sh
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 1 ] && rm "$work/fail-once" 2>/dev/null; then
    echo "injected failure of shard 1" >&2
    exit 1
fi
exec "$stormsim" "\$@"
EOF
chmod +x "$work/flaky-stormsim"
touch "$work/fail-once"
cpus=$((node_cpus >= 2 ? 2 : 1))
out=$(STORMSIM=$work/flaky-stormsim "$repo/deploy/slurm/submit.sh" --results "$work/results-failed" \
    --cpus "$cpus" --mem 200M --time 0:10:00 "$scenario" 3 "${flags[@]}") || fail "submit.sh failed: $out"
echo "$out"
merge=$(job_of merge "$out")
state=$(wait_job "$merge")
[[ $state == FAILED ]] || fail "the merge job of a failed array ended $state, not FAILED"
log=$work/results-failed/logs/merge-$merge.out
grep -q "missing shard 1 of 3" "$log" || fail "the merge log does not name the missing shard"
[[ ! -e $work/results-failed/sweep ]] || fail "a failed merge left a sweep/ folder"
rerun=$(grep -A 1 "run them again" "$log" | tail -n 1)
[[ $rerun == *"--rerun 1 "* ]] || fail "the merge log does not give the rerun command: $rerun"
echo "merge log: $(tr '\n' ' ' <"$log")"
out=$(bash -c "$rerun") || fail "the rerun command failed: $out"
echo "$out"
state=$(wait_job "$(job_of merge "$out")")
[[ $state == COMPLETED ]] || fail "the merge after the rerun ended $state"
same_folder "$work/results-failed/sweep" "$work/whole" || fail "the recovered sweep/ differs from the unsharded sweep"
grep -q "\"threads\":$cpus" "$work/results-failed/shard-1.json" || fail "the rerun shard did not run on $cpus threads"
echo "ok: the merge job named shard 1 and its rerun command; after it, sweep/ is byte-identical"

echo "== real Slurm: requests the partition cannot give, and a missing binary"
refuse() {
    local expected=$1
    shift
    local out
    if out=$("$@" 2>&1); then fail "submit.sh accepted $*"; fi
    [[ $out == *"$expected"* ]] || fail "submit.sh refused $* without saying \"$expected\": $out"
    echo "refused: $(grep -m 1 error <<<"$out")"
}
submit=(env STORMSIM="$stormsim" "$repo/deploy/slurm/submit.sh" --results "$work/refused")
refuse "ask for --cpus $node_cpus or fewer" "${submit[@]}" --cpus $((node_cpus + 1)) "$scenario" 2
refuse "ask for --time 2:00:00 or less" "${submit[@]}" --time 3:00:00 "$scenario" 2
refuse "no node of partition test has more than" "${submit[@]}" --mem 100T "$scenario" 2
refuse "holds an earlier sweep" env STORMSIM="$stormsim" "$repo/deploy/slurm/submit.sh" \
    --results "$work/results" "$scenario" 2
refuse "set STORMSIM to its path" env STORMSIM="$work/nowhere/stormsim" "$repo/deploy/slurm/submit.sh" \
    "$scenario" 2
[[ -z $(squeue -h) ]] || fail "a refused submission left jobs: $(squeue)"
stop_daemons
sleep 1
rm -rf -- "$work"
echo "== real Slurm: passed"
