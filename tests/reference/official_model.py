"""The official implementation's side of the parity tests. Runs in the virtualenv of `qwen-asr` 0.0.6.

    python official_model.py build OUT_DIR --config tiny-a|tiny-b [--seed N]
        Random-weight checkpoint built with the official classes from a config dict and saved with
        `save_pretrained` (official `thinker.*` layout), plus preprocessor_config.json and
        chat_template.json. The caller adds the tokenizer files (Qwen3 tokenizer + ASR tokens).
    python official_model.py processor-files CKPT_DIR
        Adds preprocessor_config.json and chat_template.json (as `build` writes them) to a checkpoint.
    python official_model.py goldens CKPT_DIR OUT_DIR --audio A.wav [B.wav ...] [--context T] [--language L]
                             --max-new-tokens N
        For each clip (batch size 1): OUT_DIR/<i>.npz with `mel` [128, T], `encoder` [N_tok, out],
        `prompt_ids` [S], `tokens` [n], `logits` [n_steps, V] (raw logits of every generated step),
        and OUT_DIR/goldens.json with raw text, parsed (language, text) and the high-level
        `Qwen3ASRModel.transcribe` result, which must agree with the low-level generation.

Weights are made discriminating (different clips must give different tokens): weights ~ N(0, 1/fan_in),
biases ~ N(0, 0.5) (zero biases would hide the tail-chunk padding effect), norm weights ~ 1 + N(0, 0.1),
encoder query projections x3 and decoder q/k-norm weights x2.5 (q/k-norm would undo a q_proj scale) for
sharper attention, so the last prompt position depends on the audio.

The official transformers backend with sdpa/eager attends over the whole utterance in the encoder
(QwenLM/Qwen3-ASR #213); the trained model uses 8 s windows. `patch_encoder_windows` gives every encoder
layer the block mask the encoder already builds but never passes (as PR #103 does).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from qwen_asr import Qwen3ASRModel
from qwen_asr.core.transformers_backend import Qwen3ASRConfig, Qwen3ASRForConditionalGeneration
from qwen_asr.inference.utils import SUPPORTED_LANGUAGES, parse_asr_output

CONFIGS = {
    "tiny-a": dict(
        audio=dict(d_model=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=64, output_dim=48,
                   downsample_hidden_size=8),
        text=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                  intermediate_size=96, mrope_section=[4, 2, 2])),
    "tiny-b": dict(
        audio=dict(d_model=64, encoder_layers=3, encoder_attention_heads=4, encoder_ffn_dim=128, output_dim=64,
                   downsample_hidden_size=16),
        text=dict(hidden_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                  intermediate_size=160, mrope_section=[8, 4, 4])),
}

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|im_start|>system\n{{ message['content'] }}<|im_end|>\n"
    "{% elif message['role'] == 'user' %}<|im_start|>user\n"
    "{% for item in message['content'] %}{% if item['type'] == 'audio' %}"
    "<|audio_start|><|audio_pad|><|audio_end|>{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

PREPROCESSOR = {
    "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 128, "sampling_rate": 16000,
    "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
    "padding_side": "right", "padding_value": 0.0, "dither": 0.0, "return_attention_mask": True,
    "processor_class": "Qwen3ASRProcessor",
}


def build(out_dir: Path, name: str, seed: int, aligner_classes: int | None = None) -> None:
    """A random checkpoint of config `name`; with `aligner_classes`, a forced aligner with that many classes."""
    spec = CONFIGS[name]
    text = dict(spec["text"])
    mrope = text.pop("mrope_section")
    thinker = dict(
        audio_config=dict(num_mel_bins=128, n_window=50, n_window_infer=800, max_source_positions=1500, **spec["audio"]),
        text_config=dict(vocab_size=151936, rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=not aligner_classes,
                         rope_scaling=dict(rope_type="default", type="default", mrope_section=mrope,
                                           interleaved=True, mrope_interleaved=True), **text),
        audio_token_id=151676, audio_start_token_id=151669, audio_end_token_id=151670)
    extra = {}
    if aligner_classes:
        thinker.update(model_type="qwen3_forced_aligner", classify_num=aligner_classes)
        extra = dict(timestamp_token_id=151705, timestamp_segment_time=80)
    config = Qwen3ASRConfig(thinker_config=thinker, support_languages=SUPPORTED_LANGUAGES, **extra)
    model = Qwen3ASRForConditionalGeneration(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, p[0].numel() ** -0.5, generator=generator)
                if pname.endswith("q_proj.weight"):
                    p.mul_(3.0)
            elif pname.endswith("bias"):
                p.normal_(0.0, 0.5, generator=generator)
            else:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
                if pname.endswith(("q_norm.weight", "k_norm.weight")):
                    p.mul_(2.5)
    model.save_pretrained(out_dir)
    if aligner_classes:  # save_pretrained writes the class's model_type; released aligner configs say this one
        saved = json.loads((out_dir / "config.json").read_text())
        saved["thinker_config"]["model_type"] = "qwen3_forced_aligner"
        (out_dir / "config.json").write_text(json.dumps(saved, indent=2))
    write_processor_files(out_dir)


def write_processor_files(out_dir: Path) -> None:
    """The processor's files of a released checkpoint (our training script writes only model and tokenizer)."""
    (out_dir / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2))
    (out_dir / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=2))


def patch_encoder_windows(model: Qwen3ASRForConditionalGeneration) -> None:
    encoder = model.thinker.audio_tower

    def give_block_mask(layer, args, kwargs):
        hidden, cu_seqlens = args[0], args[1]
        kwargs["attention_mask"] = encoder._prepare_attention_mask(hidden, cu_seqlens)
        return args, kwargs

    for layer in encoder.layers:
        layer.register_forward_pre_hook(give_block_mask, with_kwargs=True)


def goldens(ckpt: Path, out_dir: Path, audios: list[Path], context: str, language: str | None, max_new_tokens: int) -> None:
    asr = Qwen3ASRModel.from_pretrained(str(ckpt), dtype=torch.float32, max_new_tokens=max_new_tokens)
    model, processor = asr.model.eval(), asr.processor
    patch_encoder_windows(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for i, path in enumerate(audios):
        wav, rate = sf.read(str(path), dtype="float32")
        assert rate == 16000 and wav.ndim == 1
        prompt = asr._build_text_prompt(context=context, force_language=language)
        inputs = processor(text=[prompt], audio=[wav], return_tensors="pt", padding=True)
        with torch.no_grad():
            mel = inputs["input_features"][0]
            frames = int(inputs["feature_attention_mask"][0].sum())
            encoder = model.thinker.audio_tower(mel[:, :frames], feature_lens=torch.tensor([frames])).last_hidden_state
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, output_logits=True)
        prompt_ids = inputs["input_ids"][0].numpy()
        tokens = out.sequences[0, len(prompt_ids):].numpy()
        logits = torch.stack(out.logits, dim=1)[0].float().numpy()
        raw = processor.batch_decode(out.sequences[:, len(prompt_ids):], skip_special_tokens=True,
                                     clean_up_tokenization_spaces=False)[0]
        parsed = parse_asr_output(raw, user_language=language)
        high = asr.transcribe(audio=(wav, 16000), context=context, language=language)[0]
        assert (high.language, high.text) == parsed, (high, parsed)
        np.savez(out_dir / f"{i}.npz", mel=mel[:, :frames].numpy(), encoder=encoder.numpy(), prompt_ids=prompt_ids,
                 tokens=tokens, logits=logits)
        top2 = np.sort(logits, axis=1)[:, -2:]
        records.append({"clip": path.name, "frames": frames, "n_audio_tokens": int(encoder.shape[0]), "raw": raw,
                        "language": parsed[0], "text": parsed[1], "min_margin": float((top2[:, 1] - top2[:, 0]).min())})
    meta = {"context": context, "language": language, "max_new_tokens": max_new_tokens, "clips": records,
            "versions": {m: __import__(m).__version__ for m in ("transformers", "torch")}}
    (out_dir / "goldens.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out_dir", type=Path)
    b.add_argument("--config", choices=sorted(CONFIGS), required=True)
    b.add_argument("--seed", type=int, default=0)
    sub.add_parser("processor-files").add_argument("out_dir", type=Path)
    g = sub.add_parser("goldens")
    g.add_argument("ckpt", type=Path)
    g.add_argument("out_dir", type=Path)
    g.add_argument("--audio", type=Path, nargs="+", required=True)
    g.add_argument("--context", default="")
    g.add_argument("--language")
    g.add_argument("--max-new-tokens", type=int, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.command == "build":
        build(args.out_dir, args.config, args.seed)
    elif args.command == "processor-files":
        write_processor_files(args.out_dir)
    else:
        goldens(args.ckpt, args.out_dir, args.audio, args.context, args.language, args.max_new_tokens)


if __name__ == "__main__":
    sys.exit(main())
