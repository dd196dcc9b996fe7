#!/usr/bin/env bash
# Publishes a drift report's metrics (Prometheus text format) to a Prometheus remote-write
# endpoint, such as the Amazon Managed Service for Prometheus workspace the alert rules run in.
#
# Prometheus itself does the sending: in agent mode it scrapes the file from a loopback HTTP
# server and remote-writes the terraform_drift_* series, signing requests with SigV4 from the
# job's AWS credentials when a region is given. The script waits until the agent reports every
# sample sent, and fails if any is rejected or nothing is sent within the timeout.
#
# Usage: publish-drift-metrics.sh <metrics.prom> <remote-write-url> [<sigv4-region>]
# Ports: PUBLISH_FILE_PORT (default 9464) and PUBLISH_AGENT_PORT (9465) on 127.0.0.1.
# Needs prometheus (2.x, agent mode) and python3 on PATH.
set -euo pipefail

metrics=$1
url=$2
region=${3:-}
file_port=${PUBLISH_FILE_PORT:-9464}
agent_port=${PUBLISH_AGENT_PORT:-9465}
timeout=${PUBLISH_TIMEOUT_SECONDS:-120}

expected=$(grep -c '^terraform_drift_' "$metrics" || true)
if [ "$expected" -eq 0 ]; then
  echo "::error::$metrics holds no terraform_drift_* samples"
  exit 1
fi

work=$(mktemp -d)
http_pid=
agent_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  for pid in $agent_pid $http_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/www"
cp "$metrics" "$work/www/metrics"
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$file_port" >"$work/http.log" 2>&1 &
http_pid=$!

sigv4=""
if [ -n "$region" ]; then
  sigv4=$(printf '    sigv4:\n      region: %s\n' "$region")
fi
cat >"$work/agent.yml" <<YAML
global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: terraform-drift
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:${file_port}"]
remote_write:
  - url: "${url}"
${sigv4}
    queue_config:
      batch_send_deadline: 1s
    write_relabel_configs:
      - source_labels: [__name__]
        regex: terraform_drift_.*
        action: keep
YAML

prometheus --enable-feature=agent --config.file="$work/agent.yml" \
  --storage.agent.path="$work/wal" --web.listen-address="127.0.0.1:${agent_port}" >"$work/agent.log" 2>&1 &
agent_pid=$!

# Sum of a counter of the agent's own metrics; 0 while the agent is not answering yet.
counter() {
  local page
  page=$(curl -fsS "http://127.0.0.1:${agent_port}/metrics" 2>/dev/null) || {
    echo 0
    return 0
  }
  awk -v name="$1" '$1 ~ "^"name"({|$)" { sum += $2 } END { printf "%d", sum }' <<<"$page"
}

deadline=$((SECONDS + timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  if ! kill -0 "$agent_pid" 2>/dev/null; then
    echo "::error::the Prometheus agent stopped"
    cat "$work/agent.log"
    exit 1
  fi
  failed=$(counter prometheus_remote_storage_samples_failed_total)
  if [ "${failed:-0}" -gt 0 ]; then
    echo "::error::the remote-write endpoint rejected $failed samples"
    cat "$work/agent.log"
    exit 1
  fi
  sent=$(counter prometheus_remote_storage_samples_total)
  if [ "${sent:-0}" -ge "$expected" ]; then
    echo "published $sent samples of $metrics to $url"
    exit 0
  fi
  sleep 1
done
echo "::error::timed out after ${timeout}s waiting for $expected samples to be sent to $url"
cat "$work/agent.log"
exit 1
