"""The runtime must run without torch, transformers or the export code."""
import subprocess
import sys

from .fixtures import write_clip


def _last_line_of(code: str) -> str:
    """Run `code` in a fresh interpreter; the last line it prints."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_transcription_imports_no_torch(tiny_model, tmp_path):
    clip = write_clip(tmp_path / "x.wav", 1.0, seed=0)
    code = (
        "import sys\n"
        "from qwen_asr_edge import Transcriber\n"
        f"Transcriber({str(tiny_model)!r}, max_new_tokens=2).transcribe({str(clip)!r})\n"
        "from qwen_asr_edge import cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'onnx', 'safetensors')"
        " or m.startswith('qwen_asr_edge.export'))\n"
        "print(bad)\n"
    )
    assert _last_line_of(code) == "[]"


def test_piped_cli_run_does_not_import_the_progress_bar(tiny_model, tmp_path):
    """Without a terminal there is no bar, so tqdm's import (40-100 ms of a cold start) is skipped."""
    clip = write_clip(tmp_path / "x.wav", 1.0, seed=0)
    code = (
        "import sys\n"
        "from qwen_asr_edge.cli import main\n"
        f"status = main(['transcribe', {str(clip)!r}, '-m', {str(tiny_model)!r}, '--max-new-tokens', '2'])\n"
        "print(status, 'tqdm' in sys.modules)\n"
    )
    assert _last_line_of(code) == "0 False"
