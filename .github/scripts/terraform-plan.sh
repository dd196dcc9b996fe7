#!/usr/bin/env bash
# Plans one synthesized stack without taking the state lock (the plan role cannot write it) and
# writes what the drift tool and reviewers read:
#   <out>/plan.json  `terraform show -json` (holds sensitive values: never upload it)
#   <out>/plan.txt   the human-readable plan (Terraform masks sensitive values there)
# Usage: terraform-plan.sh <stack-dir> <out-dir> [--refresh-only]
# Exits 0 whether or not there are changes; 1 when Terraform fails.
set -euo pipefail

dir=$1
out=$2
mode=${3:-}
mkdir -p "$out"

terraform -chdir="$dir" init -input=false -no-color -lock=false
terraform -chdir="$dir" validate -no-color

args=(plan -input=false -no-color -lock=false -detailed-exitcode -out=tfplan)
if [ "$mode" = "--refresh-only" ]; then
  args+=(-refresh-only)
fi

set +e
terraform -chdir="$dir" "${args[@]}"
code=$?
set -e
# -detailed-exitcode: 0 no changes, 1 error, 2 changes.
if [ "$code" -eq 1 ]; then
  echo "::error::terraform plan ${mode} failed in ${dir}"
  exit 1
fi

terraform -chdir="$dir" show -no-color tfplan >"$out/plan.txt"
terraform -chdir="$dir" show -json tfplan >"$out/plan.json"
rm -f "$dir/tfplan"
