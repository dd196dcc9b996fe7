#!/usr/bin/env bash
# Publishes dashboards/generated/grafana to an environment's Amazon Managed Grafana after apply:
# reads the workspace from the observability stack's outputs, mints a service-account token that
# lives 10 minutes, runs `npm run dashboards:publish`, and deletes the token.
# Usage: publish-dashboards.sh <env>   (in a job with the environment's AWS credentials)
set -euo pipefail

env="$1"
dir="cdktf.out/stacks/$env-observability"
endpoint=$(terraform -chdir="$dir" output -raw grafana_endpoint)
prometheus=$(terraform -chdir="$dir" output -raw prometheus_endpoint)
workspace="${endpoint%%.*}"

# The editor service account ManagedGrafana creates for the pipeline (modules/observability/managed-grafana.ts).
account=$(aws grafana list-workspace-service-accounts --workspace-id "$workspace" \
  --query "serviceAccounts[?name=='blueprint-deploy'].id | [0]" --output text)
if [ -z "$account" ] || [ "$account" = "None" ]; then
  echo "::error::no service account blueprint-deploy in Grafana workspace $workspace"
  exit 1
fi
created=$(aws grafana create-workspace-service-account-token --workspace-id "$workspace" \
  --service-account-id "$account" --name "publish-${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-1}" \
  --seconds-to-live 600)
token=$(jq -r .serviceAccountToken.key <<<"$created")
token_id=$(jq -r .serviceAccountToken.id <<<"$created")
echo "::add-mask::$token"
trap 'aws grafana delete-workspace-service-account-token --workspace-id "$workspace" --service-account-id "$account" --token-id "$token_id" >/dev/null' EXIT

GRAFANA_URL="https://$endpoint" GRAFANA_TOKEN="$token" PROMETHEUS_ENDPOINT="$prometheus" \
  PUBLISH_MESSAGE="${GITHUB_SHA:-local} (${GITHUB_RUN_ID:-manual run})" \
  npm run --silent dashboards:publish
