"""Read a Qwen3-ASR / Qwen3-ForcedAligner `config.json` (official or transformers-native `-hf` layout).

The class defaults of the official configuration classes are Qwen3-Omni placeholders, so every size is
read from the file and a missing field is an error, never a silent default.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qwen_asr_edge.errors import ModelDirError


@dataclass(frozen=True)
class AudioConfig:
    num_mel_bins: int
    d_model: int
    encoder_layers: int
    encoder_attention_heads: int
    encoder_ffn_dim: int
    output_dim: int
    downsample_hidden_size: int
    n_window: int
    n_window_infer: int
    max_source_positions: int


@dataclass(frozen=True)
class TextConfig:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    rms_norm_eps: float
    rope_theta: float
    vocab_size: int
    tie_word_embeddings: bool


@dataclass(frozen=True)
class ModelConfig:
    kind: str  # "asr" | "aligner"
    layout: str  # "official" | "hf"
    audio: AudioConfig
    text: TextConfig
    audio_token_id: int
    audio_start_token_id: int
    audio_end_token_id: int
    classify_num: int | None
    timestamp_token_id: int | None
    timestamp_segment_time: float | None
    support_languages: tuple[str, ...]
    transformers_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pick(section: dict, cls: type, where: str, renames: dict[str, str] | None = None) -> Any:
    values = {}
    for name in cls.__dataclass_fields__:
        key = (renames or {}).get(name, name)
        if key not in section:
            raise ModelDirError(f"config.json: {where}.{key} is missing")
        values[name] = section[key]
    return cls(**values)


def _rope_theta(text: dict) -> float:
    if "rope_theta" in text:
        return float(text["rope_theta"])
    params = text.get("rope_parameters") or {}
    if "rope_theta" in params:
        return float(params["rope_theta"])
    raise ModelDirError("config.json: text_config.rope_theta is missing")


def _text_config(text: dict, tie: bool | None) -> TextConfig:
    text = dict(text)
    text["rope_theta"] = _rope_theta(text)
    if "head_dim" not in text:
        text["head_dim"] = text["hidden_size"] // text["num_attention_heads"]
    if tie is not None:
        text["tie_word_embeddings"] = tie
    text.setdefault("tie_word_embeddings", False)
    return _pick(text, TextConfig, "text_config")


def parse_config(raw: dict) -> ModelConfig:
    """Turn the parsed JSON of a checkpoint's config.json into a ModelConfig."""
    if raw.get("model_type") != "qwen3_asr":
        raise ModelDirError(
            f"config.json: model_type is {raw.get('model_type')!r}, expected 'qwen3_asr' "
            "(a Qwen3-ASR or Qwen3-ForcedAligner checkpoint)"
        )
    if "thinker_config" in raw:
        thinker = raw["thinker_config"]
        layout = "official"
        kind = "aligner" if "forced_aligner" in str(thinker.get("model_type", "")) else "asr"
        audio = _pick(thinker["audio_config"], AudioConfig, "thinker_config.audio_config")
        text = _text_config(thinker["text_config"], thinker["text_config"].get("tie_word_embeddings"))
        ids = thinker
        classify_num = thinker.get("classify_num") if kind == "aligner" else None
    else:
        layout = "hf"
        kind = "aligner" if raw.get("num_labels") or "ForTokenClassification" in str(raw.get("architectures")) else "asr"
        audio = _pick(raw["audio_config"], AudioConfig, "audio_config", {"max_source_positions": "max_position_embeddings"})
        text = _text_config(raw["text_config"], raw.get("tie_word_embeddings"))
        ids = {"audio_token_id": raw.get("audio_token_id"),
               "audio_start_token_id": raw.get("audio_start_token_id", 151669),
               "audio_end_token_id": raw.get("audio_end_token_id", 151670)}
        classify_num = raw.get("num_labels") if kind == "aligner" else None
    if audio.n_window != 50:
        raise ModelDirError(
            f"config.json: n_window={audio.n_window}; Qwen3-ASR's token-count formula hard-codes 100-frame chunks (n_window=50)"
        )
    return ModelConfig(
        kind=kind,
        layout=layout,
        audio=audio,
        text=text,
        audio_token_id=int(ids["audio_token_id"]),
        audio_start_token_id=int(ids["audio_start_token_id"]),
        audio_end_token_id=int(ids["audio_end_token_id"]),
        classify_num=classify_num,
        timestamp_token_id=raw.get("timestamp_token_id"),
        timestamp_segment_time=raw.get("timestamp_segment_time"),
        support_languages=tuple(raw.get("support_languages") or ()),
        transformers_version=raw.get("transformers_version"),
    )


def load_config(ckpt_dir: Path) -> ModelConfig:
    path = Path(ckpt_dir) / "config.json"
    if not path.is_file():
        raise ModelDirError(f"{ckpt_dir}: no config.json (not a Hugging Face checkpoint directory)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelDirError(f"{path}: not valid JSON ({exc})") from exc
    return parse_config(raw)
