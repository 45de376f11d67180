#!/usr/bin/env bash
# .ci/slurm_stop.sh - stop the daemons started by .ci/slurm_start.sh, by their recorded
# PIDs only (no pkill/killall). Idempotent. Order: slurmd, slurmctld,
# [slurmdbd, mariadbd,] munged.
set -uo pipefail

RUN_DIR=${SLURM_CI_RUN_DIR:-/tmp/slurm-ci/run}
log() { echo "[slurm_stop] $*"; }

alive() {  # pidfile program   (a zombie counts as dead)
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  running "$pid" && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$2" ]
}
running() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }

# cancel whatever is still queued/running, so no slurmstepd is left behind
if alive "$RUN_DIR/slurmctld.pid" slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 30); do
      [ -z "$(squeue -h -t R,CG,PD -o %A 2>/dev/null)" ] && break; sleep 1
    done
  fi
fi

stop() {  # name
  local name=$1 pidfile="$RUN_DIR/$1.pid" pid
  if ! alive "$pidfile" "$name"; then
    log "$name not running"; rm -f "$pidfile"; return 0
  fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 150); do running "$pid" || break; sleep 0.2; done
  if running "$pid"; then
    log "$name did not exit after SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null; sleep 0.5
  fi
  # reap if it is our own child (same shell); harmless otherwise
  wait "$pid" 2>/dev/null || true
  if running "$pid"; then
    log "ERROR: $name (pid $pid) still running"; return 1
  fi
  rm -f "$pidfile"
  log "$name stopped"
}

rc=0
stop slurmd || rc=1
stop slurmctld || rc=1
stop slurmdbd || rc=1     # only present with WITH_SLURMDBD=1
stop mariadbd || rc=1     # only present with WITH_SLURMDBD=1
stop munged || rc=1
# slurmctld drops privileges to SlurmUser and cannot delete its root-owned
# /run pid file; a stale one makes "apt-get remove slurmctld" fail (its prerm
# runs scancel when /run/slurmctld.pid exists)
rm -f /run/slurmctld.pid /run/slurmd.pid /run/slurmdbd.pid
# With no slurmctld running, a slurm.conf makes every `scontrol` call wait ~9 s for the
# controller -- and snakemake-executor-plugin-slurm runs `scontrol show config` when it is
# imported, i.e. in *every* snakemake run on this machine, local ones included (+9 s to a
# no-op rerun).  Move the CI slurm.conf aside (.ci/slurm_start.sh writes it again), so a
# slurm client without a cluster fails at once.  Only our own generated file is moved.
if [ $rc = 0 ] && head -n1 /etc/slurm/slurm.conf 2>/dev/null | grep -q "single-node CI cluster written by"; then
  mv /etc/slurm/slurm.conf "$RUN_DIR/slurm.conf.stopped" && log "moved the CI slurm.conf aside"
fi
exit $rc
