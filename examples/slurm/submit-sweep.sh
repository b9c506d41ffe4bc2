#!/bin/bash
# Submit every run of a sweep file as one job array, and the report job after it.
#   SWEEP=examples/sweeps/pusht-recipe.json examples/slurm/submit-sweep.sh [sbatch options, e.g. --time=03:00:00]
# Variables: SWEEP (the sweep file), LOGS (slurm-logs), SCD (how to run the CLI, default "npx scd").
# Prints "array=<job id> report=<job id>".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${SWEEP:?set SWEEP to the sweep file}"
export SWEEP
logs=${LOGS:-slurm-logs}
mkdir -p "$logs"
# shellcheck disable=SC2086
n=$(${SCD:-npx scd} sweep "$SWEEP" --count)
array=$(sbatch --parsable --array="0-$((n - 1))" --output="$logs/%x-%A_%a.out" "$@" "$here/sweep.sbatch")
array=${array%%;*}
report=$(sbatch --parsable --dependency="afterany:$array" --output="$logs/%x-%j.out" "$here/sweep-report.sbatch")
echo "array=$array report=${report%%;*}"
