#!/usr/bin/env bash
# Wall time (and peak memory) of the whole pipeline: the default run cold and as a
# no-op rerun, and optionally the registry-scale run (10^6 participants).
#   bench/pipeline_timing.sh            # default pipeline: cold run, then no-op rerun
#   bench/pipeline_timing.sh --scale    # also config/scale.yaml (about 30-60 min on 2 cores)
# Each run goes into a fresh temporary folder (--directory), so results/ is untouched.
# Figures go into bench/RESULTS.md by hand (section "Whole pipeline").
set -euo pipefail
cd "$(dirname "$0")/.."
SNAKEMAKE=${SNAKEMAKE:-snakemake}
CORES=${CORES:-2}
W=$(mktemp -d "${TMPDIR:-/tmp}/rtw-timing.XXXXXX")
trap 'rm -rf "$W"' EXIT
t() {  # label, command...: wall time and max RSS of the process tree's largest process
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, max RSS %M kB" "$@" >"$W/$label.log" 2>"$W/$label.err" \
    || { tail -20 "$W/$label.err"; exit 1; }
  tail -1 "$W/$label.err"
}
t cold "$SNAKEMAKE" --cores "$CORES" --directory "$W/default" --quiet
t noop "$SNAKEMAKE" --cores "$CORES" --directory "$W/default" --quiet
if [ "${1:-}" = "--scale" ]; then
  t scale "$SNAKEMAKE" --configfile config/scale.yaml --cores "$CORES" --directory "$W/scale" --quiet
  for f in "$W"/scale/results/benchmarks/*.tsv; do
    echo "  $(basename "$f" .tsv): $(tail -1 "$f" | cut -f1) s, max RSS $(tail -1 "$f" | cut -f3) MB"
  done
fi
