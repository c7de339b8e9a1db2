"""The transformers-native `-hf` layout: a model built with transformers 5's own `qwen3_asr` classes,
saved with save_pretrained, exports and reproduces that implementation's logits and greedy tokens
(transformers 5 applies the 8 s encoder attention windows in every backend, so it is an independent
reference for clips over 8 s too)."""
import numpy as np
import pytest
import torch

from qwen_asr_edge import Transcriber
from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.encoder import tokens_for_frames
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.export.random_checkpoint import randomize, write_tokenizer
from qwen_asr_edge.features import log_mel_spectrogram

from .fixtures import synth_clip

transformers = pytest.importorskip("transformers", minversion="5.0")


def _hf_model():
    cfg = transformers.Qwen3ASRConfig(
        audio_config=dict(model_type="qwen3_asr_encoder", d_model=32, encoder_layers=2, encoder_attention_heads=4,
                          encoder_ffn_dim=64, output_dim=48, downsample_hidden_size=8, n_window=50, n_window_infer=800),
        text_config=dict(model_type="qwen3", hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=16, intermediate_size=96, vocab_size=151936,
                         rope_theta=1e6, tie_word_embeddings=True))
    model = transformers.Qwen3ASRForConditionalGeneration(cfg).eval()
    randomize(model, torch.Generator().manual_seed(3))
    model.tie_weights()
    return model


@pytest.fixture(scope="module")
def hf_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    model = _hf_model()
    model.save_pretrained(root / "ckpt")
    write_tokenizer(root / "ckpt")
    exported = export_checkpoint(root / "ckpt", root / "model", log=lambda msg: None)
    return model, Transcriber(exported)


@pytest.mark.parametrize("seconds", [2.37, 9.61])
def test_hf_layout_matches_transformers5(hf_pair, seconds):
    model, asr = hf_pair
    audio = load_audio(synth_clip(seconds, seed=int(seconds * 100)), sample_rate=16000)
    mel = log_mel_spectrogram(audio)
    frames = mel.shape[1]
    padded = np.zeros((128, -(-frames // 100) * 100), dtype=np.float32)
    padded[:, :frames] = mel
    mask = np.zeros(padded.shape[1], dtype=np.int64)
    mask[:frames] = 1
    ids = asr.tokenizer.prompt_ids(tokens_for_frames(frames))
    steps = 6
    generation = asr.generate(audio, keep_logits=True)
    with torch.no_grad():
        sequence = torch.from_numpy(ids)[None]
        for step in range(steps):
            logits = model(input_ids=sequence, input_features=torch.from_numpy(padded)[None],
                           input_features_mask=torch.from_numpy(mask)[None]).logits[0, -1].numpy()
            ours = generation.logits[step]
            assert np.abs(ours - logits).max() <= 1e-3 * np.abs(logits).max()
            token = int(np.argmax(logits))
            assert generation.tokens[step] == token
            sequence = torch.cat([sequence, torch.tensor([[token]])], dim=1)
