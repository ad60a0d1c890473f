"""The evaluation wing: metrics, score and key files, and evaluate's bookkeeping.

Modules: `labels` (which words mean spoof and bona fide), `scorefiles` (trial score and key files), `metrics` (EER,
minDCF, intervals, DET curves), `trials` (which trials were scored, and why not).

Imports: nothing else of fakecheck (NumPy only), so every wing above may use it.
"""

from __future__ import annotations
