"""The model wing: the Whisper front end, the features, the transformer, checkpoints, precision, calibration.

Modules: `settings` (the dict round trip of the settings checkpoints store), `whisper` (the bundled Whisper tiny.en
encoder), `features` (the one feature extractor: both views of a window), `raw_view` (the learnable filterbank
branch on the waveform), `transformer` (the compact transformer and its real/fake head),
`checkpoint` (self-describing, checksummed checkpoints), `precision` (fp32, bf16 and int8 scoring paths),
`calibration` (scores to calibrated log-likelihood ratios).

Imports: `fakecheck.audio` only.  torch is imported by most modules here, so nothing on the `--help` path imports
this package.
"""

from __future__ import annotations
