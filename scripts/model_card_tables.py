"""Print the Markdown tables of models/MODEL_CARD.md from a checkpoint and its data.

    python scripts/model_card_tables.py models/fakecheck-default.pt CORPUS_MANIFEST [EXTRA_MANIFEST]

Re-derives the split exactly as `fakecheck train` did (same seed and fraction, stored in
the checkpoint), so the counts printed are the counts trained and validated on.
"""

from __future__ import annotations

import collections
import sys

from fakecheck import datasets
from fakecheck.checkpoint import load
from fakecheck.train import group_split


def main() -> None:
    ck = load(sys.argv[1])
    cfg = ck.provenance["train_config"]
    rows = datasets.load_dataset(sys.argv[2])
    train, val = group_split(rows, cfg["val_fraction"], cfg["seed"])
    if len(sys.argv) > 3:
        held = {r.source for r in val}
        train += [r for r in datasets.load_dataset(sys.argv[3]) if r.source not in held]
    for name, part in (("training", train), ("validation", val)):
        c = collections.Counter((r.label, r.system) for r in part)
        print(f"\n{name}: {sum(r.label == 0 for r in part)} bona fide, {sum(r.label == 1 for r in part)} spoof clips,"
              f" {len({r.source for r in part})} sources\n")
        for label, title in ((0, "bona fide source corpora"), (1, "spoofing systems")):
            items = sorted((s, n) for (lab, s), n in c.items() if lab == label)
            print(f"{title} ({len(items)}): " + ", ".join(f"{s} {n}" for s, n in items))
    m = ck.metrics
    print("\n| held-out system | clips | EER |\n|---|---:|---:|")
    for s, d in sorted(m["per_system"].items(), key=lambda kv: kv[1]["eer"]):
        print(f"| {s} | {d['n']} | {d['eer']:.1%} |")
    print("\nvalidation sources:", ", ".join(ck.provenance["val_sources"]))


if __name__ == "__main__":
    main()
