#!/usr/bin/env bash
# Set up and run the hotline on the embedded default: SQLite in ./hotline-data, one process,
# jobs in-process. Re-running is safe; it reuses the virtualenv and the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/setup-python.sh
source deploy/setup-python.sh
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e .
exec "$VENV/bin/hotline" serve "$@"
