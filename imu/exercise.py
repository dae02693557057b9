"""Which exercise a set is, from the recording itself (``--exercise auto``).

Three things an ankle sensor sees tell the set-ups apart:

- where the legs **rest between reps** — the set's bottom level ``B`` (θ, the median start and
  end angle of its reps): hanging (below :data:`HANGING_DEG`: the reverse-hyper machine, or
  sitting with the shank hanging), on a bench (between that and :data:`LYING_DEG`: the legs
  start 20–65° below the hip line), or lying (above: the floor);
- **the joint the shank turns about** — the ankle's distance from the axis of rotation,
  measured from the centripetal acceleration of the set's reps
  (:func:`imu.angle.rotation_radii_m`): a straight leg about the hip puts it 0.7–1 m away, a
  shank about the knee 0.3–0.5 m (under :data:`KNEE_RADIUS_M`);
- the **range**: a prone leg raise lifts "a few inches"; lying, a raise of more than
  :data:`PRONE_RISE_MAX_DEG` is a supine or side-lying raise (or a prone raise far above the
  hip line, which no profile would call a prone leg lift).

A bench or the machine is ``reverse-hyper``, the floor ``prone-leg-lift``, a shank turning about
the knee and the high raises lying ``leg-raise`` (the generic profile). The choice is made per set
(:func:`choose_sets`: the sets lying on the floor of one session share one choice, made on their
median rise — a low-amplitude set of a raise is the same exercise) and said, with the evidence,
in the summary and on the console; an explicit ``--exercise`` that the data contradict gets a
note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HANGING_DEG",
    "KNEE_RADIUS_M",
    "LYING_DEG",
    "PRONE_RISE_MAX_DEG",
    "ExerciseChoice",
    "SetShape",
    "choose_exercise",
    "choose_sets",
]

#: legs resting lower than this hang: the machine, or a shank hanging off a seat, °
HANGING_DEG = -65.0
#: legs resting higher than this lie: the floor, °
LYING_DEG = -15.0
#: an ankle nearer than this to the axis of the movement turns about the knee, m
KNEE_RADIUS_M = 0.6
#: lying, a set that rises more than this is not a prone leg lift, °
PRONE_RISE_MAX_DEG = 35.0


@dataclass(frozen=True)
class ExerciseChoice:
    """The profile chosen for one set, and why."""

    exercise: str  #: a profile of :data:`imu.settings.PROFILES`
    setup: str  #: ``bench``, ``machine``, ``floor``, ``seated``, ``lying raise``
    reason: str  #: one sentence, with the measurements

    def to_dict(self) -> dict[str, str]:
        return {"exercise": self.exercise, "setup": self.setup, "reason": self.reason}


def choose_exercise(bottom_deg: float, top_deg: float, radius_m: float | None) -> ExerciseChoice:
    """The profile for a set resting at ``bottom_deg`` whose reps peak at ``top_deg``, the ankle
    ``radius_m`` from the axis it turns about (``None``: not measured)."""
    rise = top_deg - bottom_deg
    rest = f"legs rest {abs(bottom_deg):.0f}° {'below' if bottom_deg < 0 else 'above'} the hip line"
    about = "" if radius_m is None else f", the ankle {radius_m:.2f} m from the axis it turns about"
    if bottom_deg < HANGING_DEG:
        if radius_m is not None and radius_m < KNEE_RADIUS_M:
            return ExerciseChoice(
                "leg-raise", "seated", f"{rest}{about}: the shank turns about the knee"
            )
        return ExerciseChoice("reverse-hyper", "machine", f"{rest}{about}: the machine")
    if bottom_deg < LYING_DEG:
        return ExerciseChoice("reverse-hyper", "bench", f"{rest}{about}: a bench")
    if rise > PRONE_RISE_MAX_DEG:
        return ExerciseChoice(
            "leg-raise",
            "lying raise",
            f"{rest} and rise {rise:.0f}°: a supine or side-lying raise (a prone leg lift rises "
            f"a few inches)",
        )
    return ExerciseChoice("prone-leg-lift", "floor", f"{rest} and rise {rise:.0f}°: the floor")


@dataclass(frozen=True)
class SetShape:
    """What a set's reps show: where the leg rests, where it peaks, the radius it turns at."""

    bottom_deg: float
    top_deg: float
    radius_m: float | None


def choose_sets(shapes: Mapping[int, SetShape]) -> dict[int, ExerciseChoice]:
    """:func:`choose_exercise` for each set; the sets lying on the floor decide together, on
    their median rise."""
    lying = [k for k, v in shapes.items() if v.bottom_deg >= LYING_DEG]
    rise = (
        float(np.median([shapes[k].top_deg - shapes[k].bottom_deg for k in lying]))
        if lying
        else 0.0
    )
    out = {}
    for k, v in shapes.items():
        top = v.bottom_deg + rise if k in lying else v.top_deg
        out[k] = choose_exercise(v.bottom_deg, top, v.radius_m)
    return out
