"""Detection metrics for anti-spoofing, with the exact ASVspoof definitions (pure NumPy).

Conventions used throughout fakecheck:

* label 1 = spoof (fake), label 0 = bona fide (real);
* a *score* is higher = more likely spoof;
* an *LLR* is a calibrated log-likelihood ratio log p(x|spoof) / p(x|bona fide), natural log,
  so it is a score too (higher = more likely spoof);
* a threshold ``t`` decides "spoof" iff ``score >= t``.

The ASVspoof scoring packages (2019/2021 ``eval_metrics.py``, ASVspoof 5 ``calculate_modules.py``,
clovaai/aasist ``evaluation.py``) use the opposite sign: their "target" class is bona fide and a
higher score means more likely bona fide.  Every function here negates internally and then runs the
ASVspoof algorithm unchanged, so EER, minDCF, actDCF and Cllr equal the official numbers computed on
``-score``.  Thresholds are converted back to our units before they are returned.

Error rates, named as in ASVspoof 5:

* P_miss (FRR): a bona fide trial rejected, i.e. flagged as spoof;
* P_fa (FAR): a spoof trial accepted as bona fide.

Inputs are 1-D array-likes of floats, shape (n,).  Outputs are plain Python floats, ints and dicts,
so results can go straight into JSON.  Nothing here prints, exits or imports torch; matplotlib is
imported only inside :func:`plot_det`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# The score and key file readers and writers live in fakecheck.scorefiles; re-exported here for old imports.
from fakecheck.evaluation.scorefiles import (  # noqa: F401
    TrialFileError,
    duplicate_trials,
    read_key,
    read_trial_scores,
    trial_id,
    write_trial_scores,
)

__all__ = [
    "TrialFileError",
    "accuracy",
    "act_dcf",
    "bayes_threshold",
    "bootstrap",
    "bootstrap_ci",
    "cllr",
    "compute_eer",
    "det_curve",
    "duplicate_trials",
    "min_dcf",
    "per_system_ci",
    "per_system_eer",
    "plot_det",
    "read_key",
    "read_trial_scores",
    "roc_auc",
    "summary",
    "trial_id",
    "write_trial_scores",
]

# ASVspoof 5 track 1 cost model (evaluation plan, and `calculate_minDCF_EER_CLLR_actDCF`).
P_SPOOF = 0.05
C_MISS = 1.0
C_FA = 10.0

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- input checks


def _as_scores(x: ArrayLike, name: str, *, allow_inf: bool = False) -> FloatArray:
    """1-D float64 copy of ``x``; ValueError if empty, not 1-D, NaN (or +-inf unless allowed)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of scores, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: metrics need at least one bona fide and one spoof trial")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        kind = "NaN" if allow_inf else "NaN or infinite"
        raise ValueError(f"{name} contains {int(bad.sum())} {kind} value(s), first at index {int(np.argmax(bad))}")
    return arr


def _check_cost_model(p_spoof: float, c_miss: float, c_fa: float) -> None:
    if not 0.0 < p_spoof < 1.0:
        raise ValueError(f"p_spoof must be strictly between 0 and 1, got {p_spoof}")
    if c_miss <= 0.0 or c_fa <= 0.0:
        raise ValueError(f"costs must be positive, got c_miss={c_miss}, c_fa={c_fa}")


def _dcf_normaliser(p_spoof: float, c_miss: float, c_fa: float) -> float:
    """Cost of the best trivial system (accept all or reject all): the DCF unit."""
    return min(c_miss * (1.0 - p_spoof), c_fa * p_spoof)


# --------------------------------------------------------------------------- ASVspoof core


def _asvspoof_det_curve(target: FloatArray, nontarget: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """`compute_det_curve` of the ASVspoof packages, in their sign (target = bona fide, higher = target).

    Returns (frr, far, thresholds), each of shape (n_target + n_nontarget + 1,).  Point k rejects the
    k lowest-scoring trials.  Ties are broken by a stable sort with targets first, exactly as the
    official code does (the concatenation order plus mergesort).
    """
    n_scores = target.size + nontarget.size
    all_scores = np.concatenate((target, nontarget))
    labels = np.concatenate((np.ones(target.size), np.zeros(nontarget.size)))
    indices = np.argsort(all_scores, kind="mergesort")
    labels = labels[indices]
    tar_trial_sums = np.cumsum(labels)
    nontarget_trial_sums = nontarget.size - (np.arange(1, n_scores + 1) - tar_trial_sums)
    frr = np.concatenate(([0.0], tar_trial_sums / target.size))
    far = np.concatenate(([1.0], nontarget_trial_sums / nontarget.size))
    thresholds = np.concatenate(([all_scores[indices[0]] - 0.001], all_scores[indices]))
    return frr, far, thresholds


def det_curve(bona: ArrayLike, spoof: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """DET curve (frr, far, thresholds) in our sign, each of shape (n_bona + n_spoof + 1,).

    ``frr[k]`` = P_miss = share of bona fide flagged as spoof, ``far[k]`` = P_fa = share of spoof
    accepted, at ``thresholds[k]`` (our units, decreasing).  Point 0 accepts everything
    (frr 0, far 1, threshold max score + 0.001); point k flags the k highest-scoring trials.
    This is ASVspoof's ``compute_det_curve(-bona, -spoof)`` with its thresholds negated back.
    """
    b = _as_scores(bona, "bona")
    s = _as_scores(spoof, "spoof")
    frr, far, thresholds = _asvspoof_det_curve(-b, -s)
    return frr, far, -thresholds


def _eer_point(frr: FloatArray, far: FloatArray) -> int:
    """Index of the DET point where |frr - far| is smallest (the first one, as np.argmin)."""
    return int(np.argmin(np.abs(frr - far)))


def compute_eer(bona: ArrayLike, spoof: ArrayLike) -> tuple[float, float]:
    """Equal error rate and its threshold: (eer in [0, 1], threshold in our score units).

    As ASVspoof's ``compute_eer``: the DET point with the smallest |P_miss - P_fa|, and the EER is
    the mean of the two rates there (so with few trials it is not always an exact crossing).
    """
    frr, far, thresholds = det_curve(bona, spoof)
    i = _eer_point(frr, far)
    return float((frr[i] + far[i]) / 2.0), float(thresholds[i])


def min_dcf(
    bona: ArrayLike, spoof: ArrayLike, p_spoof: float = P_SPOOF, c_miss: float = C_MISS, c_fa: float = C_FA
) -> float:
    """ASVspoof 5 normalised minimum detection cost over all thresholds of the DET curve.

    DCF(t) = C_miss (1 - p_spoof) P_miss(t) + C_fa p_spoof P_fa(t), divided by
    min(C_miss (1 - p_spoof), C_fa p_spoof) so that 1.0 is the cost of the better of
    "accept everything" / "reject everything".  Checked against ``compute_mindcf`` of the
    asvspoof-challenge/asvspoof5 evaluation package (p_target = 1 - Pspoof there), which uses
    this normaliser.  0 means perfect; a useless detector scores 1.
    """
    _check_cost_model(p_spoof, c_miss, c_fa)
    frr, far, _ = det_curve(bona, spoof)
    dcf = c_miss * (1.0 - p_spoof) * frr + c_fa * p_spoof * far
    return float(np.min(dcf) / _dcf_normaliser(p_spoof, c_miss, c_fa))


def bayes_threshold(p_spoof: float = P_SPOOF, c_miss: float = C_MISS, c_fa: float = C_FA) -> float:
    """LLR threshold of the Bayes decision: flag spoof iff llr > log(C_miss (1 - p) / (C_fa p)).

    This is ASVspoof 5's ``-log(beta)`` threshold with the sign flipped to our LLR convention.
    With the default costs it is log(0.95 / 0.5) = 0.642.
    """
    _check_cost_model(p_spoof, c_miss, c_fa)
    return math.log(c_miss * (1.0 - p_spoof) / (c_fa * p_spoof))


def act_dcf(
    llr_bona: ArrayLike,
    llr_spoof: ArrayLike,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> float:
    """Normalised actual DCF of calibrated LLRs (ours: log p(x|spoof)/p(x|bona)), shape (n,) each.

    The decision is fixed by the cost model, not tuned on the data: spoof iff
    llr > :func:`bayes_threshold`.  An LLR exactly at the threshold counts as bona fide, as in
    ASVspoof 5's ``compute_actDCF`` (miss iff bona llr < thr, fa iff spoof llr >= thr in its sign).
    Same normaliser as :func:`min_dcf`, so act_dcf >= min_dcf and the gap measures miscalibration.
    """
    thr = bayes_threshold(p_spoof, c_miss, c_fa)
    b = _as_scores(llr_bona, "llr_bona", allow_inf=True)
    s = _as_scores(llr_spoof, "llr_spoof", allow_inf=True)
    p_miss = float(np.mean(b > thr))
    p_fa = float(np.mean(s <= thr))
    cost = c_miss * (1.0 - p_spoof) * p_miss + c_fa * p_spoof * p_fa
    return cost / _dcf_normaliser(p_spoof, c_miss, c_fa)


def cllr(llr_bona: ArrayLike, llr_spoof: ArrayLike) -> float:
    """Log-likelihood-ratio cost (Brümmer) in bits, of LLRs in our sign, shape (n,) each.

    Cllr = 0.5 (mean log2(1 + e^llr_bona) + mean log2(1 + e^-llr_spoof)).  1 bit = an
    uninformative system that always outputs 0; 0 = perfect and confident.  Above 1 means the
    LLRs are worse than saying nothing (badly calibrated).  ``logaddexp(0, x)`` = log(1 + e^x)
    without overflow for large |x|; +-inf LLRs are allowed (a confident right answer costs 0).
    """
    b = _as_scores(llr_bona, "llr_bona", allow_inf=True)
    s = _as_scores(llr_spoof, "llr_spoof", allow_inf=True)
    nats = 0.5 * (np.mean(np.logaddexp(0.0, b)) + np.mean(np.logaddexp(0.0, -s)))
    return float(nats / math.log(2.0))


def _midranks(x: FloatArray) -> FloatArray:
    """1-based ranks of x, shape (n,); tied values share the mean of their ranks."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(xs)) + 1))
    ends = np.concatenate((starts[1:], [x.size]))
    # ranks start+1 .. end (1-based) have mean (start + 1 + end) / 2
    ranks_sorted = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = ranks_sorted
    return ranks


def roc_auc(bona: ArrayLike, spoof: ArrayLike) -> float:
    """Area under the ROC curve: P(random spoof scores above random bona fide), ties count 1/2.

    Computed from ranks (Mann-Whitney U), O(n log n).  1 = perfect, 0.5 = chance.
    """
    b = _as_scores(bona, "bona")
    s = _as_scores(spoof, "spoof")
    ranks = _midranks(np.concatenate((b, s)))
    rank_sum_spoof = float(np.sum(ranks[b.size :]))
    u = rank_sum_spoof - s.size * (s.size + 1) / 2.0
    return u / (float(s.size) * float(b.size))


def accuracy(bona: ArrayLike, spoof: ArrayLike, threshold: float) -> float:
    """Share of trials classified right when "spoof" iff score >= threshold (unweighted by class)."""
    b = _as_scores(bona, "bona")
    s = _as_scores(spoof, "spoof")
    right = int(np.sum(b < threshold)) + int(np.sum(s >= threshold))
    return right / (b.size + s.size)


# --------------------------------------------------------------------------- tables


def _split(scores: ArrayLike, labels: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """(bona scores, spoof scores, labels as int64) from aligned arrays of shape (n,)."""
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"scores and labels differ in length: {x.size} != {y.size}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(f"labels must be 0 (bona fide) or 1 (spoof); index {int(np.argmax(bad))} is {y[bad][0]!r}")
    y = y.astype(np.int64)
    if not (y == 0).any():
        raise ValueError("no bona fide trials (label 0): EER and DCF need both classes")
    if not (y == 1).any():
        raise ValueError("no spoof trials (label 1): EER and DCF need both classes")
    return x[y == 0], x[y == 1], y


def per_system_eer(scores: ArrayLike, labels: ArrayLike, systems: Sequence[str]) -> dict[str, dict[str, Any]]:
    """EER of each spoof system against all bona fide trials.

    ``scores``, ``labels``, ``systems`` are aligned, shape (n,).  Returns
    ``{system: {"eer": float, "n": int}}`` for every system that has spoof trials, sorted by name;
    n counts that system's spoof trials.  System names of bona fide trials are ignored.
    """
    bona, _, y = _split(scores, labels)
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    names = np.asarray([str(name) for name in systems], dtype=object)
    if names.size != x.size:
        raise ValueError(f"systems and scores differ in length: {names.size} != {x.size}")
    table: dict[str, dict[str, Any]] = {}
    for name in sorted({str(n) for n in names[y == 1]}):
        mask = (y == 1) & (names == name)
        eer, _ = compute_eer(bona, x[mask])
        table[name] = {"eer": eer, "n": int(mask.sum())}
    return table


def summary(
    scores: ArrayLike,
    labels: ArrayLike,
    systems: Sequence[str] | None = None,
    llr: ArrayLike | None = None,
    threshold_score: float | None = None,
    *,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> dict[str, Any]:
    """All metrics of one evaluation, as a JSON-serialisable dict.

    Inputs are aligned arrays of shape (n,): raw ``scores`` (threshold-free metrics: EER, minDCF,
    AUC), ``labels`` (1 spoof, 0 bona fide), optional spoof ``systems`` for the per-system table,
    optional calibrated ``llr`` (actDCF, Cllr) and the operating threshold ``threshold_score`` on
    ``scores`` for accuracy.  Metrics whose input is missing are None.

    Keys: eer, eer_score_threshold, min_dcf, act_dcf, cllr, auc, accuracy, score_threshold, n_bonafide,
    n_spoof, per_system, cost_model.  Both thresholds are raw scores, hence the names: in fakecheck a
    bare ``threshold`` always means a P(fake).  Raises ValueError if either class is empty.
    """
    _check_cost_model(p_spoof, c_miss, c_fa)
    bona, spoof, y = _split(scores, labels)
    eer, eer_thr = compute_eer(bona, spoof)
    result: dict[str, Any] = {
        "eer": eer,
        "eer_score_threshold": eer_thr,
        "min_dcf": min_dcf(bona, spoof, p_spoof, c_miss, c_fa),
        "act_dcf": None,
        "cllr": None,
        "auc": roc_auc(bona, spoof),
        "accuracy": None,
        "score_threshold": None,
        "n_bonafide": int(bona.size),
        "n_spoof": int(spoof.size),
        "per_system": per_system_eer(scores, labels, systems) if systems is not None else {},
        "cost_model": {"p_spoof": float(p_spoof), "c_miss": float(c_miss), "c_fa": float(c_fa)},
    }
    if llr is not None:
        lr = np.asarray(llr, dtype=np.float64).reshape(-1)
        if lr.size != y.size:
            raise ValueError(f"llr and labels differ in length: {lr.size} != {y.size}")
        result["act_dcf"] = act_dcf(lr[y == 0], lr[y == 1], p_spoof, c_miss, c_fa)
        result["cllr"] = cllr(lr[y == 0], lr[y == 1])
    if threshold_score is not None:
        result["accuracy"] = accuracy(bona, spoof, threshold_score)
        result["score_threshold"] = float(threshold_score)
    return result


# --------------------------------------------------------------------------- confidence intervals

BOOTSTRAP_RESAMPLES = 1000  # evaluate's default; percentile intervals move by well under 0.1 point beyond this
BOOTSTRAP_SEED = 0


def bootstrap(
    bona: ArrayLike,
    spoof: ArrayLike,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    *,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> dict[str, FloatArray]:
    """EER and minDCF of ``n_resamples`` bootstrap resamples, shape (n_resamples,) each.

    Bona fide and spoof trials are resampled separately, each with replacement and at its own size,
    so every resample keeps the class counts of the evaluation.  Resample k draws
    ``rng.integers(0, n_bona, n_bona)`` then ``rng.integers(0, n_spoof, n_spoof)`` from
    ``np.random.default_rng(seed)``; its EER and minDCF equal :func:`compute_eer` and :func:`min_dcf`
    on those trials exactly (ties included).  The scores are sorted once and each resample is a
    weighted pass over them, O(n) instead of O(n log n).
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    _check_cost_model(p_spoof, c_miss, c_fa)
    b = _as_scores(bona, "bona")
    s = _as_scores(spoof, "spoof")
    nb, ns = b.size, s.size
    # The order of ASVspoof's det curve: negated scores, bona fide (its target) first among ties.
    order = np.argsort(np.concatenate((-b, -s)), kind="mergesort")
    is_bona = np.concatenate((np.ones(nb), np.zeros(ns)))[order]
    rng = np.random.default_rng(seed)
    n = np.arange(1, nb + ns + 1)
    eers, dcfs = np.empty(n_resamples), np.empty(n_resamples)
    norm = _dcf_normaliser(p_spoof, c_miss, c_fa)
    for k in range(n_resamples):
        counts = np.concatenate((np.bincount(rng.integers(0, nb, nb), minlength=nb),
                                 np.bincount(rng.integers(0, ns, ns), minlength=ns)))[order]
        tar = np.cumsum(np.repeat(is_bona, counts))  # copies of one trial sit side by side, as in the sort
        frr = np.concatenate(([0.0], tar / nb))
        far = np.concatenate(([1.0], (ns - (n - tar)) / ns))
        i = _eer_point(frr, far)
        eers[k] = (frr[i] + far[i]) / 2.0
        dcfs[k] = np.min(c_miss * (1.0 - p_spoof) * frr + c_fa * p_spoof * far) / norm
    return {"eer": eers, "min_dcf": dcfs}


def bootstrap_ci(
    bona: ArrayLike,
    spoof: ArrayLike,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
    **cost: float,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of EER and minDCF (see :func:`bootstrap`).

    Returns ``{"eer": [lo, hi], "min_dcf": [lo, hi], "level", "n_resamples", "seed", "method"}``.
    The interval measures how much the figure would move with another draw of trials of the same
    kinds; it says nothing about other generators or recording conditions.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    draws = bootstrap(bona, spoof, n_resamples, seed, **cost)
    tail = 100.0 * (1.0 - level) / 2.0
    out: dict[str, Any] = {name: [float(v) for v in np.percentile(values, [tail, 100.0 - tail])]
                           for name, values in draws.items()}
    out.update({"level": float(level), "n_resamples": int(n_resamples), "seed": int(seed),
                "method": "percentile bootstrap, bona fide and spoof trials resampled separately"})
    return out


def per_system_ci(
    scores: ArrayLike,
    labels: ArrayLike,
    systems: Sequence[str],
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> dict[str, list[float]]:
    """``{system: [lo, hi]}``: the percentile bootstrap interval of each spoof system's EER against all
    bona fide trials (:func:`bootstrap_ci`, both sides resampled), for the systems of :func:`per_system_eer`."""
    bona, _, y = _split(scores, labels)
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    names = np.asarray([str(name) for name in systems], dtype=object)
    return {name: bootstrap_ci(bona, x[(y == 1) & (names == name)], n_resamples, seed, level)["eer"]
            for name in sorted({str(n) for n in names[y == 1]})}



# --------------------------------------------------------------------------- outputs

# Axis ticks of the DET plot, as error probabilities.
_DET_TICKS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99)
_DET_LIMITS = (0.0005, 0.995)


def _probit(p: FloatArray) -> FloatArray:
    """Normal deviate of each probability, shape kept; clipped to the plot limits so 0 and 1 stay finite."""
    inv = NormalDist().inv_cdf  # stdlib, so scipy is not a dependency
    clipped = np.clip(p, *_DET_LIMITS)
    return np.array([inv(float(v)) for v in clipped], dtype=np.float64)


def plot_det(bona: ArrayLike, spoof: ArrayLike, path: str | os.PathLike[str], title: str = "") -> None:
    """Write the DET curve as a PNG, both axes on normal-deviate (probit) scale, EER point marked.

    x = P_fa (spoof accepted as bona fide), y = P_miss (bona fide flagged as spoof).
    The Agg canvas is used directly, so pyplot's global backend is never touched.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("the --plot option needs matplotlib: pip install matplotlib") from exc

    frr, far, _ = det_curve(bona, spoof)
    eer, _ = compute_eer(bona, spoof)
    fig = Figure(figsize=(5.0, 5.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ticks = np.asarray(_DET_TICKS)
    lo, hi = _probit(np.asarray(_DET_LIMITS))
    ax.plot([lo, hi], [lo, hi], color="0.8", linewidth=0.8, linestyle="--")  # the EER line
    ax.plot(_probit(far), _probit(frr), color="C0", linewidth=1.5)
    e = _probit(np.asarray([eer]))[0]
    ax.plot([e], [e], "o", color="C3", label=f"EER {100 * eer:.2f} %")
    ax.set_xticks(_probit(ticks))
    ax.set_yticks(_probit(ticks))
    labels = [f"{100 * t:g}" for t in ticks]
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("Spoof accepted as bona fide, P_fa (%)")
    ax.set_ylabel("Bona fide flagged as spoof, P_miss (%)")
    ax.grid(True, color="0.9", linewidth=0.5)
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(os.fspath(path), format="png", dpi=120)
