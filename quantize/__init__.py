"""Quantization passes over exported graphs (needs the [export] extra: onnx)."""
