#!/usr/bin/env bash
# Pushes the loaded image blueprint/<service>:<tag> to the environment's ECR repository
# blueprint/<service> (account from the assumed role, region from AWS_REGION). Tags are
# immutable there, so an image already pushed (a re-run) is left as it is.
# Usage: push-image.sh <service> <tag>   Writes image=<uri> to GITHUB_OUTPUT.
set -euo pipefail

service=$1
tag=$2
region=${AWS_REGION:?AWS_REGION is not set}
account=$(aws sts get-caller-identity --query Account --output text)
registry="$account.dkr.ecr.$region.amazonaws.com"
repository="blueprint/$service"
image="$registry/$repository:$tag"

aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
if aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
  echo "$image is already in the registry"
else
  docker tag "blueprint/$service:$tag" "$image"
  docker push "$image"
fi
echo "image=$image" >>"$GITHUB_OUTPUT"
