"""A file's score is the same bytes whatever else is scanned with it (issue 25, item 3): alone, in a folder, in
another order, at another --batch-size, in every precision."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
from conftest import speechlike

from fakecheck import Detector


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[str]:
    d = tmp_path_factory.mktemp("clips")
    paths = []
    for i, seconds in enumerate((9.0, 4.0, 13.0)):  # 4, 1 and 6 windows: batches of 1, 3 and 8 all split them
        p = d / f"c{i}.wav"
        sf.write(p, speechlike(seconds, seed=i), 16_000)
        paths.append(str(p))
    return paths


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "int8", "bf16"])
def test_scores_do_not_depend_on_batch_size_neighbours_or_order(clips, precision):
    det = Detector.load(precision=precision)

    def rows(paths: list[str], batch_size: int) -> dict[str, str]:
        return {v.path: json.dumps(v.to_dict(), sort_keys=True)
                for v in det.analyse_files(paths, batch_size=batch_size, jobs=2)}

    together = rows(clips, 8)
    for other in (rows(clips, 1), rows(clips[::-1], 3), {p: rows([p], 2)[p] for p in clips}):
        assert other == together  # identical bytes: P(fake), segments, verdict, timeline

