"""The C++ core's own tests (tests/cpp/*.cc), compiled without Python against cpp_ext/core.

The log-mel test runs once per SIMD step this CPU has (QWEN_ASR_EDGE_MAX_SIMD caps the widest one), so the
AVX-512, AVX2 and baseline steps each show their bit-identity with the one-frame computation.
"""
import os
import shutil
import subprocess

import pytest

from .fixtures import REPO


@pytest.mark.parametrize("name", ["test_log_mel", "test_beam_step"])
def test_cpp_core(tmp_path, name):
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ not found: the C++ core tests need a compiler")
    exe = tmp_path / name
    sources = sorted(str(p) for p in (REPO / "cpp_ext" / "core").glob("*.cc"))
    subprocess.run([compiler, "-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
                    f"-I{REPO / 'cpp_ext'}", *sources, str(REPO / "tests" / "cpp" / f"{name}.cc"), "-o", str(exe)],
                   check=True)
    for cap in ("", "avx2", "baseline"):
        proc = subprocess.run([str(exe)], capture_output=True, text=True,
                              env={**os.environ, "QWEN_ASR_EDGE_MAX_SIMD": cap})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert " 0 failed" in proc.stdout
