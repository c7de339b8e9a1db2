"""Official long-audio cutting: argv = NPY_IN MAX_SECONDS; prints JSON [[n_samples, offset_sec], ...] from
`qwen_asr.inference.utils.split_audio_into_chunks` (16 kHz)."""
import json
import sys

import numpy as np

from qwen_asr.inference.utils import split_audio_into_chunks

wav = np.load(sys.argv[1], allow_pickle=False)
chunks = split_audio_into_chunks(wav, 16000, float(sys.argv[2]))
json.dump([[len(c), off] for c, off in chunks], sys.stdout)
