#!/usr/bin/env bash
# Runs the drift report tool on a stack's plans and writes every format into <out-dir>:
# report.json, report.md (within GitHub's body limit, room left for a footer) and metrics.prom.
# Usage: drift-report.sh <env> <stack> <out-dir> <artifact-name> <plan.json>...
# Exits 1 when the tool fails (bad plan, expired ignore entry); drift alone is not a failure.
set -euo pipefail

env=$1
stack=$2
out=$3
artifact=$4
shift 4

plans=()
for plan in "$@"; do
  plans+=(--plan "$plan")
done
# DRIFT_IGNORE_FILE overrides the ignore file; set it empty to use none.
ignore_file=${DRIFT_IGNORE_FILE-.github/drift-ignore.yml}
ignore=()
if [ -n "$ignore_file" ]; then
  ignore=(--ignore "$ignore_file")
fi
mkdir -p "$out"

run() {
  local code=0
  npm run --silent drift -- "${plans[@]}" "${ignore[@]}" --env "$env" --stack "$stack" "$@" || code=$?
  # The tool exits 2 when it finds drift or pending changes; only 1 is an error.
  if [ "$code" -eq 1 ]; then
    exit 1
  fi
}

run --format json --output "$out/report.json"
run --format markdown --output "$out/report.md" --limit 64000 --full-report "the artifact \`$artifact\`"
run --format prometheus --output "$out/metrics.prom"
