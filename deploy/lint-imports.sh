#!/usr/bin/env bash
# Check the kernel's layers ([tool.importlinter] in pyproject.toml) with import-linter.
# The project maps folders (core/, plugins/, ...) onto the hotline.* packages, which import-linter
# cannot follow through an editable install; it reads a tree of links named as the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/hotline"
for folder in core plugins channels portal admin speech; do
  ln -s "$PWD/$folder" "$tree/hotline/$folder"
done
(cd "$tree" && PYTHONPATH="$tree" "$OLDPWD/$VENV/bin/lint-imports" "$OLDPWD/pyproject.toml")
