"""The numbers every stage shares: the model's sample rate, frame and window sizes, and the silence levels.

They are defined here only; every other module imports them.
"""

from __future__ import annotations

SAMPLE_RATE = 16_000  # Hz; speech forensics corpora (ASVspoof, In-the-Wild) are 16 kHz
N_FFT = 512  # 32 ms FFT -> 257 linear bins from 0 to 8 kHz, 31.25 Hz apart
WIN_LENGTH = 400  # 25 ms analysis window
HOP_LENGTH = 160  # 10 ms between frames: one feature frame per 10 ms
WINDOW_SECONDS = 4.0  # the model sees 4 s at a time (400 frames)
WINDOW_SAMPLES = int(WINDOW_SECONDS * SAMPLE_RATE)  # 64 000
WINDOW_HOP_SECONDS = 2.0  # sliding windows overlap by half on long files
WINDOW_HOP_SAMPLES = int(WINDOW_HOP_SECONDS * SAMPLE_RATE)
MIN_SECONDS = 0.5  # below this a verdict would be a guess: INCONCLUSIVE
MIN_SAMPLES = int(MIN_SECONDS * SAMPLE_RATE)

SILENCE_DBFS = -60.0  # a 10 ms frame quieter than this counts as silence in audio at a normal level
# Quiet recordings: silence is also anything RELATIVE_SILENCE_DB under the loud frames (their 95th
# percentile), so a meeting recorded at -50 dBFS keeps its speech; but never below DIGITAL_SILENCE_DBFS,
# under one 16-bit step (-90.3 dBFS), so digital silence and dither stay silence at any gain.
RELATIVE_SILENCE_DB = 45.0  # = -60 dBFS for speech whose loud frames sit at -15 dBFS, as the examples' do
DIGITAL_SILENCE_DBFS = -90.0
LOUD_PERCENTILE = 95.0  # "the loud frames": a stretch of speech longer than 5% of the audio sets the level
SPEECH_FRACTION = 0.2  # a window needs this share of non-silent frames to be scored
