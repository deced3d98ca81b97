#!/usr/bin/env bash
# Runs every benchmark in sequence; each prints its own figures and cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
for bench in throughput load ingest_memory list_documents login_kdf redeem_latency journal_verify grant_cost team_rotation vault_head web_bundle web_upload web_link_open; do
  echo "=== ${bench} ==="
  "$PYTHON" "benchmarks/${bench}.py"
  echo
done
