"""Labelled audio datasets: read the common anti-spoofing layouts into one list of rows.

Label convention of fakecheck: label 1 = spoof (fake), label 0 = bona fide (real).  Each dataset
becomes a list of :class:`Row` (path, label, system, source), sorted by path so that every run sees
the same order.  ``system`` names the generator of a spoofed clip (an ASVspoof attack id, a WaveFake
vocoder, ...) or the corpus of a bona fide one; ``source`` is the origin used to group rows when
splitting (a manifest's ``source_repo``, an In-the-Wild speaker, a folder), so that clips of one
origin never land on both sides of a split.

One module per layout (``FORMATS``), detected automatically by :func:`detect_format` (`detect`):

* ``folder`` (`folder`): ``real/`` or ``bonafide/`` plus ``fake/`` or ``spoof/`` sub-folders of audio files;
* ``csv`` (`manifest`): a manifest with a ``path,label[,system]`` header (more columns allowed);
* ``asvspoof2019`` (`asvspoof2019`): ASVspoof 2019 LA/PA CM protocols ``SPEAKER FILE - SYSTEM KEY``;
* ``asvspoof2021`` (`asvspoof2021`): ASVspoof 2021 LA/DF keys ``keys/{LA,DF}/CM/trial_metadata.txt``;
* ``asvspoof5`` (`asvspoof5`): ASVspoof 5 protocols ``ASVspoof5.*.tsv``;
* ``itw`` (`itw`): In-the-Wild (``meta.csv`` with ``file,speaker,label``);
* ``wavefake`` (`wavefake`): WaveFake ``generated_audio/<generator>/`` with LJSpeech and/or JSUT as the real side;
* ``for`` (`fake_or_real`): Fake-or-Real ``training|validation|testing/{fake,real}/``.

:func:`load_dataset` parses (unknown labels and malformed lines are reported while parsing) but does
not touch the audio files; :func:`validate` checks that files exist and that both classes are there.
Every failure is a :class:`DatasetError` with a one-paragraph message meant for users.  Nothing here
prints or exits.  `rows` holds the Row type and the helpers the readers share.
"""

from __future__ import annotations

from fakecheck.evaluation.labels import parse_label
from fakecheck.training.datasets.detect import FORMATS, detect_format, load_dataset, validate
from fakecheck.training.datasets.rows import DatasetError, Row

__all__ = [
    "FORMATS",
    "DatasetError",
    "Row",
    "detect_format",
    "load_dataset",
    "parse_label",
    "validate",
]
