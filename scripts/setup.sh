#!/usr/bin/env bash
# Set up snnc on a fresh machine: a virtual environment in .venv with snnc and all its extras.
# torch==2.13.0 is installed first: it is the small CPU wheel, and the project's torch range accepts it,
# so nothing later pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all]'
echo "snnc is installed in .venv (try: .venv/bin/snnc --help)"
