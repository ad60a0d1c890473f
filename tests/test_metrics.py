"""Tests of fakecheck.evaluation.metrics: hand-computed cases, brute-force cross-checks, file outputs.

Convention under test: label 1 = spoof, score higher = more likely spoof.
"""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakecheck.evaluation import metrics

# --------------------------------------------------------------------------- references


def brute_force_det(bona: np.ndarray, spoof: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DET points for tie-free scores, by definition: threshold t flags score >= t as spoof.

    Thresholds run from above the maximum down through every score, as ASVspoof's curve does.
    """
    everything = np.concatenate((bona, spoof))
    thresholds = np.concatenate(([np.max(everything) + 0.001], np.sort(everything)[::-1]))
    frr = np.array([np.mean(bona >= t) for t in thresholds])
    far = np.array([np.mean(spoof < t) for t in thresholds])
    return frr, far, thresholds


def brute_force_eer(bona: np.ndarray, spoof: np.ndarray) -> tuple[float, float]:
    frr, far, thresholds = brute_force_det(bona, spoof)
    best = min(range(len(frr)), key=lambda i: abs(frr[i] - far[i]))  # first minimum, as np.argmin
    return (frr[best] + far[best]) / 2, thresholds[best]


def brute_force_auc(bona: np.ndarray, spoof: np.ndarray) -> float:
    wins = sum((s > b) + 0.5 * (s == b) for s in spoof for b in bona)
    return wins / (len(spoof) * len(bona))


def tie_free_pairs() -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Distinct scores split into non-empty bona fide and spoof sets (no ties, so order cannot matter)."""

    def split(values: list[float], cut: int) -> tuple[np.ndarray, np.ndarray]:
        k = 1 + cut % (len(values) - 1)
        arr = np.array(values)
        return arr[:k], arr[k:]

    values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=40, unique=True)
    return st.builds(split, values, st.integers(0, 1000))


# --------------------------------------------------------------------------- EER and DET


def test_perfect_separation() -> None:
    bona, spoof = [0.0, 1.0, 1.5], [2.0, 3.0]
    eer, thr = metrics.compute_eer(bona, spoof)
    assert eer == 0.0
    assert 1.5 < thr <= 2.0  # every spoof at or above, every bona fide below
    assert metrics.roc_auc(bona, spoof) == 1.0
    assert metrics.min_dcf(bona, spoof) == 0.0
    assert metrics.accuracy(bona, spoof, thr) == 1.0


def test_identical_sets_are_chance() -> None:
    x = [0.0, 1.0, 2.0, 3.0]
    eer, _ = metrics.compute_eer(x, x)
    assert eer == 0.5
    assert metrics.roc_auc(x, x) == 0.5
    # A useless detector costs exactly what "accept everything" costs: normalised DCF 1.
    assert metrics.min_dcf(x, x) == pytest.approx(1.0)


def test_hand_computed_eer() -> None:
    # Flag the 4 highest (6, 5, 4, 3): bona fide 3 is flagged (P_miss 1/4), spoof 2.5 passes (P_fa 1/4).
    eer, thr = metrics.compute_eer([0, 1, 2, 3], [2.5, 4, 5, 6])
    assert eer == 0.25
    assert thr == 3.0
    assert metrics.accuracy([0, 1, 2, 3], [2.5, 4, 5, 6], thr) == 0.75
    # 16 pairs, only (bona 3, spoof 2.5) is wrong
    assert metrics.roc_auc([0, 1, 2, 3], [2.5, 4, 5, 6]) == 15 / 16


def test_det_curve_shape_and_endpoints() -> None:
    frr, far, thr = metrics.det_curve([0, 1, 2], [1.5, 3])
    assert frr.shape == far.shape == thr.shape == (6,)
    assert (frr[0], far[0]) == (0.0, 1.0)  # nothing flagged
    assert (frr[-1], far[-1]) == (1.0, 0.0)  # everything flagged
    assert np.all(np.diff(thr) <= 0)  # our thresholds decrease
    assert thr[0] == pytest.approx(3.001)
    assert np.all(np.diff(frr) >= 0) and np.all(np.diff(far) <= 0)


def test_det_curve_matches_asvspoof_on_negated_scores() -> None:
    rng = np.random.default_rng(0)
    bona, spoof = rng.normal(0, 1, 50), rng.normal(1, 1, 70)
    frr, far, thr = metrics.det_curve(bona, spoof)
    ref_frr, ref_far, ref_thr = metrics._asvspoof_det_curve(-bona, -spoof)
    np.testing.assert_array_equal(frr, ref_frr)
    np.testing.assert_array_equal(far, ref_far)
    np.testing.assert_array_equal(thr, -ref_thr)


def test_eer_against_brute_force_seeded() -> None:
    rng = np.random.default_rng(1234)
    for _ in range(20):
        bona = rng.normal(0.0, 1.0, rng.integers(1, 60))
        spoof = rng.normal(rng.uniform(-1, 3), rng.uniform(0.3, 2.0), rng.integers(1, 60))
        eer, thr = metrics.compute_eer(bona, spoof)
        ref_eer, ref_thr = brute_force_eer(bona, spoof)
        assert eer == pytest.approx(ref_eer, abs=1e-12)
        assert thr == pytest.approx(ref_thr, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(tie_free_pairs())
def test_eer_auc_mindcf_against_brute_force(pair: tuple[np.ndarray, np.ndarray]) -> None:
    bona, spoof = pair
    eer, thr = metrics.compute_eer(bona, spoof)
    ref_eer, ref_thr = brute_force_eer(bona, spoof)
    assert eer == pytest.approx(ref_eer, abs=1e-12)
    assert thr == pytest.approx(ref_thr, abs=1e-9)
    assert metrics.roc_auc(bona, spoof) == pytest.approx(brute_force_auc(bona, spoof), abs=1e-12)
    frr, far, _ = brute_force_det(bona, spoof)
    ref_dcf = min(0.95 * m + 0.5 * f for m, f in zip(frr, far, strict=True)) / 0.5
    assert metrics.min_dcf(bona, spoof) == pytest.approx(ref_dcf, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=15), st.lists(st.integers(-3, 3), min_size=1, max_size=15))
def test_auc_with_ties_against_brute_force(bona: list[int], spoof: list[int]) -> None:
    b, s = np.array(bona, dtype=float), np.array(spoof, dtype=float)
    assert metrics.roc_auc(b, s) == pytest.approx(brute_force_auc(b, s), abs=1e-12)
    eer, _ = metrics.compute_eer(b, s)
    assert 0.0 <= eer <= 1.0


def test_monotone_transform_keeps_eer_and_moves_threshold() -> None:
    rng = np.random.default_rng(7)
    bona, spoof = rng.normal(0, 1, 30), rng.normal(2, 1, 40)
    eer, thr = metrics.compute_eer(bona, spoof)
    eer2, thr2 = metrics.compute_eer(3 * bona + 5, 3 * spoof + 5)  # same ranking, so same errors
    assert eer2 == pytest.approx(eer)
    assert thr2 == pytest.approx(3 * thr + 5)
    # Negating every score turns the detector around: AUC mirrors.
    assert metrics.roc_auc(-bona, -spoof) == pytest.approx(1 - metrics.roc_auc(bona, spoof))


# --------------------------------------------------------------------------- DCF and Cllr


def test_min_dcf_chance_level_is_about_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 4000)
    y = rng.normal(0, 1, 4000)
    assert metrics.min_dcf(x, y) == pytest.approx(1.0, abs=0.03)
    assert metrics.min_dcf(x, y) <= 1.0  # the "accept all" point is always on the curve


def test_min_dcf_normalisation_and_cost_model() -> None:
    # ASVspoof 5 defaults: normaliser min(1 * 0.95, 10 * 0.05) = 0.5.
    assert metrics._dcf_normaliser(0.05, 1.0, 10.0) == pytest.approx(0.5)
    # One bona fide above both spoofs: best is to accept all (P_fa 1) -> 0.5 / 0.5 = 1,
    # or flag everything above 0.5: P_miss 1/2, P_fa 0 -> 0.475 / 0.5 = 0.95.
    assert metrics.min_dcf([0.0, 3.0], [1.0, 2.0]) == pytest.approx(0.95)
    with pytest.raises(ValueError, match="p_spoof"):
        metrics.min_dcf([0.0], [1.0], p_spoof=1.0)


def test_act_dcf() -> None:
    assert metrics.act_dcf([-10.0, -8.0], [8.0, 10.0]) == 0.0
    # LLR 0 is below the Bayes threshold log(0.95 / 0.5): everything accepted -> P_fa 1 -> DCF 1.
    assert metrics.act_dcf([0.0, 0.0], [0.0, 0.0]) == pytest.approx(1.0)
    thr = metrics.bayes_threshold()
    assert thr == pytest.approx(math.log(0.95 / 0.5))
    # Exactly at the threshold counts as bona fide (ASVspoof 5: fa iff spoof score >= threshold).
    assert metrics.act_dcf([thr], [thr]) == pytest.approx(1.0)
    assert metrics.act_dcf([thr + 1e-9], [thr + 1e-9]) == pytest.approx(0.95 / 0.5)


def test_act_dcf_is_never_below_min_dcf() -> None:
    rng = np.random.default_rng(11)
    bona, spoof = rng.normal(-1, 1.5, 300), rng.normal(1.5, 1.5, 300)
    assert metrics.act_dcf(bona, spoof) >= metrics.min_dcf(bona, spoof) - 1e-12


def test_cllr() -> None:
    assert metrics.cllr([0.0, 0.0], [0.0]) == pytest.approx(1.0)
    assert metrics.cllr([-60.0, -40.0], [40.0, 60.0]) == pytest.approx(0.0, abs=1e-15)
    assert metrics.cllr([-math.inf], [math.inf]) == 0.0
    # Confidently wrong: about |llr| / ln 2 bits per trial, and no overflow.
    assert metrics.cllr([800.0], [-800.0]) == pytest.approx(800 / math.log(2))
    # Hand value: 0.5 * (log2(1 + e^-1) + log2(1 + e^-1))
    assert metrics.cllr([-1.0], [1.0]) == pytest.approx(math.log2(1 + math.exp(-1)))


# --------------------------------------------------------------------------- tables


def test_per_system_eer() -> None:
    scores = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 1.5, 2.5]
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    systems = ["bonafide"] * 4 + ["A01", "A01", "B02", "B02"]
    table = metrics.per_system_eer(scores, labels, systems)
    assert list(table) == ["A01", "B02"]
    assert table["A01"] == {"eer": 0.0, "n": 2}
    assert table["B02"]["n"] == 2
    assert table["B02"]["eer"] == pytest.approx(metrics.compute_eer([0, 1, 2, 3], [1.5, 2.5])[0])
    assert table["B02"]["eer"] > 0


def test_summary_keys_and_json() -> None:
    rng = np.random.default_rng(5)
    labels = np.array([0] * 40 + [1] * 60)
    scores = np.where(labels == 1, rng.normal(2, 1, 100), rng.normal(0, 1, 100))
    systems = ["bonafide"] * 40 + ["A"] * 30 + ["B"] * 30
    out = metrics.summary(scores, labels, systems, llr=scores - 1.0, threshold_score=1.0)
    for key in ("eer", "eer_score_threshold", "min_dcf", "act_dcf", "cllr", "auc", "accuracy", "score_threshold",
                "n_bonafide", "n_spoof"):
        assert key in out
    assert out["n_bonafide"] == 40 and out["n_spoof"] == 60
    assert set(out["per_system"]) == {"A", "B"}
    assert sum(v["n"] for v in out["per_system"].values()) == 60
    assert type(out["eer"]) is float and type(out["n_spoof"]) is int
    json.dumps(out, allow_nan=False)  # plain Python types only
    assert out["accuracy"] == metrics.accuracy(scores[labels == 0], scores[labels == 1], 1.0)


def test_summary_without_llr_or_threshold() -> None:
    out = metrics.summary([0.0, 1.0], [0, 1])
    assert out["act_dcf"] is None and out["cllr"] is None and out["accuracy"] is None
    assert out["per_system"] == {}
    assert out["eer"] == 0.0


def test_empty_class_raises() -> None:
    with pytest.raises(ValueError, match="no spoof"):
        metrics.summary([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="no bona fide"):
        metrics.summary([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="empty"):
        metrics.compute_eer([], [1.0])
    with pytest.raises(ValueError, match="labels must be"):
        metrics.summary([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="NaN"):
        metrics.compute_eer([math.nan], [1.0])


# --------------------------------------------------------------------------- outputs


def test_write_trial_scores_flips_sign(tmp_path: Path) -> None:
    trials = [("LA_E_1", 0.25), ("my file 2.wav", -1.5), ("z", 0.0)]
    buf = io.StringIO()
    metrics.write_trial_scores(buf, trials)
    assert buf.getvalue() == "LA_E_1 -0.250000\nmy_file_2.wav 1.500000\nz 0.000000\n"
    out = tmp_path / "scores.txt"
    metrics.write_trial_scores(out, trials)
    assert out.read_text(encoding="utf-8") == buf.getvalue()
    # Read back as the ASVspoof scripts do: higher = bona fide.
    parsed = [line.split() for line in out.read_text().splitlines()]
    assert all(len(p) == 2 for p in parsed)
    assert float(parsed[1][1]) > float(parsed[0][1])  # trial 2 is the more bona fide one
    with pytest.raises(ValueError):
        metrics.write_trial_scores(io.StringIO(), [("x", math.nan)])


def test_plot_det_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(2)
    out = tmp_path / "det.png"
    metrics.plot_det(rng.normal(0, 1, 200), rng.normal(2, 1, 200), out, title="test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_det_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        metrics.plot_det([0.0], [1.0], tmp_path / "det.png")


# --------------------------------------------------------------------------- bootstrap confidence intervals


def gaussian_truth(d: float) -> tuple[float, float]:
    """EER and minDCF of bona fide N(0, 1) against spoof N(d, 1), from the distributions themselves."""
    nd = NormalDist()
    eer = nd.cdf(-d / 2)
    t = np.linspace(-6, 6 + d, 20_001)
    p_miss = np.array([1 - nd.cdf(v) for v in t])  # bona fide at or above t: flagged
    p_fa = np.array([nd.cdf(v - d) for v in t])  # spoof below t: accepted
    dcf = metrics.C_MISS * (1 - metrics.P_SPOOF) * p_miss + metrics.C_FA * metrics.P_SPOOF * p_fa
    return eer, float(dcf.min() / min(metrics.C_MISS * (1 - metrics.P_SPOOF), metrics.C_FA * metrics.P_SPOOF))


def test_bootstrap_ci_covers_the_known_eer_and_min_dcf() -> None:
    true_eer, true_dcf = gaussian_truth(2.0)  # EER = Phi(-1) = 15.87%
    assert true_eer == pytest.approx(0.158655, abs=1e-5)
    rng = np.random.default_rng(11)
    bona, spoof = rng.normal(0, 1, 3000), rng.normal(2, 1, 2000)
    ci = metrics.bootstrap_ci(bona, spoof, n_resamples=400, seed=0)
    assert ci["n_resamples"] == 400 and ci["seed"] == 0 and ci["level"] == 0.95
    lo, hi = ci["eer"]
    assert lo < true_eer < hi and lo <= metrics.compute_eer(bona, spoof)[0] <= hi
    assert 0.01 < hi - lo < 0.05  # about 4 binomial standard errors wide, not degenerate
    dlo, dhi = ci["min_dcf"]
    assert dlo < true_dcf < dhi and dlo <= metrics.min_dcf(bona, spoof) <= dhi
    small = metrics.bootstrap_ci(bona[:100], spoof[:100], n_resamples=400, seed=0)
    assert small["eer"][1] - small["eer"][0] > 2 * (hi - lo)  # fewer trials, wider interval


def test_bootstrap_is_seeded_and_resamples_each_class_exactly() -> None:
    rng = np.random.default_rng(3)
    bona, spoof = np.round(rng.normal(0, 1, 60), 1), np.round(rng.normal(1, 1, 40), 1)  # many ties
    a = metrics.bootstrap(bona, spoof, n_resamples=25, seed=7)
    b = metrics.bootstrap(bona, spoof, n_resamples=25, seed=7)
    assert np.array_equal(a["eer"], b["eer"]) and np.array_equal(a["min_dcf"], b["min_dcf"])
    assert not np.array_equal(a["eer"], metrics.bootstrap(bona, spoof, n_resamples=25, seed=8)["eer"])
    # Each resample equals the exact metric on bona fide and spoof trials drawn separately with replacement.
    draw = np.random.default_rng(7)
    for k in range(25):
        rb, rs = bona[draw.integers(0, bona.size, bona.size)], spoof[draw.integers(0, spoof.size, spoof.size)]
        assert a["eer"][k] == pytest.approx(metrics.compute_eer(rb, rs)[0], abs=1e-12)
        assert a["min_dcf"][k] == pytest.approx(metrics.min_dcf(rb, rs), abs=1e-12)
    with pytest.raises(ValueError):
        metrics.bootstrap(bona, spoof, n_resamples=0)


def test_summary_names_raw_score_thresholds_score_threshold() -> None:
    """`threshold` means P(fake) everywhere in fakecheck; summary's raw-score cut-offs say score_threshold."""
    out = metrics.summary([0.0, 1.0, 2.0], [0, 1, 1], threshold_score=0.5)
    assert out["score_threshold"] == 0.5 and "eer_score_threshold" in out
    assert "threshold" not in out and "eer_threshold" not in out


# --------------------------------------------------------------------------- reading score and key files


def test_read_trial_scores_two_and_four_columns(tmp_path: Path) -> None:
    two = tmp_path / "two.txt"
    two.write_text("# a comment\nLA_E_1 1.5\n\nLA_E_2 -0.25\n")
    assert metrics.read_trial_scores(two) == {"LA_E_1": -1.5, "LA_E_2": 0.25}  # our sign: higher = spoof
    aasist = tmp_path / "aasist.txt"  # clovaai/aasist: utt_id attack key score
    aasist.write_text("LA_E_1 - bonafide 3.0\nLA_E_2 A07 spoof -2.0\n")
    assert metrics.read_trial_scores(aasist) == {"LA_E_1": -3.0, "LA_E_2": 2.0}
    assert metrics.read_trial_scores(aasist, higher_is_spoof=True) == {"LA_E_1": 3.0, "LA_E_2": -2.0}
    header = tmp_path / "h.tsv"
    header.write_text("filename\tcm-score\nE_1\t0.5\n")
    assert metrics.read_trial_scores(header) == {"E_1": -0.5}
    for body, reason in [("a 1.0\na 2.0\n", "twice"), ("a 1.0\nb nan\n", "not a finite"), ("a\n", "2 columns"),
                         ("a 1.0\nb x\n", "not a number")]:
        bad = tmp_path / "bad.txt"
        bad.write_text(body)
        with pytest.raises(metrics.TrialFileError, match=reason):
            metrics.read_trial_scores(bad)


def test_read_key_simple_and_asvspoof_layouts(tmp_path: Path) -> None:
    simple = tmp_path / "key.txt"
    simple.write_text("trial label\nLA_E_1 bonafide\nLA_E_2 spoof\nclip3 fake\n")
    assert metrics.read_key(simple) == {"LA_E_1": (0, "bonafide"), "LA_E_2": (1, "spoof"), "clip3": (1, "spoof")}
    la2019 = tmp_path / "ASVspoof2019.LA.cm.eval.trl.txt"
    la2019.write_text("LA_0039 LA_E_2834763 - A11 spoof\nLA_0014 LA_E_8877452 - - bonafide\n")
    assert metrics.read_key(la2019) == {"LA_E_2834763": (1, "A11"), "LA_E_8877452": (0, "bonafide")}
    la2021 = tmp_path / "trial_metadata.txt"
    la2021.write_text("LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval\n"
                      "LA_0020 LA_E_6866159 none - bonafide bonafide notrim progress\n"
                      "LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -\n")
    assert metrics.read_key(la2021) == {"LA_E_9332881": (1, "A07"), "LA_E_6866159": (0, "bonafide"),
                                        "DF_E_2000011": (1, "A14")}
    five = tmp_path / "ASVspoof5.dev.tsv"
    five.write_text("D_0062 D_0000000001 F - - - AC3 A11 spoof -\nD_0755 D_0000000005 M - - - - bonafide bonafide -\n")
    assert metrics.read_key(five) == {"D_0000000001": (1, "A11"), "D_0000000005": (0, "bonafide")}
    for body, reason in [("a bonafide\na spoof\n", "twice"), ("h x\na maybe\n", "no bonafide or spoof"),
                         ("s1 a bonafide spoof\n", "both")]:
        bad = tmp_path / "bad.txt"
        bad.write_text(body)
        with pytest.raises(metrics.TrialFileError, match=reason):
            metrics.read_key(bad)
