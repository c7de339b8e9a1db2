"""Output parsing and repetition collapse against the official functions, run in the reference venv."""
import json
import random
import subprocess

from qwen_asr_edge.postprocess import fix_repetitions, parse_asr_output

from .fixtures import REFERENCE_DIR, reference_python


def _cases() -> list:
    rng = random.Random(7)
    fixed = [
        ("language English<asr_text>Hello world.", None),
        ("language None<asr_text>", None),
        ("language none<asr_text>  some text ", None),
        ("language chinese\n<asr_text>你好", None),
        ("intro line\nlanguage GERMAN<asr_text>Hallo", None),
        ("plain text without a tag", None),
        ("language English<asr_text>forced", "English"),
        ("", None),
        ("   ", None),
        ("language English<asr_text>" + "ha" * 30, None),
        ("a" * 25 + "b" * 20 + "c" * 21, None),
        ("x" + "abc" * 19 + "y", None),
        ("start " + "la " * 25 + "mid " + "do" * 22 + "end", None),
        ("language English<asr_text>" + "啊" * 40, None),
    ]
    alphabet = "ab c"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(30, 120)))
        if rng.random() < 0.5:
            unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            at = rng.randint(0, len(text))
            text = text[:at] + unit * rng.randint(15, 30) + text[at:]
        fixed.append((text, None))
    return fixed


def test_parse_and_repetition_match_official():
    cases = _cases()
    proc = subprocess.run([str(reference_python()), str(REFERENCE_DIR / "official_postprocess.py")],
                          input=json.dumps(cases), capture_output=True, text=True, check=True)
    expected = json.loads(proc.stdout)
    collapsed = 0
    for (raw, lang), (exp_lang, exp_text, exp_fixed) in zip(cases, expected):
        assert parse_asr_output(raw, lang) == (exp_lang, exp_text), raw
        assert fix_repetitions(raw) == exp_fixed, raw
        collapsed += exp_fixed != raw
    assert collapsed > 50  # the random cases really exercise the collapse
