#!/usr/bin/env bash
# local_slurm.sh: start a throw-away single-node SLURM cluster on this machine, run one
# command against it, and take the cluster down again (the proof that the SLURM profile works).
#
#   scripts/local_slurm.sh [snakemake args...]   # scripts/lisse run --profile workflow/profiles/slurm [args...]
#   scripts/local_slurm.sh -- command [args...]  # any command, e.g. -- sbatch --wrap hostname
#
# Needs root (slurmd runs jobs as root here) and Debian's slurm-wlm + munge (installed with
# apt-get when missing). munged, slurmctld and slurmd keep their key, socket, state, logs and
# config in a temporary directory; the config is also copied to /etc/slurm/slurm.conf for
# the run, because job steps drop SLURM_CONF (an existing file there is backed up and
# restored). Every daemon started here is stopped by its PID when the script exits, also on
# failure or Ctrl-C. The venv's snakemake-executor-plugin-slurm is installed if missing.
#
# Environment: LISSE_VENV (default .venv), LISSE_SLURM_KEEP=1 keeps the temporary directory
# (logs: slurmctld.log, slurmd.log, munged.log), LISSE_SLURM_TIMEOUT seconds to wait for the
# node to come up (default 60).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LISSE_VENV:-$ROOT/.venv}
TIMEOUT=${LISSE_SLURM_TIMEOUT:-60}
ETC_CONF=/etc/slurm/slurm.conf
LOCK=$([[ -d /run/lock ]] && echo /run/lock || echo /tmp)/lisse-local-slurm.lock

say() { printf 'local_slurm: %s\n' "$*" >&2; }
die() { printf 'local_slurm: error: %s\n' "$*" >&2; exit 1; }

# --- what to run -------------------------------------------------------------------------
to_run=()
extra=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == -- ]]; then shift; to_run=("$@"); break; fi
    extra+=("$1"); shift
done
if [[ ${#to_run[@]} -eq 0 ]]; then
    # The first status check comes 5 s after a submission instead of the plugin's 40 s: the
    # jobs of this one-node cluster are short, and nobody else polls its slurmctld.
    to_run=("$ROOT/scripts/lisse" run --profile workflow/profiles/slurm
             --slurm-init-seconds-before-status-checks 5 "${extra[@]}")
elif [[ ${#extra[@]} -gt 0 ]]; then
    die "arguments before '--' (${extra[*]}) only go with the default command"
fi

# --- prerequisites -----------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "must run as root (slurmd of this one-node cluster runs jobs as root)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get to install them"
    say "installing slurm-wlm and munge with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if [[ ! -x $VENV/bin/python ]]; then
    "$ROOT/scripts/lisse" setup
fi
if ! "$VENV/bin/python" -c 'import snakemake_executor_plugin_slurm' >/dev/null 2>&1; then
    say "installing snakemake-executor-plugin-slurm into $VENV"
    "$VENV/bin/python" -m pip install --quiet snakemake-executor-plugin-slurm
fi

# One local cluster at a time: the ports and /etc/slurm/slurm.conf are shared.
exec 9>"$LOCK"
flock -n 9 || die "another local SLURM cluster of this script is running (lock $LOCK)"
for port in 6817 6818; do
    if ss -Hltn "sport = :$port" | grep -q .; then
        die "port $port is in use: is another slurmctld/slurmd running on this machine?"
    fi
done

# --- state, cleanup ----------------------------------------------------------------------
STATE=$(mktemp -d /tmp/lisse-slurm.XXXXXX)
chmod 700 "$STATE"
MUNGE_PID="" CTLD_PID="" SLURMD_PID=""
ETC_BACKUP="" ETC_CREATED_DIR=0 ETC_INSTALLED=0

stop_pid() {  # stop_pid NAME PID: SIGTERM, then SIGKILL after 15 s
    local name=$1 pid=$2 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
        sleep 0.1
    done
    say "$name (pid $pid) ignored SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    set +e
    if [[ -n $CTLD_PID ]] && kill -0 "$CTLD_PID" 2>/dev/null; then
        # Jobs left behind (an interrupted run) are cancelled before their slurmd goes away.
        if [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
            say "cancelling jobs still in the queue"
            scancel --full $(squeue -h -o %i) 2>/dev/null
            for ((i = 0; i < 60; i++)); do
                [[ -z $(squeue -h -t PD,R,CG,CF -o %i 2>/dev/null) ]] && break
                sleep 0.5
            done
        fi
    fi
    stop_pid slurmd "$SLURMD_PID"
    stop_pid slurmctld "$CTLD_PID"
    stop_pid munged "$MUNGE_PID"
    if [[ -n $ETC_BACKUP ]]; then
        cp -p "$ETC_BACKUP" "$ETC_CONF" && say "restored the previous $ETC_CONF"
    elif [[ $ETC_INSTALLED -eq 1 ]]; then
        rm -f "$ETC_CONF"
        [[ $ETC_CREATED_DIR -eq 1 ]] && rmdir /etc/slurm 2>/dev/null
    fi
    if [[ $status -ne 0 && -f $STATE/slurmctld.log ]]; then
        say "last lines of the daemon logs:"
        tail -n 5 "$STATE"/slurmctld.log "$STATE"/slurmd.log "$STATE"/munged.log >&2 2>/dev/null
    fi
    if [[ ${LISSE_SLURM_KEEP:-0} == 1 ]]; then
        say "kept $STATE"
    else
        rm -rf "$STATE"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- munge: own key and socket -----------------------------------------------------------
mkdir -m 700 "$STATE/munge"
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
SOCKET=$STATE/munge/munge.socket
# setsid: a Ctrl-C to this script must not kill the daemons before the jobs are cancelled.
setsid munged --foreground --force --socket="$SOCKET" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --seed-file="$STATE/munge/munged.seed" \
    --log-file="$STATE/munged.log" </dev/null >>"$STATE/munged.log" 2>&1 &
MUNGE_PID=$!
for ((i = 0; i < 50; i++)); do [[ -S $SOCKET ]] && break; sleep 0.1; done
munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null || die "munged does not answer on $SOCKET"

# --- slurm.conf --------------------------------------------------------------------------
CPUS=$(nproc)
MEMORY_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.85 }' /proc/meminfo)
mkdir -p "$STATE/ctld" "$STATE/spool"
CONF=$STATE/slurm.conf
cat >"$CONF" <<EOF
# Single-node SLURM for lisse's HPC-profile test (scripts/local_slurm.sh); throw-away.
ClusterName=local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 min: the executor plugin polls with squeue
# (no accounting database here) and wants MinJobAge >= 3x its first-check delay.
MinJobAge=600
NodeName=localhost CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$CONF

# Job steps (srun inside a batch job) drop SLURM_CONF: the config must be at the default path.
if [[ ! -d /etc/slurm ]]; then mkdir -p /etc/slurm; ETC_CREATED_DIR=1; fi
if [[ -e $ETC_CONF ]]; then
    ETC_BACKUP=$STATE/etc-slurm.conf.orig
    cp -p "$ETC_CONF" "$ETC_BACKUP"
fi
ETC_INSTALLED=1
cp "$CONF" "$ETC_CONF"

# --- daemons -----------------------------------------------------------------------------
setsid slurmctld -D -c -i -f "$CONF" </dev/null >>"$STATE/slurmctld.out" 2>&1 &
CTLD_PID=$!
setsid slurmd -D -N localhost -f "$CONF" </dev/null >>"$STATE/slurmd.out" 2>&1 &
SLURMD_PID=$!
say "munged pid $MUNGE_PID, slurmctld pid $CTLD_PID, slurmd pid $SLURMD_PID (state in $STATE)"

for ((i = 0; i < TIMEOUT * 2; i++)); do
    kill -0 "$CTLD_PID" 2>/dev/null || die "slurmctld exited: $(tail -n 3 "$STATE/slurmctld.out" "$STATE/slurmctld.log" 2>/dev/null)"
    kill -0 "$SLURMD_PID" 2>/dev/null || die "slurmd exited: $(tail -n 3 "$STATE/slurmd.out" "$STATE/slurmd.log" 2>/dev/null)"
    state=$(sinfo -h -N -n localhost -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.5
done
[[ $state == idle ]] || die "node localhost not idle after ${TIMEOUT}s (sinfo says '${state:-nothing}')"
say "cluster 'local' up: partition debug, node localhost, $CPUS CPUs, $MEMORY_MB MB"

# --- the command -------------------------------------------------------------------------
# Run in the background and wait, so that a SIGINT/SIGTERM to this script is handled at once:
# it is passed on to the command as SIGTERM (Snakemake then cancels its SLURM jobs), and the
# cluster is taken down when the command has ended.
say "running: ${to_run[*]}"
SIGNALLED=""
CMD_PID=""
pass_on() {
    SIGNALLED=$1
    [[ -n $CMD_PID ]] && kill -TERM "$CMD_PID" 2>/dev/null
    return 0
}
trap 'pass_on 130' INT
trap 'pass_on 143' TERM
set +e
"${to_run[@]}" <&0 &
CMD_PID=$!
while :; do
    wait "$CMD_PID"
    status=$?
    kill -0 "$CMD_PID" 2>/dev/null || break  # else wait was cut short by a signal
done
set -e
say "command exited with status $status"
[[ -n $SIGNALLED ]] && exit "$SIGNALLED"
exit "$status"
