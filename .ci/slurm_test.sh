#!/usr/bin/env bash
# .ci/slurm_test.sh - the power simulation through the SLURM profile equals a local run.
#
# 0. installs requirements-cluster.txt (the SLURM executor plugin) into the virtual
#    environment of $SNAKEMAKE if the plugin is missing there (requirements.txt leaves it out);
# 1. installs Debian's slurm-wlm pieces + munge if missing and starts a one-node
#    cluster on localhost without systemd (.ci/slurm_start.sh; idempotent), then runs the
#    static profile checks with the plugin installed (tests/ops/test_slurm_profile.py);
# 2. runs a small power-simulation grid with `snakemake --profile profiles/slurm`
#    into one temporary folder, and the same grid locally (--cores) into another;
# 3. checks that the two power tables (and batch results) are identical;
# 4. stops the daemons it started, by their PIDs (.ci/slurm_stop.sh, on exit).
# A cluster that was already running is used and left running.
# Run as root (it installs packages and starts daemons).  About 1-2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
SNAKEMAKE=${SNAKEMAKE:-snakemake}
log() { echo "[slurm_test] $*"; }

# the SLURM executor plugin is for cluster users only (requirements-cluster.txt): install it into
# snakemake's virtual environment if missing, as the calling user (before becoming root)
PY="$(dirname "$(command -v "$SNAKEMAKE")")/python"
if ! "$PY" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null; then
  if ! "$PY" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    log "$SNAKEMAKE is not in a virtual environment: pip install -r requirements-cluster.txt into its environment"
    exit 1
  fi
  log "installing requirements-cluster.txt into $(dirname "$(dirname "$PY")")"
  "$PY" -m pip install -q -r requirements-cluster.txt
fi

if [ "$(id -u)" -ne 0 ]; then
  # e.g. a GitHub runner: root through passwordless sudo, keeping the venv on PATH
  if sudo -n true 2>/dev/null; then exec sudo -E env "PATH=$PATH" "$0" "$@"; fi
  echo "[slurm_test] needs root (apt-get, daemons): run as root or with passwordless sudo" >&2
  exit 1
fi
export SLURM_CI_RUN_DIR=${SLURM_CI_RUN_DIR:-/tmp/slurm-ci/run}
TIMEOUT=${SLURM_TEST_TIMEOUT:-900}
# small grid: 2 n x 2 IRR, 20 replicates each (one batch per point) -> 4 SLURM jobs + aggregate
GRID=${SLURM_TEST_GRID:-'simulation={n_per_arm: [40, 80], true_irr: [1.0, 0.7], dispersion: [0.5], attrition: [0.1], replicates: 20, batch_size: 20, cox: true, seed: 424242}'}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtw-slurm-test.XXXXXX")
was_running=0
if [ -s "$SLURM_CI_RUN_DIR/slurmctld.pid" ] && [ -d "/proc/$(cat "$SLURM_CI_RUN_DIR/slurmctld.pid")" ]; then
  was_running=1
fi
cleanup() {
  local rc=$?
  if [ "$was_running" = 0 ]; then .ci/slurm_stop.sh || rc=1; fi
  rm -rf "$WORK"
  log "exit $rc"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

.ci/slurm_start.sh
# the profile's keys against the installed plugin (skipped by a pytest run without the plugin)
"$PY" -m pytest -q -p no:cacheprovider tests/ops/test_slurm_profile.py

t0=$(date +%s)
log "power simulation through SLURM (profiles/slurm) into $WORK/slurm"
timeout -s INT "$TIMEOUT" "$SNAKEMAKE" --profile profiles/slurm --directory "$WORK/slurm" \
  --config "$GRID" -- power
t1=$(date +%s)
# the plugin deletes the logs of successful jobs; the run's own log names each submission
n_jobs=$(cat "$WORK/slurm/.snakemake/log/"*.snakemake.log | grep -c "submitted with SLURM jobid" || true)
log "SLURM run: $((t1 - t0)) s, $n_jobs jobs submitted with sbatch"
[ "$n_jobs" -gt 0 ] || { log "no job was submitted to SLURM"; exit 1; }

log "same grid locally into $WORK/local"
timeout -s INT "$TIMEOUT" "$SNAKEMAKE" --cores "$(nproc)" --directory "$WORK/local" \
  --config "$GRID" -- power
log "local run: $(( $(date +%s) - t1 )) s"

status=0
for f in results/simulation/power.csv results/simulation/power_detail.csv results/simulation/estimates.csv; do
  if cmp -s "$WORK/slurm/$f" "$WORK/local/$f"; then
    log "identical: $f"
  else
    log "DIFFERENT: $f"; diff "$WORK/slurm/$f" "$WORK/local/$f" | head -20; status=1
  fi
done
if ! diff -r -q "$WORK/slurm/results/simulation/batches" "$WORK/local/results/simulation/batches"; then
  log "DIFFERENT batch results"; status=1
fi
cat "$WORK/local/results/simulation/power.csv"
[ "$status" = 0 ] && log "OK: SLURM and local power simulations are identical"
exit "$status"
