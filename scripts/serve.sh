#!/usr/bin/env bash
# Installs everything and runs the service on the embedded default:
# SQLite and local files under ./wallet-data, on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/wallet serve --host "${WALLET_HOST:-127.0.0.1}" --port "${WALLET_PORT:-8000}"
