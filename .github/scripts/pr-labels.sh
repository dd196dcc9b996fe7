#!/usr/bin/env bash
# Sets the pull request's plan labels from the comment's totals (drift comment --summary-out):
#   no-changes  every stack planned and none has changes or drift
#   destroy     some stack destroys or replaces a resource
# Usage: pr-labels.sh <pr-number> <summary.json>
set -euo pipefail

pr=$1
summary=$2
repo=$GITHUB_REPOSITORY

gh label create no-changes --repo "$repo" --force --color 0E8A16 \
  --description "Terraform plans of every stack are empty" >/dev/null
gh label create destroy --repo "$repo" --force --color B60205 \
  --description "A Terraform plan destroys or replaces resources" >/dev/null

label() {
  local name=$1 wanted=$2
  if [ "$wanted" = true ]; then
    gh api --method POST "repos/$repo/issues/$pr/labels" -f "labels[]=$name" >/dev/null
  else
    # DELETE answers 404 when the label is not on the pull request; that is the state we want.
    gh api --method DELETE "repos/$repo/issues/$pr/labels/$name" >/dev/null 2>&1 || true
  fi
}

label no-changes "$(jq -r '(.add + .change + .destroy + .replace + .drift + .other) == 0 and (.failed | length) == 0' "$summary")"
label destroy "$(jq -r '(.destroy + .replace) > 0' "$summary")"
