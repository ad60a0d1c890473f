"""The headline carries the doubt (issue 26, item 1): at low confidence the big word is a lean in a neutral tone,
red and green are for medium and high confidence, and the word never stands without its confidence and P(fake)
(report, index, PNG header, terminal table and explain's header)."""

from __future__ import annotations

import re

from fakecheck.analysis.assessment import NEUTRAL, headline
from fakecheck.evidence import render, report_html


def row(verdict: str, p: float | None, confidence: str | None, path: str = "clips/a.wav", **extra) -> dict:
    return {"path": path, "verdict": verdict, "p_fake": p, "confidence": confidence, "threshold": 0.5,
            "warnings": [], "fake_segments": [], "duration_s": 4.0, "error": "", **extra}


def test_low_confidence_is_a_lean_in_a_neutral_tone():
    fake = headline(row("FAKE", 0.518, "low"))
    real = headline(row("REAL", 0.494, "low"))
    assert (fake.word, fake.tone) == ("leans FAKE", NEUTRAL)
    assert (real.word, real.tone) == ("leans REAL", NEUTRAL)
    assert real.text == "leans REAL · low confidence · P(fake) 0.494"


def test_medium_and_high_confidence_keep_the_verdict_and_its_colour():
    for confidence in ("medium", "high"):
        big = headline(row("FAKE", 0.93, confidence))
        assert big.word == "FAKE" and big.tone == "FAKE"
        assert big.detail == f"{confidence} confidence · P(fake) 0.930"


def test_no_score_no_detail():
    assert headline(row("INCONCLUSIVE", None, None)).text == "INCONCLUSIVE"
    assert headline(row("ERROR", None, None)).tone == "ERROR"


def test_p_fake_in_the_headline_never_crosses_the_threshold_by_rounding():
    assert headline(row("REAL", 0.49996, "low")).detail.endswith("0.499")


def test_the_index_shows_the_lean_confidence_warnings_and_limits():
    rows = [("r1.html", row("FAKE", 0.52, "low", path="calls/h0077.wav", warnings=["noisy: speech 3 dB above the "
                                                                                      "background", "short: 2.4 s"])),
            ("r2.html", row("FAKE", 0.97, "high", path="calls/fake.wav"))]
    page = report_html.index(rows, "fakecheck scan calls --report-dir out", "2026-12-07T19:00:00+00:00",
                             limits="29% equal error rate on held-out generators")
    first, second = re.findall(r"<tr><td class=\"path\">.*?</tr>", page)
    assert "leans FAKE" in first and report_html.VERDICT_COLOUR[NEUTRAL] in first
    assert report_html.VERDICT_COLOUR["FAKE"] not in first
    assert ">low<" in first and "noisy: speech 3 dB above the background; short: 2.4 s" in first
    assert ">FAKE<" in second and report_html.VERDICT_COLOUR["FAKE"] in second and ">high<" in second
    assert "<th>confidence</th>" in page and "29% equal error rate" in page


def test_file_names_break_only_after_separators_and_stay_escaped():
    html = report_html.breakable_path('calls/2026/<b>h0077.wav')
    assert html == "calls/<wbr>2026/<wbr>&lt;b&gt;h0077.wav"
    assert "word-break: keep-all" in report_html.STYLE


def test_the_terminal_leaves_a_lean_unstyled():
    assert render.verdict_text(row("FAKE", 0.51, "low")).style == ""
    assert str(render.verdict_text(row("FAKE", 0.51, "low"))) == "leans FAKE"
    assert render.verdict_text(row("FAKE", 0.9, "high")).style == render.VERDICT_STYLE["FAKE"]
