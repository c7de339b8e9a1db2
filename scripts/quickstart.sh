#!/usr/bin/env bash
# Install the qwen-asr-edge runtime into .venv (numpy, onnxruntime, soundfile, soxr, tokenizers and the
# optional C++ extension; no torch) and transcribe the bundled samples with the bundled demo model: a tiny
# Qwen3-ASR-architecture model trained on synthetic voice-assistant speech (English and Mandarin), int8;
# then subtitles from word timestamps of the bundled demo forced aligner, and a live (streaming) run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
.venv/bin/qwen-asr-edge transcribe samples/en_office_temperature.wav samples/zh_timer.wav --timestamps --format json
.venv/bin/qwen-asr-edge transcribe samples/en_office_temperature.wav --format srt
.venv/bin/qwen-asr-edge transcribe --stream samples/zh_timer.wav
