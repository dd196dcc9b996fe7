#!/usr/bin/env bash
# Creates the pull request's plan comment, or updates it in place: the one comment written by
# github-actions[bot] whose body starts with the drift tool's marker.
# Usage: sticky-comment.sh <pr-number> <body-file>
set -euo pipefail

pr=$1
body=$2
marker='<!-- terraform-plan-comment -->'
repo=$GITHUB_REPOSITORY

id=$(gh api --paginate "repos/$repo/issues/$pr/comments" |
  jq -rs --arg marker "$marker" \
    '[.[][] | select(.user.login == "github-actions[bot]" and (.body | startswith($marker)))][0].id // empty')

if [ -n "$id" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" >/dev/null
  echo "updated comment $id"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" >/dev/null
  echo "created the plan comment"
fi
