"""Score calibration: raw logits -> calibrated log-likelihood ratios -> P(fake).

A model trained with balanced sampling outputs logits whose scale is arbitrary.
We fit llr = a * score + b by logistic regression on a validation set kept apart
from training, with the two classes weighted equally, so that sigmoid(llr) is
P(spoof) under equal priors (the prior a user can re-weight: posterior odds =
exp(llr) * prior odds).  Pure NumPy, Newton's method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """llr = a * score + b (natural log); p_fake = sigmoid(llr)."""

    a: float = 1.0
    b: float = 0.0

    def llr(self, score: np.ndarray | float) -> np.ndarray:
        return self.a * np.asarray(score, dtype=np.float64) + self.b

    def p_fake(self, score: np.ndarray | float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.llr(score), -500, 500)))

    def score_at(self, p: float) -> float:
        """The raw score whose calibrated P(fake) is `p` (the inverse of p_fake)."""
        if not 0.0 < p < 1.0 or self.a == 0:
            raise ValueError(f"no score maps to P(fake) = {p} with slope {self.a}")
        return (logit(p) - self.b) / self.a


def fit(scores: np.ndarray, labels: np.ndarray, l2: float = 1e-3, iterations: int = 50) -> Calibration:
    """Balanced-weight logistic regression of labels (1 = spoof) on scores."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs scores of both classes")
    w = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum())
    X = np.stack([s, np.ones_like(s)], axis=1)
    theta = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ theta, -500, 500)))
        grad = X.T @ (w * (p - y)) + l2 * np.array([theta[0], 0.0])
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + l2 * np.diag([1.0, 1e-9])
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return Calibration(float(theta[0]), float(theta[1]))


# How far a calibrated score sits from the decision threshold, in natural-log odds: below 1 (P(fake)
# within about 0.27-0.73 of an equal-prior 0.5 threshold) a verdict is a coin toss with a lean.
CONFIDENCE_LOGODDS = (1.0, 2.5)  # low below the first, medium below the second, high above
CONFIDENCE_LEVELS = ("low", "medium", "high")


def logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def confidence(p_fake: float, threshold: float, n_warnings: int = 0) -> str:
    """'low', 'medium' or 'high': the distance of p_fake from the threshold in log-odds,
    one level lower when the input carries a warning (fakecheck.conditions)."""
    distance = abs(logit(p_fake) - logit(threshold))
    level = sum(distance >= edge for edge in CONFIDENCE_LOGODDS)
    return CONFIDENCE_LEVELS[max(0, level - (1 if n_warnings else 0))]
