"""The training wing: datasets, augmentation, splits, splices and the training loop.

Modules: `datasets` (one module per dataset layout), `augment` (the augmentation both classes get alike),
`splits` (validation splits by source, speaker and system), `splice` (spliced windows for the token head),
`shortcuts` (the shortcut probes a model must not be moved by), `train` (the training loop).

Imports: `fakecheck.audio`, `fakecheck.model`, `fakecheck.analysis` and `fakecheck.evaluation`.
"""

from __future__ import annotations
