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
# CI only (CI=true, as root where apt-get works): Icarus Verilog, for the check that the hw/ library
# and the generated tops are Verilog-2005 it accepts (tests/hw/test_hw_lint.py and the generated
# designs' lint; skipped without it). A user's machine is left as it is.
if [ "${CI:-}" = true ] && ! command -v iverilog >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
        && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 300 apt-get install -y -q --no-install-recommends iverilog >/dev/null 2>&1; then
        timeout 300 apt-get update -q >/dev/null 2>&1 || true
        timeout 300 apt-get install -y -q --no-install-recommends iverilog >/dev/null 2>&1 \
            || echo "note: iverilog could not be installed: the Icarus checks will be skipped"
    fi
fi
echo "snnc is installed in .venv (try: .venv/bin/snnc --help)"
