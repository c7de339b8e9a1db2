"""The compute floor's operation counts (benchmarks/flops.py) against PyTorch's FLOP counter on the
reference model (export/reference_model.py) at the full 0.6B sizes, on the meta device (no memory, no time)."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.flops import decoder_flops, encoder_flops
from qwen_asr_edge.encoder import CHUNK_FRAMES, CHUNK_TOKENS
from qwen_asr_edge.export.config import parse_config
from qwen_asr_edge.export.random_checkpoint import CONFIGS, official_config
from qwen_asr_edge.export.reference_model import Qwen3ASR


@pytest.fixture(scope="module")
def model() -> Qwen3ASR:
    with torch.device("meta"):
        return Qwen3ASR(parse_config(official_config(CONFIGS["full-0.6b"])))


def counted(run) -> tuple[int, object]:
    """(FLOPs of run(), its result)."""
    with FlopCounterMode(display=False) as counter:
        result = run()
    return counter.get_total_flops(), result


@pytest.mark.parametrize("seconds", [8, 19])  # whole attention windows, and a partial last one
def test_encoder_count(model, seconds):
    audio = model.cfg.audio
    tokens = CHUNK_TOKENS * seconds
    window = CHUNK_TOKENS * (audio.n_window_infer // CHUNK_FRAMES)
    with torch.device("meta"):
        mel = torch.zeros(seconds, audio.num_mel_bins, CHUNK_FRAMES)
        windows = [torch.zeros(1, min(window, tokens - start), audio.d_model) for start in range(0, tokens, window)]
    total = counted(lambda: model.audio_tower.conv_stem(mel))[0] + sum(
        counted(lambda: model.audio_tower.transformer(w))[0] for w in windows)
    assert encoder_flops(audio, seconds) == total


def test_decoder_count(model):
    """Token by token with a growing cache is exactly the causal count of one prefill."""
    text, steps = model.cfg.text, 12
    kv = (1, text.num_key_value_heads, 0, text.head_dim)
    total = 0
    with torch.device("meta"):
        caches = [(torch.zeros(kv), torch.zeros(kv), torch.zeros(kv), torch.zeros(kv)) for _ in range(text.num_hidden_layers)]
        for step in range(steps):
            hidden = torch.zeros(1, 1, text.hidden_size)
            flops, (_, presents) = counted(lambda: model.model(hidden, torch.tensor([[step]]), caches))
            total += flops
            caches = [(c[0], c[1], presents[2 * i], presents[2 * i + 1]) for i, c in enumerate(caches)]
        head, _ = counted(lambda: hidden @ model.head_weight().T)
    assert decoder_flops(text, steps, 1, text.vocab_size) == total + head
