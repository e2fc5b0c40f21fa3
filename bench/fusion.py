"""Score fusion of two embedders, measured as one more system.

A weighted mean of two cosine similarities, w * cos_a + (1 - w) * cos_b, is the
cosine similarity of the two unit vectors joined as [sqrt(w) a, sqrt(1 - w) b]:
so a fused system is a set of longer unit vectors, scored by distance like any
other. w = 1/2 is the plain mean; a logistic regression of "same person" on the
two similarities, fitted on LFW's pairs, gives the other weight (its intercept
is replaced by the threshold rule every system shares).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

Vectors = dict[Path, np.ndarray | None]

_NEWTON_STEPS = 25


def fuse(a: Vectors, b: Vectors, weight: float) -> Vectors:
    """Joined unit vectors whose cosine is `weight` * a's + (1 - `weight`) * b's; None where either is None."""
    fused: Vectors = {}
    for path, u in a.items():
        v = b.get(path)
        fused[path] = None if u is None or v is None else np.concatenate([np.sqrt(weight) * u, np.sqrt(1 - weight) * v])
    return fused


def logistic_weight(similarities: np.ndarray, same: np.ndarray) -> float:
    """The fitted share of the first similarity, from a logistic regression on (N, 2) similarities (Newton's method)."""
    x = np.column_stack([np.ones(len(similarities)), similarities])
    beta = np.zeros(3)
    for _ in range(_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-x @ beta))
        gradient = x.T @ (same - p)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(3)
        beta += np.linalg.solve(hessian, gradient)
    first, second = max(beta[1], 0.0), max(beta[2], 0.0)
    return float(first / (first + second)) if first + second > 0 else 0.5
