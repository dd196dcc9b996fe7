#!/usr/bin/env bash
# Rolls an ECS service out to a new image: registers a new revision of its current task
# definition with the image swapped in its container (named after the service), updates the
# service and waits until it is stable on that revision. If it does not get there (including
# when the deployment circuit breaker rolled it back), the service is put back on the previous
# revision and the script fails.
# Usage: deploy-ecs.sh <cluster> <service> <image>
set -euo pipefail

cluster=$1
service=$2
image=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

current() {
  aws ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].taskDefinition' --output text
}

previous=$(current)
if [ -z "$previous" ] || [ "$previous" = None ]; then
  echo "::error::no ECS service $service in cluster $cluster"
  exit 1
fi

aws ecs describe-task-definition --task-definition "$previous" --query taskDefinition >"$work/current.json"
if ! jq -e --arg name "$service" '.containerDefinitions | any(.name == $name)' "$work/current.json" >/dev/null; then
  echo "::error::task definition $previous has no container named $service"
  exit 1
fi
jq --arg name "$service" --arg image "$image" '
  .containerDefinitions |= map(if .name == $name then .image = $image else . end)
  | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
        .registeredAt, .registeredBy, .deregisteredAt)' "$work/current.json" >"$work/next.json"
next=$(aws ecs register-task-definition --cli-input-json "file://$work/next.json" \
  --query taskDefinition.taskDefinitionArn --output text)
echo "registered $next (was $previous)"

aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "$next" >/dev/null
if aws ecs wait services-stable --cluster "$cluster" --services "$service" && [ "$(current)" = "$next" ]; then
  echo "$service is stable on $next"
  exit 0
fi

echo "::error::$service did not become stable on $next; rolling back to $previous"
aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "$previous" >/dev/null
if ! aws ecs wait services-stable --cluster "$cluster" --services "$service"; then
  echo "::error::$service did not become stable after the rollback either; look at the service events"
fi
exit 1
