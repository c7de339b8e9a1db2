"""Load the tensors of a Hugging Face checkpoint directory under one canonical naming.

Canonical names are the official ones without the `thinker.` prefix:
  audio_tower.{conv2d1..3, conv_out, layers.N.*, ln_post, proj1, proj2}.*
  model.{embed_tokens, layers.N.*, norm}.*
  lm_head.weight                      (ASR: optional, tied to model.embed_tokens; aligner: [classify_num, H])
The transformers-native `-hf` layout keeps the projector outside the audio tower
(`model.multi_modal_projector.linear_{1,2}`) and the language model under `model.language_model`;
its aligner head is `score.weight`. Only safetensors are read: nothing is ever unpickled.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from qwen_asr_edge.errors import ModelDirError

_HF_RENAMES = (
    ("model.multi_modal_projector.linear_1.", "audio_tower.proj1."),
    ("model.multi_modal_projector.linear_2.", "audio_tower.proj2."),
    ("model.audio_tower.", "audio_tower."),
    ("model.language_model.", "model."),
    ("score.", "lm_head."),
    ("lm_head.", "lm_head."),
)


def canonical_name(name: str, layout: str) -> str | None:
    """Map a stored tensor name to its canonical name (None: not a tensor the model uses)."""
    if layout == "official":
        return name[len("thinker."):] if name.startswith("thinker.") else None
    for old, new in _HF_RENAMES:
        if name.startswith(old):
            return new + name[len(old):]
    return None


def _safetensor_files(ckpt_dir: Path) -> list[Path]:
    index = ckpt_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return [ckpt_dir / f for f in sorted(set(weight_map.values()))]
    files = sorted(ckpt_dir.glob("*.safetensors"))
    if not files:
        pickles = [p.name for p in ckpt_dir.glob("*.bin")] + [p.name for p in ckpt_dir.glob("*.pt")]
        hint = f" (found {', '.join(pickles)}: pickle files are never loaded; convert to safetensors)" if pickles else ""
        raise ModelDirError(f"{ckpt_dir}: no *.safetensors weights{hint}")
    return files


def load_state_dict(ckpt_dir: Path, layout: str, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """All model tensors of the checkpoint, canonically named, cast to `dtype`."""
    state: dict[str, torch.Tensor] = {}
    for path in _safetensor_files(Path(ckpt_dir)):
        if not path.is_file():
            raise ModelDirError(f"{ckpt_dir}: weight shard {path.name} is missing")
        with safe_open(str(path), framework="pt") as handle:
            for name in handle.keys():
                canon = canonical_name(name, layout)
                if canon is not None:
                    state[canon] = handle.get_tensor(name).to(dtype)
    if "model.embed_tokens.weight" not in state:
        raise ModelDirError(f"{ckpt_dir}: no token embedding in the weights (layout {layout!r})")
    return state


def save_official_checkpoint(model: torch.nn.Module, config: dict, out_dir: Path,
                             dtype: torch.dtype = torch.bfloat16, store_tied_head: bool = True) -> None:
    """Write `model` (canonical names) as an official-layout checkpoint: config.json + model.safetensors
    with `thinker.*` names. A tied ASR head is stored as a copy, as the released checkpoints do."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {f"thinker.{k}": v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    if store_tied_head and "thinker.lm_head.weight" not in state:
        state["thinker.lm_head.weight"] = state["thinker.model.embed_tokens.weight"].clone()
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
