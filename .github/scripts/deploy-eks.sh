#!/usr/bin/env bash
# Rolls a Kubernetes Deployment on EKS out to a new image (container named after the
# Deployment) and waits for the rollout; if it does not complete, undoes it and fails.
# Usage: deploy-eks.sh <cluster> <namespace> <deployment> <image>
set -euo pipefail

cluster=$1
namespace=$2
deployment=$3
image=$4
timeout=${ROLLOUT_TIMEOUT:-10m}

export KUBECONFIG="${RUNNER_TEMP:-/tmp}/kubeconfig-$deployment"
aws eks update-kubeconfig --name "$cluster" --kubeconfig "$KUBECONFIG" >/dev/null

kubectl -n "$namespace" set image "deployment/$deployment" "$deployment=$image"
if kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout="$timeout"; then
  echo "$deployment rolled out with $image"
  exit 0
fi

echo "::error::$deployment did not roll out within $timeout; undoing the rollout"
kubectl -n "$namespace" rollout undo "deployment/$deployment"
if ! kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout="$timeout"; then
  echo "::error::$deployment did not recover after the undo either; look at its pods and events"
fi
exit 1
