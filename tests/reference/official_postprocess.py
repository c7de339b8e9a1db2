"""Run the official post-processing on strings: stdin JSON [[raw, forced_language_or_null], ...] ->
stdout JSON [[language, text], ...] from `qwen_asr.inference.utils.parse_asr_output`, plus
`detect_and_fix_repetitions` of each raw string."""
import json
import sys

from qwen_asr.inference.utils import detect_and_fix_repetitions, parse_asr_output

cases = json.load(sys.stdin)
json.dump([[*parse_asr_output(raw, lang), detect_and_fix_repetitions(raw)] for raw, lang in cases], sys.stdout,
          ensure_ascii=False)
