#!/usr/bin/env bash
# Keeps one open issue per drifting stack: opens it when the report shows drift or pending
# changes, rewrites its body with each new report while they last, and closes it once clean.
# A stack without a report (its job failed) keeps its issue as it is.
# Usage: drift-issue.sh <stack> <report-dir> <run-url>
set -euo pipefail

stack=$1
dir=$2
run_url=$3
repo=$GITHUB_REPOSITORY
title="Drift: $stack"

if [ ! -f "$dir/report.json" ] || [ ! -f "$dir/report.md" ]; then
  echo "::warning::no drift report for $stack (its job failed); its issue is left as it is"
  exit 0
fi

number=$(gh issue list --repo "$repo" --label drift --state open --limit 200 --json number,title |
  jq -r --arg title "$title" 'map(select(.title == $title)) | .[0].number // empty')
findings=$(jq '.summary.drifted + .summary.pending' "$dir/report.json")

body="${RUNNER_TEMP:-/tmp}/drift-issue-$stack.md"
{
  cat "$dir/report.md"
  # The backticks are Markdown code, not command substitution.
  # shellcheck disable=SC2016
  printf '\n---\nUpdated by the [drift workflow](%s). Full report: artifact `drift-%s` of that run.\n' "$run_url" "$stack"
} >"$body"

if [ "$findings" -gt 0 ]; then
  if [ -n "$number" ]; then
    gh issue edit "$number" --repo "$repo" --body-file "$body" >/dev/null
    echo "$stack: updated issue #$number"
  else
    gh issue create --repo "$repo" --title "$title" --label drift --body-file "$body"
  fi
elif [ -n "$number" ]; then
  gh issue close "$number" --repo "$repo" \
    --comment "No drift and no pending changes in the [latest drift run]($run_url); closing."
  echo "$stack: closed issue #$number"
else
  echo "$stack: clean"
fi
