"""Checkpoint -> ONNX exporter (needs the `[export]` extra: torch, onnx, onnxscript, safetensors)."""
from .exporter import export_checkpoint, load_reference_model

__all__ = ["export_checkpoint", "load_reference_model"]
