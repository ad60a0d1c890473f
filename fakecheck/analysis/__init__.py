"""The analysis wing: from a file to a verdict and its evidence in time.

Modules: `detector` (the Detector: windows, batches, the clip score), `inputs` (the files a scan analyses, and
the shard each belongs to), `verdict` (the verdict rule and the Verdict type), `segments` (stretches of P(fake)
over time), `assessment` (the one-line verdict sentence), `explain` (attention maps and rollout), `scale` (the
same scan on a Ray cluster).

Imports: `fakecheck.audio` and `fakecheck.model`.
"""

from __future__ import annotations
