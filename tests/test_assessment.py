"""The verdict rule (PARTIAL without a cliff) and the plain-language line (issue 20, item 1)."""

from __future__ import annotations

import math

import pytest

from fakecheck.analysis.assessment import assessment, fmt_p, segments_phrase
from fakecheck.analysis.verdict import PARTIAL_EVIDENCE, decide, segment_evidence, speech_reason
from fakecheck.model.calibration import logit

T = 0.5


def needed_p(seconds: float, threshold: float = T) -> float:
    """The mean P(fake) a segment of `seconds` needs for PARTIAL (the inverse of segment_evidence)."""
    return 1 / (1 + math.exp(-(logit(threshold) + PARTIAL_EVIDENCE / math.sqrt(seconds))))


def test_the_bar_is_the_old_cut_off_for_a_two_second_segment_and_eases_with_length():
    assert needed_p(2.0) == pytest.approx(0.731, abs=1e-3)  # the old fixed bar (medium confidence)
    assert needed_p(8.0) == pytest.approx(0.622, abs=1e-3)
    assert needed_p(32.0) == pytest.approx(0.562, abs=1e-3)
    assert needed_p(0.5) == pytest.approx(0.881, abs=1e-3)


@pytest.mark.parametrize("seconds", [0.5, 2.0, 3.0, 8.0, 26.0])
def test_partial_just_above_the_bar_and_real_just_below(seconds):
    p = needed_p(seconds)
    assert decide(0.3, T, [(10.0, 10.0 + seconds, p + 0.002)])[0] == "PARTIAL"
    assert decide(0.3, T, [(10.0, 10.0 + seconds, p - 0.002)])[0] == "REAL"


def test_no_cliff_evidence_grows_smoothly_with_length_and_strength():
    lengths = [0.5 + 0.25 * i for i in range(100)]
    ev = [segment_evidence(0.7, s, T) for s in lengths]
    steps = [b - a for a, b in zip(ev, ev[1:], strict=False)]
    assert all(s > 0 for s in steps) and max(steps) < 0.15  # monotone, no jump (a cliff would be >= 1)
    assert segment_evidence(0.6, 4, T) < segment_evidence(0.7, 4, T)


def test_the_issue_s_long_recording_is_partial_now():
    # 286-312 s at a mean of 0.70, 316-320 s at 0.64: REAL 0.273 under the old 0.73 cut-off.
    assert decide(0.273, T, [(286.0, 312.0, 0.70), (316.0, 320.0, 0.64)])[0] == "PARTIAL"


def test_fake_wins_over_segments_and_partial_confidence_is_the_segment_s():
    assert decide(0.8, T, [(0.0, 4.0, 0.99)]) == ("FAKE", "medium")
    assert decide(0.1, T, [(0.0, 4.0, 0.99)]) == ("PARTIAL", "high")
    assert decide(0.1, T, [(0.0, 4.0, 0.99)], n_warnings=1) == ("PARTIAL", "medium")


@pytest.mark.parametrize("p, t, shown", [(0.4996, 0.5, "0.499"), (0.5, 0.5, "0.500"), (0.6691, 0.5, "0.669"),
                                         (0.70004, 0.7001, "0.700"), (0.70012, 0.7001, "0.701"), (None, 0.5, "-")])
def test_shown_p_fake_never_crosses_the_threshold_by_rounding(p, t, shown):
    assert fmt_p(p, t) == shown


def row(verdict, segs=(), conf="medium", duration=600.0, warnings=(), p=0.3):
    return {"verdict": verdict, "p_fake": p, "confidence": conf, "warnings": list(warnings),
            "fake_segments": [list(s) for s in segs], "duration_s": duration, "threshold": T, "error": ""}


@pytest.mark.parametrize("verdict", ["REAL", "FAKE", "PARTIAL"])
@pytest.mark.parametrize("conf", ["low", "medium"])
def test_every_verdict_names_its_fake_segments(verdict, conf):
    line = assessment(row(verdict, [(286.0, 312.0)], conf))
    assert "26 s at 4:46-5:12" in line and "synthetic" in line, line


def test_real_with_segments_says_real_overall_but():
    line = assessment(row("REAL", [(286.0, 312.0), (316.0, 320.0)], "low"))
    assert line.startswith("REAL overall, but 30 s in 2 stretches: 4:46-5:12, 5:16-5:20 look synthetic"), line
    assert assessment(row("REAL", [], "medium")) == "likely genuine (medium confidence)"


def test_short_files_give_seconds_and_many_segments_are_counted():
    assert segments_phrase([(0.0, 3.6)], 4.0) == "3.6 s at 0.0-3.6 s"
    many = segments_phrase([(i * 10.0, i * 10.0 + 2) for i in range(5)], 90.0)
    assert many.endswith("(+2 more, 4.0 s)") and "in 5 stretches" in many  # the rest, with their total length


def test_warnings_follow_and_low_confidence_gives_a_reason():
    assert assessment(row("FAKE", [], "low", warnings=["noisy: x"])) == "unsure, leans synthetic: noisy: x"
    line = assessment(row("FAKE", [], "medium", warnings=["noisy: x"]))
    assert line == "likely synthetic (medium confidence); noisy: x"


def test_speech_reason_reads_the_same_at_any_amount():
    assert speech_reason(0.0) == "no speech found (0.0 s of speech; 1 s needed)"
    assert speech_reason(0.84) == "too little speech (0.8 s of speech; 1 s needed)"


def test_every_warning_is_in_the_line_shortest_first():
    from fakecheck.analysis.assessment import assessment

    warns = ["heavily compressed: codec traces (about 18 kbit/s)", "noisy: speech only 3 dB above the background",
             "short: 2.4 s of speech"]
    for verdict, conf in (("REAL", "low"), ("FAKE", "high"), ("PARTIAL", "medium")):
        row = {"verdict": verdict, "confidence": conf, "warnings": warns, "p_fake": 0.6, "threshold": 0.5,
               "fake_segments": [[1.0, 3.0]] if verdict == "PARTIAL" else [], "duration_s": 10.0}
        line = assessment(row)
        places = [line.index(w) for w in sorted(warns, key=len)]
        assert places == sorted(places), line  # all three, shortest first


def test_one_time_format_per_file():
    from fakecheck.evidence.render import fmt_duration, fmt_segments

    long_row = {"duration_s": 600.0, "fake_segments": [[246.0, 250.1], [452.3, 455.0]]}
    assert fmt_duration(600.0) == "10:00" and fmt_duration(3725.0) == "1:02:05" and fmt_duration(42.0) == "42.0 s"
    assert fmt_segments(long_row) == "4:06-4:10, 7:32-7:35"
    assert fmt_segments({"duration_s": 12.0, "fake_segments": [[1.25, 3.5]]}) == "1.2-3.5 s"


def test_the_line_names_the_longest_stretches_first_and_counts_the_rest():
    segs = [[10.0, 11.0], [60.0, 66.0], [120.0, 121.5], [200.0, 203.0], [300.0, 300.7]]
    phrase = segments_phrase(segs, 600.0)
    assert phrase.startswith("12 s in 5 stretches: 1:00-1:06, 3:20-3:23, 2:00-2:02")
    assert phrase.endswith("(+2 more, 1.7 s)")
    assert "more" not in segments_phrase(segs[:3], 600.0)


def test_stretches_closer_than_a_timeline_step_merge():
    import numpy as np

    from fakecheck.analysis.segments import MERGE_GAP_S, find_segments, merge_gap

    token_s = 0.04
    p = np.zeros(400)
    p[50:150] = 0.9  # 2.0-6.0 s
    p[163:250] = 0.9  # 6.52-10.0 s: 0.52 s later
    speech = np.ones(400, dtype=bool)
    assert len(find_segments(p, speech, token_s, 0.5)) == 2  # the token-level gap alone keeps them apart
    assert merge_gap(0.04) == MERGE_GAP_S and merge_gap(2.0) == 2.0
    assert find_segments(p, speech, token_s, 0.5, merge_gap_s=merge_gap(2.0)) == [(2.0, 10.0)]
