"""The JNI layer (cpp_ext/jni) and android_demo's SDK-free Kotlin core, built and run on the desktop JVM.

g++ builds libqwen_asr_edge_jni.so from cpp_ext/core + cpp_ext/jni against the JDK's headers and javac the Java
binding (cpp_ext/jni/java); tests/jni/LogMelCheck.java reads a WAV and writes the offline and streamed log-mel,
which must equal the Python package's features bit for bit (the native extension's; <= 1e-5 from the numpy
path). kotlinc (Debian's `kotlin` package, 1.3) compiles android_demo/core, which therefore uses nothing from
the Android SDK or ONNX Runtime, with tests/jni/AndroidCoreCheck.kt; its tokenizer, prompt, output parsing,
streaming policy, token table, manifest reading and encoder chunking are compared with the Python runtime
(ONNX graphs are replaced by fakes that both sides compute exactly). Without g++ or a JDK the tests skip;
without kotlinc only the Kotlin test does.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from qwen_asr_edge import features
from qwen_asr_edge.embedding import EmbeddingTable
from qwen_asr_edge.encoder import AudioEncoder, tokens_for_frames
from qwen_asr_edge.model_dir import open_model_dir
from qwen_asr_edge.postprocess import parse_asr_output
from qwen_asr_edge.prompt import PromptTokenizer, normalize_language
from qwen_asr_edge.streaming import Stream, StreamOptions, rollback_prefix
from qwen_asr_edge.transcriber import bundled_model_dir

from .fixtures import REPO

JNI = REPO / "cpp_ext" / "jni"
KOTLIN_CORE = REPO / "android_demo" / "core" / "src" / "main" / "kotlin"
SAMPLES = [REPO / "samples" / "en_office_temperature.wav", REPO / "samples" / "zh_timer.wav"]


def _run(command: list, timeout: float = 600) -> str:
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{command[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _assert_checks_passed(stdout: str, expected: int) -> None:
    lines = [line for line in stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [line for line in lines if line.startswith("FAIL")] == [], stdout
    assert len(lines) == expected, stdout


def _floats(path: Path, shape: tuple) -> np.ndarray:
    return np.fromfile(path, dtype="<f4").reshape(shape)


def _assert_python_features(values: np.ndarray, audio: np.ndarray) -> None:
    """Bit-identical to the native extension when it is built; within 1e-5 of the numpy path always."""
    if features.NATIVE:
        np.testing.assert_array_equal(values, features.log_mel_spectrogram(audio))
    assert np.abs(values - features.log_mel_spectrogram_numpy(audio)).max() <= 1e-5


@pytest.fixture(scope="module")
def jni_build(tmp_path_factory) -> SimpleNamespace:
    """libqwen_asr_edge_jni.so and the compiled Java classes (binding + LogMelCheck) in a temporary directory."""
    javac, java, compiler = shutil.which("javac"), shutil.which("java"), shutil.which("g++")
    if javac is None or java is None:
        pytest.skip("javac/java not found: the JNI tests need a JDK (apt-get install openjdk-17-jdk-headless)")
    if compiler is None:
        pytest.skip("g++ not found: the JNI tests compile the C++ core")
    jdk_include = Path(os.path.realpath(javac)).parents[1] / "include"
    if not (jdk_include / "jni.h").is_file():
        pytest.skip(f"no jni.h under {jdk_include}: the JDK has no headers")
    root = tmp_path_factory.mktemp("jni")
    sources = sorted((REPO / "cpp_ext" / "core").glob("*.cc")) + sorted(JNI.glob("*.cc"))
    _run([compiler, "-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
          f"-I{REPO / 'cpp_ext'}", f"-I{jdk_include}", f"-I{jdk_include / 'linux'}", *sources,
          "-o", root / "libqwen_asr_edge_jni.so"])
    classes = root / "classes"
    _run([javac, "-Xlint:all", "-Werror", "-d", classes, *sorted((JNI / "java").rglob("*.java")),
          REPO / "tests" / "jni" / "LogMelCheck.java"])
    return SimpleNamespace(java=java, library_dir=root, classes=classes)


@pytest.mark.parametrize("wav", SAMPLES, ids=lambda p: p.stem)
def test_java_log_mel_matches_python(jni_build, tmp_path, wav):
    stdout = _run([jni_build.java, f"-Djava.library.path={jni_build.library_dir}", "-cp", jni_build.classes,
                   "LogMelCheck", wav, tmp_path, 7])
    _assert_checks_passed(stdout, expected=13)
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == 16000 and audio.ndim == 1
    frames = len(audio) // 160
    spectrogram = _floats(tmp_path / "spectrogram.f32", (128, frames))
    power = _floats(tmp_path / "power.f32", (128, frames))
    streamed = _floats(tmp_path / "streamed.f32", (frames, 128)).T
    _assert_python_features(spectrogram, audio)
    if features.NATIVE:
        np.testing.assert_array_equal(power, features.log_mel_power(audio))
    np.testing.assert_array_equal(streamed, power)  # random pieces, same bits
    np.testing.assert_array_equal(features.normalize_log_mel(streamed), spectrogram)


# --- the Kotlin core of android_demo -------------------------------------------------------------------------

ENCODE_CASES = [
    "hello world", "Hello,  World!\n\n  tabs\there", "don't STOP I'M here; we've 12345 items", "HelloWorld CamelCase",
    "设置一个六十三分钟的定时器", "龘𠀀 emoji 😀👍🏽 mixed", "e\u0301 cafe\u0301 NFC", "\u00a0nbsp\u3000ideographic\u0085nel",
    "<|im_start|>system\n<|im_end|><|audio_pad|><asr_text>", "<asr_tex <|im_start", "  leading and trailing  ",
    "مرحبا بالعالم", "안녕하세요 세계", "line\r\nbreaks\r\r\n", "a/b//c\n/d", "",
]
PARSE_CASES = [
    ("language English<asr_text>hello there", None), ("language None<asr_text>", None),
    ("  language chinese<asr_text> 你好 ", None), ("plain text without tag", None), ("", None), ("   ", None),
    ("language English<asr_text>" + "ha" * 30 + " end", None), ("a" * 25 + "b", None), ("😀" * 25, None),
    ("\u0085language English<asr_text>x\u00a0", None), ("LANGUAGE FRENCH<asr_text>bonjour", None),
    ("foo\nlanguage german<asr_text>hallo", None), ("language\nEnglish<asr_text>x", None),
    ("abc" * 21 + "tail", None), ("xy" * 19, None), ("language English<asr_text>forced", "English"),
    ("some text", "Chinese"),
]
ROLLBACK_TEXTS = ["language English<asr_text>set the office temperature to twenty four degrees",
                  "设置一个六十三分钟的定时器龘𠀀好", "ok", "", "😀👍🏽 emoji tail"]
STREAM_WORDS = "set the office temperature to twenty four degrees please and thank you very much".split()
CHINESE = "设置一个六十三分钟的定时器龘𠀀好吗谢谢你"


def _stream_cases() -> list[dict]:
    english = ["language English<asr_text>" + " ".join(STREAM_WORDS[:2 * k + 2]) for k in range(7)]
    chinese = [CHINESE[:3 * k + 3] for k in range(7)]
    return [{"language": None, "targets": english, "seed": 3, "samples": 149_000},
            {"language": "Chinese", "targets": chinese, "seed": 4, "samples": 87_000}]


class _ScriptedStream(Stream):
    """The Python Stream (official policy, one segment) with the Kotlin check's scripted decoder."""

    def __init__(self, transcriber, case: dict):
        self.targets, self.calls, self.total, self.log = case["targets"], 0, 0, []
        super().__init__(transcriber, language=case["language"], options=StreamOptions(segment_pause=None),
                         on_chunk=self._record)

    def _generate(self, audio, prefix):
        self.total += len(audio)
        target = self.targets[min(self.calls, len(self.targets) - 1)]
        self.calls += 1
        ids = self.asr.tokenizer.encode(target[len(prefix):] if target.startswith(prefix) else target)
        self.log.append({"length": self.total})
        return tuple(ids[:self.options.max_new_tokens]), 0, 0

    def _record(self, chunk):
        self.log[-1].update(prefix=chunk.prefix, raw=chunk.raw, fixed=self._last.fixed_text,
                            partial=self._last.partial_text)


class _FakeConv:
    """encoder_conv of the Kotlin check: token j of a chunk is its frame 8 j."""

    def run(self, _names, feeds):
        return [np.ascontiguousarray(feeds["mel_chunks"][:, :, ::8].transpose(0, 2, 1))]


class _FakeTransformer:
    """encoder_transformer of the Kotlin check: element 0 of every token becomes the window length."""

    def run(self, _names, feeds):
        windows = feeds["windows"].copy()
        windows[:, :, 0] = windows.shape[1]
        return [windows]


@pytest.fixture(scope="module")
def kotlin_core(jni_build, tmp_path_factory) -> Path:
    """android_demo/core plus tests/jni/AndroidCoreCheck.kt compiled by kotlinc into one jar with the runtime."""
    kotlinc = shutil.which("kotlinc")
    if kotlinc is None:
        pytest.skip("kotlinc not found: the Kotlin check needs Debian's `kotlin` package (apt-get install kotlin)")
    jar = tmp_path_factory.mktemp("kotlin") / "android_core_check.jar"
    _run([kotlinc, "-jvm-target", "1.8", "-include-runtime", "-cp", jni_build.classes, "-d", jar,
          *sorted(KOTLIN_CORE.rglob("*.kt")), REPO / "tests" / "jni" / "AndroidCoreCheck.kt"])
    return jar


def test_kotlin_android_core_matches_python(jni_build, kotlin_core, tmp_path):
    model_dir = bundled_model_dir("asr")
    if model_dir is None:
        pytest.skip("the bundled demo model is not installed")
    model = open_model_dir(model_dir, expected_kind="asr")
    m = model.model
    tokenizer = PromptTokenizer.from_file(model.file(model.manifest["tokenizer"]["file"]), m["audio_token_id"])
    table = EmbeddingTable.load(model.path, model.manifest["embed_tokens"])

    audio = np.concatenate([sf.read(path, dtype="float32")[0] for path in SAMPLES * 2])  # 25 s: 3 attention windows
    wav = tmp_path / "long.wav"
    sf.write(wav, audio, 16000, subtype="PCM_16")  # the samples are 16-bit already: lossless
    decode_cases = [tokenizer.encode("hello world"), [151644, 8948, 198, 151645], tokenizer.encode("龘")[:1],
                    [151704, *tokenizer.encode("你好")], tokenizer.encode("😀👍🏽")[:-1], []]
    prompt_cases = [{"context": "", "language": None, "audio_tokens": 0},
                    {"context": "", "language": "English", "audio_tokens": 13},
                    {"context": "turn off the attic fan; 设置", "language": None, "audio_tokens": 50},
                    {"context": "hot words: Qwen, ONNX", "language": "Chinese", "audio_tokens": 7}]
    rollback_cases = [{"raw": raw, "unfixed": unfixed, "guard": guard}
                      for raw in ROLLBACK_TEXTS for unfixed in (1, 5) for guard in (True, False)]
    embed_ids = [0, 1, 100, 12345, 151643, 151676, m["vocab_size"] - 1]
    cases = {"wav": str(wav), "model_dir": str(model_dir), "encode": ENCODE_CASES, "decode": decode_cases,
             "prompts": prompt_cases, "parse": [{"raw": raw, "forced": forced} for raw, forced in PARSE_CASES],
             "rollback": rollback_cases, "frames": [1, 7, 8, 9, 99, 100, 101, 199, 2520], "embed_ids": embed_ids,
             "streams": _stream_cases()}
    (tmp_path / "cases.json").write_text(json.dumps(cases))

    stdout = _run([jni_build.java, f"-Djava.library.path={jni_build.library_dir}", "-cp",
                   f"{jni_build.classes}{os.pathsep}{kotlin_core}", "AndroidCoreCheckKt", tmp_path / "cases.json", tmp_path])
    _assert_checks_passed(stdout, expected=6)
    results = json.loads((tmp_path / "results.json").read_text())

    mel = _floats(tmp_path / "features.f32", (128, len(audio) // 160))
    _assert_python_features(mel, audio)
    assert results["manifest"] == {
        "num_layers": m["num_layers"], "num_kv_heads": m["num_kv_heads"], "head_dim": m["head_dim"],
        "hidden_size": m["hidden_size"], "audio_token_id": m["audio_token_id"], "eos_token_ids": m["eos_token_ids"],
        "window_chunks": m["window_chunks"], "languages": m["support_languages"],
        "decoder": model.manifest["graphs"]["decoder"]["file"]}

    assert results["encode"] == [tokenizer.encode(text) for text in ENCODE_CASES]
    assert results["decode"] == [tokenizer.decode(ids) for ids in decode_cases]
    assert results["decode_keep_special"] == [tokenizer.decode(ids, skip_special_tokens=False) for ids in decode_cases]
    assert results["prompts"] == [
        tokenizer.prompt_ids(c["audio_tokens"], c["context"], normalize_language(c["language"])).tolist()
        for c in prompt_cases]
    assert [tuple(pair) for pair in results["parse"]] == [parse_asr_output(raw, forced) for raw, forced in PARSE_CASES]
    assert results["rollback"] == [rollback_prefix(tokenizer, c["raw"], c["unfixed"], c["guard"]) for c in rollback_cases]
    assert results["tokens_for_frames"] == [tokens_for_frames(f) for f in cases["frames"]]
    np.testing.assert_array_equal(_floats(tmp_path / "embed.f32", (len(embed_ids), m["hidden_size"])),
                                  table(np.array(embed_ids)))

    # Recognizer on fake encoder graphs: the prefill embeddings are the Python runtime's, bit for bit.
    encoder = AudioEncoder(_FakeConv(), _FakeTransformer(), window_chunks=m["window_chunks"])
    audio_embeds = encoder(features.log_mel_spectrogram(audio))
    ids = tokenizer.prompt_ids(len(audio_embeds))
    expected = table(ids)
    expected[ids == tokenizer.audio_token_id] = audio_embeds
    assert results["recognizer"]["prompt_length"] == len(ids)
    np.testing.assert_array_equal(_floats(tmp_path / "prompt_embeds.f32", expected.shape), expected)

    # OfficialStream against runtime/streaming.py's Stream (one segment) with the same scripted decoder.
    transcriber = SimpleNamespace(
        tokenizer=tokenizer, eos_ids=tuple(m["eos_token_ids"]), encoder=SimpleNamespace(window_tokens=13 * m["window_chunks"]),
        decoder=SimpleNamespace(empty_cache=lambda: None), check_request=lambda context, language: normalize_language(language))
    for case, kotlin in zip(cases["streams"], results["streams"]):
        stream = _ScriptedStream(transcriber, case)
        stream.feed(audio[:case["samples"]])
        final = stream.finish()
        assert kotlin["chunks"] == stream.log
        assert (kotlin["fixed"], kotlin["partial"], kotlin["language"]) == (final.fixed_text, final.partial_text,
                                                                             final.language)
