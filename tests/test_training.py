"""Training smoke tests (a few steps, CI-sized): synthetic data with exact boundaries, the loss going down,
resuming, and a trained checkpoint exporting to a runtime model that decodes exactly like the torch model."""
import json
import random
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from qwen_asr_edge import Transcriber
from qwen_asr_edge.export import export_checkpoint
from training import train_asr
from training.synth import generate

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                reason="espeak-ng and sox are needed (scripts/test.sh installs them)")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    generate(root, "train", 8, seed=1, workers=1, clean=True)
    generate(root, "heldout", 3, seed=1, workers=1)
    return root


def test_word_boundaries_are_exact(corpus):
    rows = [json.loads(line) for line in (corpus / "train" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    for row in rows:
        audio, rate = sf.read(str(corpus / "train" / row["audio"]), dtype="float32")
        assert rate == 16000 and abs(len(audio) / rate - row["duration"]) < 1e-3
        words = row["words"]
        assert "".join(w["text"] for w in words).replace(" ", "") == row["text"].replace(" ", "")
        inside = np.zeros(len(audio), bool)
        for a, b in zip(words, words[1:]):
            assert a["start"] < a["end"] <= b["start"]
        for w in words:
            inside[int(w["start"] * rate):int(w["end"] * rate)] = True
        assert 0 < words[0]["start"] and words[-1]["end"] < row["duration"]
        # clean audio: the sound is inside the word intervals (boundaries are rounded to 0.1 ms), silence outside
        assert np.abs(audio[~inside]).max() < 0.01 * np.abs(audio[inside]).max()


def test_heldout_sentences_and_voices_are_unseen(corpus):
    train = [json.loads(x) for x in (corpus / "train" / "manifest.jsonl").read_text().splitlines()]
    heldout = [json.loads(x) for x in (corpus / "heldout" / "manifest.jsonl").read_text().splitlines()]
    assert not {r["text"] for r in train} & {r["text"] for r in heldout}
    assert not {r["voice"] for r in train} & {r["voice"] for r in heldout}


def test_loss_falls_on_one_batch(corpus, tmp_path):
    torch.manual_seed(0)
    _, model, tokens = train_asr.new_model(tmp_path / "run")
    batch = train_asr.load_examples(corpus / "train" / "manifest.jsonl")[:6]
    vocab = torch.tensor(sorted({t for e in batch for t in tokens.target(e, False)}))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(0)
    losses = []
    for _ in range(25):
        loss = train_asr.batch_loss(model, tokens, batch, vocab, rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_resume_and_export_match_the_torch_model(corpus, tmp_path, capsys):
    out = tmp_path / "ckpt"
    common = ["--data", str(corpus), "--out", str(out), "--batch", "4", "--save-every", "2", "--eval-every", "100",
              "--eval-count", "2"]
    train_asr.main([*common, "--steps", "4"])
    train_asr.main([*common, "--steps", "6"])
    assert "resumed at step 4" in capsys.readouterr().err
    asr = Transcriber(export_checkpoint(out, tmp_path / "model", log=lambda m: None), max_new_tokens=10)
    raw_config, model, tokens = train_asr.new_model(tmp_path / "again")
    model.load_state_dict(torch.load(out.with_name("ckpt.run") / "state.pt", weights_only=True)["model"])
    model.eval()
    for example, row in zip(train_asr.load_examples(corpus / "heldout" / "manifest.jsonl"),
                            train_asr.read_manifest(corpus / "heldout" / "manifest.jsonl")):
        assert asr.transcribe(row["audio"]).raw == train_asr.greedy(model, tokens, example, max_new=10)


def test_aligner_training_resumes_and_exports_like_the_torch_model(corpus, tmp_path, capsys):
    """A few aligner steps from a (barely) trained ASR checkpoint; the exported aligner's word times equal
    the torch model's slot argmax after the same repair."""
    from qwen_asr_edge.aligner import Aligner, repair_timestamps
    from qwen_asr_edge.export.config import parse_config
    from qwen_asr_edge.export.reference_model import Qwen3ASR
    from qwen_asr_edge.export.tokenizer_export import build_tokenizer
    from qwen_asr_edge.prompt import PromptTokenizer
    from training import train_aligner

    asr = tmp_path / "asr"
    train_asr.main(["--data", str(corpus), "--out", str(asr), "--batch", "4", "--steps", "2", "--eval-every", "100",
                    "--eval-count", "1"])
    out = tmp_path / "aligner"
    common = ["--data", str(corpus), "--asr", str(asr), "--out", str(out), "--batch", "4", "--save-every", "2",
              "--eval-every", "3", "--eval-count", "2"]
    train_aligner.main([*common, "--steps", "2"])
    train_aligner.main([*common, "--steps", "3"])
    err = capsys.readouterr().err
    assert "resumed at step 2" in err and "aas_ms" in err
    aligner = Aligner(export_checkpoint(out, tmp_path / "model", log=lambda m: None))
    raw_config = json.loads((out / "config.json").read_text())
    model = Qwen3ASR(parse_config(raw_config))
    model.load_state_dict(torch.load(out.with_name("aligner.run") / "state.pt", weights_only=True)["model"])
    model.eval()
    tokenizer, _ = build_tokenizer(out, raw_config["transformers_version"])
    tokens = PromptTokenizer(tokenizer, model.cfg.audio_token_id)
    examples = train_aligner.load_align_examples(corpus / "heldout" / "manifest.jsonl")
    for example, row in zip(examples, train_asr.read_manifest(corpus / "heldout" / "manifest.jsonl")):
        with torch.no_grad():
            logits = train_aligner.forward(model, tokens, [torch.from_numpy(example.mel.astype(np.float32))],
                                           [example.words])[0][0]
        times = repair_timestamps([float(c) * 80 for c in logits.argmax(-1).tolist()])
        words = aligner.align(row["audio"], row["text"], row["language"])
        assert [(w.start, w.end) for w in words] == [(round(times[2 * i] / 1000, 3), round(times[2 * i + 1] / 1000, 3))
                                                     for i in range(len(words))]

    # --init continues from that aligner (head included, not re-initialized): one warm-up step moves no
    # weight by more than the step size, while a fresh head would be unrelated to the trained one (the
    # own-time loss read after an earlier layer, --position-layer, and the perturbation run too)
    continued = tmp_path / "continued"
    train_aligner.main(["--data", str(corpus), "--init", str(out), "--out", str(continued), "--batch", "4",
                        "--steps", "1", "--eval-every", "100", "--eval-count", "1", "--position-layer", "1",
                        "--tempo", "0.15", "--warp", "0.08"])
    before = model.state_dict()
    after = Qwen3ASR(parse_config(json.loads((continued / "config.json").read_text())))
    after.load_state_dict(torch.load(continued.with_name("continued.run") / "state.pt", weights_only=True)["model"])
    for name, value in after.state_dict().items():
        torch.testing.assert_close(value, before[name], atol=1e-4, rtol=0, msg=name)


def test_perturbation_moves_features_and_word_times_together():
    """perturb(): a bright frame at 1.00 s lands at r x 1.00 s, a bright mel bin k at about a x k (bilinear
    resampling, half-pixel centres: output i reads input (i + 0.5) / r - 0.5), and the word times' classes
    are round(r x t / 80 ms); without tempo and warp the log-mel and the random stream are untouched."""
    from training.train_aligner import perturb

    mel = torch.full((128, 300), -1.0)
    mel[:, 100] = 1.0
    mel[40, :] = 1.0
    draws = random.Random(7)
    r, a = draws.uniform(0.8, 1.2), draws.uniform(0.9, 1.1)
    out, classes = perturb(mel, [1000.0, 1480.0], random.Random(7), tempo=0.2, warp=0.1)
    assert out.shape == (128, round(300 * r))
    assert abs(int(out[100].argmax()) - (100.5 * r - 0.5)) <= 1
    assert abs(int(out[:, 10].argmax()) - (40.5 * a - 0.5)) <= 1
    assert classes == [round(1000.0 * r / 80), round(1480.0 * r / 80)]

    rng = random.Random(7)
    same, classes = perturb(mel, [1000.0, 1480.0], rng, tempo=0.0, warp=0.0)
    assert same is mel and classes == [12, 18] and rng.random() == random.Random(7).random()
