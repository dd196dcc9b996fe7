#!/usr/bin/env bash
# Applies one environment's stacks, dependencies first. For each stack: plan the merged code,
# compare the plan with the one reviewed in the pull request (drift compare), refuse on any
# difference, otherwise apply exactly that saved plan.
# Usage: terraform-apply.sh <env> <stacks-json> <reviewed-dir>
#   <stacks-json>   output of `npm run drift -- stacks`
#   <reviewed-dir>  holds plan-<stack>/report.json from the reviewed infra-pr run
set -euo pipefail

env=$1
stacks=$2
reviewed=$3
work=${RUNNER_TEMP:-/tmp}

mapfile -t rows < <(jq -c --arg env "$env" '.[] | select(.env == $env)' <<<"$stacks")
if [ "${#rows[@]}" -eq 0 ]; then
  echo "no stacks for $env"
  exit 0
fi

for row in "${rows[@]}"; do
  stack=$(jq -r .stack <<<"$row")
  dir=$(jq -r .dir <<<"$row")
  report="$reviewed/plan-$stack/report.json"
  echo "::group::$stack"
  if [ ! -f "$report" ]; then
    echo "::error::no reviewed plan for $stack in the pull request's run; refusing to apply it."
    exit 1
  fi
  terraform -chdir="$dir" init -input=false -no-color
  code=0
  terraform -chdir="$dir" plan -input=false -no-color -lock-timeout=10m -detailed-exitcode -out=tfplan || code=$?
  if [ "$code" -eq 1 ]; then
    echo "::error::terraform plan failed for $stack"
    exit 1
  fi
  terraform -chdir="$dir" show -json tfplan >"$work/$stack.plan.json"
  if ! npm run --silent drift -- compare --reviewed "$report" --plan "$work/$stack.plan.json"; then
    echo "::error::the plan for $stack is not the one reviewed in the pull request; refusing to apply. Open a pull request that shows this plan."
    exit 1
  fi
  if [ "$code" -eq 2 ]; then
    terraform -chdir="$dir" apply -input=false -no-color -lock-timeout=10m tfplan
  else
    echo "$stack: no changes"
  fi
  rm -f "$dir/tfplan" "$work/$stack.plan.json"
  echo "::endgroup::"
done
