"""qwen-asr-edge: Qwen3-ASR on CPUs, ARM boards and mobile NPUs with ONNX Runtime, fully offline.

This package (the runtime) never imports torch, transformers or the export code.
"""
__version__ = "0.1.0"

from .errors import AudioError, InputError, ModelDirError, QwenAsrEdgeError  # noqa: E402
from .transcriber import Segment, Transcriber, Transcription  # noqa: E402

__all__ = ["Transcriber", "Transcription", "Segment", "QwenAsrEdgeError", "ModelDirError", "AudioError",
           "InputError", "__version__"]
