"""What the live detector says: its events, the reps as it knows them, and its state."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from imu.form import DEFAULT_LEG_LENGTH_M
from imu.vocabulary import EventName, FlagName

__all__ = ["DetectorState", "DetectorStatus", "LiveEvent", "LiveRep"]


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    if isinstance(value, tuple):
        return [_round(v) for v in value]
    return value


@dataclass(frozen=True)
class LiveEvent:
    """One coaching event. Fields that do not apply to an event are ``None`` (left out of
    :meth:`to_dict`). Times are in the recording's ``time_s`` base, s."""

    event: EventName  #: what happened (every name but ``gap``, which the recorder writes)
    t_s: float  #: time of the sample at which the event fired, s
    set_index: int | None = None  #: 1-based set number
    rep_index: int | None = None  #: 1-based rep number within the set, as counted aloud
    start_s: float | None = None  #: rep: leaves the bottom; set: its first rep's start
    top_start_s: float | None = None  #: rep: stops rising
    top_end_s: float | None = None  #: rep_end: starts lowering
    end_s: float | None = None  #: rep_end: stops at the bottom; set: its last rep's end
    peak_angle_deg: float | None = None  #: highest θ of the rep so far, °
    crossing_s: float | None = None  #: above_hip_line: when θ crossed the tolerance
    theta_deg: float | None = None  #: above_hip_line: θ at ``t_s``, °
    #: set_end/set_cancelled: the set's final count; rep_cancelled: the set's count after it
    rep_count: int | None = None
    counted: int | None = None  #: set_end/set_cancelled: reps counted aloud in the set
    cancelled_reps: tuple[int, ...] | None = None  #: set_end: reps withdrawn in the set
    tempo: str | None = None  #: set_end: ecc-bottom-con-top medians, e.g. ``3-0-2-1``
    late: bool | None = None  #: rep: counted after the top (once its set showed it was one)
    kind: str | None = None  #: rep_cancelled: why, as the offline ``ignored`` kinds
    exercise: str | None = None  #: set_start: the profile its flags are judged with
    value: float | None = None  #: a warning's measured quantity
    unit: str | None = None  #: its unit
    detail: str | None = None  #: a warning's evidence, or why a rep was withdrawn

    @property
    def withdrawal(self) -> str:
        """rep_cancelled: the rep and why, e.g. ``rep 8 did not count: rebound 5° after rep 7``."""
        return f"rep {self.rep_index} did not count: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one ``events.jsonl`` line (contracts §4)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = _round(value)
        return out


@dataclass(frozen=True)
class LiveRep:
    """A rep as the live path knows it (phases of the lowering once ``end_s`` is known)."""

    set_index: int
    rep_index: int
    start_s: float
    top_start_s: float
    peak_angle_deg: float  #: highest θ (so far, until the rep ended), °
    peak_velocity_dps: float
    top_end_s: float | None = None
    end_s: float | None = None
    min_angle_deg: float | None = None
    peak_lowering_velocity_dps: float | None = None
    bottom_pause_s: float | None = None  #: known once the next rep of the set starts
    flags: tuple[FlagName, ...] = ()

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def top_hold_s(self) -> float | None:
        return None if self.top_end_s is None else self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float | None:
        if self.end_s is None or self.top_end_s is None:
            return None
        return self.end_s - self.top_end_s


@dataclass(frozen=True)
class DetectorStatus:
    """Fusion-style flags: conditions under which the detector's output is degraded."""

    starting: bool = True  #: still holding back the first samples (axis, filters)
    in_gap: bool = False  #: the last samples came after a gap (dropped packets)
    clipping: bool = False  #: a channel sits at the sensor's range in the last seconds
    #: what is wrong with the sensor's data (saturated, flat-lined channels, rate), sentences
    sensor_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetectorState:
    """What the live view shows, read from :attr:`LiveDetector.state`."""

    ready: bool = False  #: past the start-up (axis chosen, filters settled)
    time_s: float | None = None  #: time of the last sample seen, s
    theta_deg: float | None = None  #: current leg angle above the hip line, °
    set_index: int = 0  #: current (or last) set; 0 = none yet
    rep_count: int = 0  #: reps counted (and not withdrawn) in the current (or last) set
    in_set: bool = False
    total_reps: int = 0  #: reps counted (and not withdrawn) since the start
    last_rep: LiveRep | None = None
    samples: int = 0  #: samples received
    gaps: int = 0  #: intervals longer than 1.5 sample periods (dropped packets)
    shank_axis: str | None = None
    leg_length_m: float = DEFAULT_LEG_LENGTH_M  #: used for coasting and foot heights, m
    status: DetectorStatus = DetectorStatus()
    #: the last rep withdrawn, and why (shown until the next rep)
    withdrawn: str | None = None
