#!/usr/bin/env bash
# Finds the infra-pr run whose plans were reviewed for the pull request merged as <commit>: the
# latest successful run on the pull request's head commit. Writes run-id and pr to GITHUB_OUTPUT.
# Usage: find-reviewed-run.sh <merge-commit-sha>
set -euo pipefail

sha=$1
repo=$GITHUB_REPOSITORY

pr=$(gh api "repos/$repo/commits/$sha/pulls" --jq '[.[] | select(.merged_at != null)][0].number // empty')
if [ -z "$pr" ]; then
  echo "::error::$sha did not come from a merged pull request. Infrastructure reaches main only through a pull request whose plan was reviewed."
  exit 1
fi
head=$(gh api "repos/$repo/pulls/$pr" --jq .head.sha)
run=$(gh api "repos/$repo/actions/workflows/infra-pr.yml/runs?head_sha=$head&event=pull_request&status=success&per_page=1" \
  --jq '.workflow_runs[0].id // empty')
if [ -z "$run" ]; then
  echo "::error::no successful infra-pr run for pull request #$pr at $head: there is no reviewed plan to apply."
  exit 1
fi
echo "Reviewed plans: pull request #$pr, infra-pr run $run"
{
  echo "run-id=$run"
  echo "pr=$pr"
} >>"$GITHUB_OUTPUT"
