#!/usr/bin/env bash
# No-op rerun of the default pipeline against the floor `snakemake --version`, for one or
# more Python environments (e.g. with and without snakemake-executor-plugin-slurm):
#   bench/noop_timing.sh                          # the snakemake on PATH
#   bench/noop_timing.sh .venv /tmp/venv-noplugin # each argument: a venv (its bin/snakemake)
# The default pipeline runs once (cold, with the first environment) into a fresh temporary
# folder (--directory; results/ is untouched); then, for each environment, REPS (default 5)
# timed `snakemake --version` and no-op `snakemake --cores 2` runs, median reported.
# Writes the figures to bench/noop_timing.md (OUT=... to write elsewhere).  About 1 min.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
CORES=${CORES:-2}
OUT=${OUT:-bench/noop_timing.md}
export MPLBACKEND=Agg PYTHONHASHSEED=0 PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
# as a user's Python runs: compiled modules cached in __pycache__ (not compiled again on each start)
unset PYTHONDONTWRITEBYTECODE
W=$(mktemp -d "${TMPDIR:-/tmp}/rtw-noop.XXXXXX")
trap 'rm -rf "$W"' EXIT

if [ $# -eq 0 ]; then set -- "$(dirname "$(dirname "$(command -v snakemake)")")"; fi

seconds() {  # command...: wall seconds of one run (output to $W/last.log), 3 decimals
  local t0 t1
  t0=$(date +%s%N)
  "$@" >"$W/last.log" 2>&1 || { tail -20 "$W/last.log" >&2; return 1; }
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
range() { tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

echo "[noop_timing] cold run of the default pipeline into $W/run" >&2
cold=$(seconds "$1/bin/snakemake" --cores "$CORES" --directory "$W/run")
echo "[noop_timing] cold run: $cold s" >&2

load=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for venv in "$@"; do
  sm="$venv/bin/snakemake"
  if "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("snakemake_executor_plugin_slurm") is None)'; then
    plugin=yes
  else
    plugin=no
  fi
  version=() noop=() noparams=()
  for _ in $(seq "$REPS"); do
    version+=("$(seconds "$sm" --version)")
    noop+=("$(seconds "$sm" --cores "$CORES" --directory "$W/run")")
    grep -q "Nothing to be done" "$W/last.log" || { echo "not a no-op:" >&2; cat "$W/last.log" >&2; exit 1; }
    noparams+=("$(seconds "$sm" --cores "$CORES" --directory "$W/run" --rerun-triggers mtime input code software-env)")
  done
  row="| \`$venv\` | $plugin | $(echo "${version[*]}" | median) ($(echo "${version[*]}" | range))"
  row+=" | $(echo "${noop[*]}" | median) ($(echo "${noop[*]}" | range))"
  row+=" | $(echo "${noparams[*]}" | median) ($(echo "${noparams[*]}" | range)) |"
  echo "$row" >&2
  rows+=("$row")
done

{
  echo "# No-op rerun of the default pipeline"
  echo
  echo "Written by \`bench/noop_timing.sh $*\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load average before the"
  echo "timed runs $load, snakemake $("$1/bin/snakemake" --version), python $("$1/bin/python" -c 'import platform; print(platform.python_version())'))."
  echo "The default pipeline ran once (cold: $cold s) into a temporary folder; then, per environment, $REPS runs each"
  echo "of \`snakemake --version\` (the floor: snakemake's own start-up and plugin discovery) and of the no-op"
  echo "\`snakemake --cores $CORES --directory <that folder>\` (\`Nothing to be done\`). Median (min-max), seconds. Goal: no-op <= 2 s."
  echo "Last column, a diagnostic only: the same no-op without the \`params\` rerun trigger"
  echo "(\`--rerun-triggers mtime input code software-env\`): Snakemake's check of changed params imports pandas"
  echo "(\`snakemake.persistence._serialize_param_pandas\`) whenever pandas is installed."
  echo
  echo "| environment | SLURM plugin installed | \`snakemake --version\` | no-op rerun | no-op without the params trigger |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
echo "[noop_timing] wrote $OUT" >&2
