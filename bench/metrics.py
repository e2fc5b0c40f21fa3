"""Verification and identification metrics on distances (smaller = more alike)."""

from __future__ import annotations

import numpy as np


def accuracy(distances: np.ndarray, same: np.ndarray, threshold: float) -> float:
    return float(np.mean((distances <= threshold) == same))


def best_accuracy(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The highest accuracy over all thresholds, and the threshold that gives it."""
    candidates = np.unique(distances)
    scores = [accuracy(distances, same, t) for t in candidates]
    best = int(np.argmax(scores))
    return scores[best], float(candidates[best])


def calibrate(distances: np.ndarray, same: np.ndarray) -> float:
    """The middle of the widest threshold interval that maximises accuracy.

    The middle rather than an edge, so that a small shift in the data (other photos,
    other cameras) moves as few pairs as possible across the line.
    """
    cuts = np.unique(distances)
    # Every distinct outcome comes from a threshold between two neighbouring distances.
    edges = np.concatenate([[cuts[0] - 0.05], cuts, [cuts[-1] + 0.05]])
    scores = np.array([accuracy(distances, same, t) for t in (edges[:-1] + edges[1:]) / 2])
    optimal = np.flatnonzero(scores >= scores.max() - 1e-12)
    runs = np.split(optimal, np.flatnonzero(np.diff(optimal) > 1) + 1)
    # Interval i spans edges[i] .. edges[i + 1]; a run of them, its first lower to last upper edge.
    lo, hi = max(((edges[run[0]], edges[run[-1] + 1]) for run in runs), key=lambda span: span[1] - span[0])
    return float((lo + hi) / 2)


def roc_auc(distances: np.ndarray, same: np.ndarray) -> float:
    """Probability that a same-person pair is closer than a different-person pair."""
    positives, negatives = distances[same], distances[~same]
    closer = (positives[:, None] < negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
    return float(closer / (len(positives) * len(negatives)))


def tar_at_far(distances: np.ndarray, same: np.ndarray, far: float) -> tuple[float, float]:
    """True accept rate at the largest threshold whose false accept rate is <= far."""
    negatives = np.sort(distances[~same])
    allowed = int(np.floor(far * len(negatives)))  # false accepts permitted
    threshold = negatives[allowed] - 1e-9 if allowed < len(negatives) else np.inf
    return float(np.mean(distances[same] <= threshold)), float(threshold)


def roc_curve(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false accept rates, true accept rates) over all thresholds."""
    thresholds = np.concatenate([[-np.inf], np.unique(distances)])
    far = np.array([np.mean(distances[~same] <= t) for t in thresholds])
    tar = np.array([np.mean(distances[same] <= t) for t in thresholds])
    return far, tar


def kfold(distances: np.ndarray, same: np.ndarray, folds: np.ndarray) -> tuple[float, float, list[float]]:
    """LFW's protocol: for each fold, the threshold calibrated on the other folds, scored on it.

    Returns the mean and standard deviation of the fold accuracies, and each fold's threshold.
    """
    scores, thresholds = [], []
    for fold in np.unique(folds):
        train = folds != fold
        threshold = calibrate(distances[train], same[train])
        thresholds.append(threshold)
        scores.append(accuracy(distances[~train], same[~train], threshold))
    return float(np.mean(scores)), float(np.std(scores)), thresholds


def error_rates(distances: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false non-match rate, false match rate) at the threshold."""
    accepted = distances <= threshold
    return float(np.mean(~accepted[same])), float(np.mean(accepted[~same]))
