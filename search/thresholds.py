"""Where a search's `match` is cut off, for one model: the one place that owns the threshold policy.

The default threshold is the model's own (chosen on LFW's 6,000 pairs, weights/manifest.py);
the loosest a caller may ask for is MAX_THRESHOLD, by default the model's threshold at a
false match rate of 1 % on LFW, so that a caller cannot match strangers by asking loosely;
the calibration (weights/calibration.json, blended with the gallery's own pairs once it
holds enough: search/calibration.py) turns a false match rate into a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from search.calibration import GalleryCalibration
from weights.calibration import Calibration, calibration_of

MAX_THRESHOLD_FMR = 0.01  # the false match rate whose threshold is MAX_THRESHOLD's default


def false_positive_identification_rate(false_match_rate: float, persons: int) -> float:
    """How often a stranger searched against `persons` persons is matched to one of them (open-set 1:N), when
    each comparison falsely matches at `false_match_rate` on its own: 1 - (1 - FMR)^N. bench/accuracy.py
    checks it against strangers searched in LFW galleries."""
    if persons <= 0:
        return 0.0
    return -math.expm1(persons * math.log1p(-min(false_match_rate, 1.0 - 1e-16)))


def false_match_rate_for(false_positive_identification_rate: float, persons: int) -> float:
    """The per-comparison false match rate that gives this FPIR over `persons` persons (the inverse of the above)."""
    return -math.expm1(math.log1p(-false_positive_identification_rate) / max(persons, 1))


@dataclass(frozen=True)
class Thresholds:
    default: float  # used when a request gives none
    # The loosest accepted; farther candidates are shown only with BIOMETRICS. Fixed at start from LFW's
    # table: the gallery's blend moves what a false match rate means, never this bound.
    maximum: float
    gallery: GalleryCalibration  # the model's false match rates: LFW's, blended with the gallery's once it can

    @property
    def calibration(self) -> Calibration | None:
        """The table `falseMatchRate` and `maxFalseMatchRate` are read with now; None if never measured."""
        return self.gallery.calibration

    @classmethod
    def of(
        cls, model_id: str, default: float, configured_maximum: float | None, refresh_interval_s: float = 0.0
    ) -> Thresholds:
        """The model's thresholds; `configured_maximum` is MAX_THRESHOLD when set; a positive
        `refresh_interval_s` lets the gallery's own pairs into the table (GalleryCalibration.start)."""
        calibration = calibration_of(model_id)
        if configured_maximum is not None:
            maximum = configured_maximum
        elif calibration is None:
            maximum = default
        else:
            maximum = max(default, calibration.threshold_for(MAX_THRESHOLD_FMR))
        return cls(default, maximum, GalleryCalibration(calibration, refresh_interval_s))
