"""Stage 2 — segmentation: movements, their four boundary instants, and which are reps of a set.

``movements``  every rise of the leg and its return (:func:`find_movements`), with lag-corrected
               boundaries (``boundaries``)
``sets``       grouping into sets and the rep model: each movement judged against its set
               (:func:`judge_sets`), the movements not counted listed with the reason
``rules``      the constants and small rules both the offline and the live driver apply
"""

from __future__ import annotations

from imu.segmentation.boundaries import onset_time, phase_bounds
from imu.segmentation.movements import (
    MOVEMENT_COLUMNS,
    Found,
    Movement,
    Smoothed,
    find_movements,
    measure_movement,
    movement_peaks,
    reangle,
    rep_bottoms,
    rise_bottom,
    smooth,
    top_agrees,
    zigzag,
)
from imu.segmentation.sets import (
    IGNORED_COLUMNS,
    SetJudgement,
    SetModel,
    dips_reason,
    judge_run,
    judge_sets,
    rest_probe,
    rests_at_top,
    set_period_s,
    trailing_rejection,
)

__all__ = [
    "IGNORED_COLUMNS",
    "MOVEMENT_COLUMNS",
    "Found",
    "Movement",
    "SetJudgement",
    "SetModel",
    "Smoothed",
    "dips_reason",
    "find_movements",
    "judge_run",
    "judge_sets",
    "measure_movement",
    "movement_peaks",
    "onset_time",
    "phase_bounds",
    "reangle",
    "rep_bottoms",
    "rest_probe",
    "rests_at_top",
    "rise_bottom",
    "set_period_s",
    "smooth",
    "top_agrees",
    "trailing_rejection",
    "zigzag",
]
