#!/usr/bin/env bash
# Sourced by quickstart.sh and test.sh: make sure Python 3.11+ with venv exists, then a virtualenv.
# On a fresh Debian 12 (as root, as CI runs) it installs what is missing with apt-get.
set -euo pipefail
VENV="${HOTLINE_VENV:-.venv}"
PY="${PYTHON:-python3}"

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "please install: $* (e.g. sudo apt-get install $*)" >&2
    exit 1
  fi
}

if ! command -v "$PY" >/dev/null; then
  apt_install python3 python3-venv python3-pip
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Civic Hotline needs Python 3.11 or newer; $PY is $("$PY" -V 2>&1)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    apt_install python3-venv
    "$PY" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
export VENV
