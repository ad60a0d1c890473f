"""The evidence wing: what a person or a program reads.

Modules: `render` (the terminal: tables, heatmaps, the summary line), `report` (the evidence report's data),
`report_html` (the self-contained HTML page), `sinks` (CSV, JSON Lines and score-file outputs).

Imports: `fakecheck.audio`, `fakecheck.model`, `fakecheck.analysis` and `fakecheck.evaluation`.
"""

from __future__ import annotations
