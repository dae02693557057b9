"""Typed results of an analysis: reps, sets, the session. Frozen; ``to_dict()`` and ``to_frame()``.

``SessionResult.to_dict()`` is the ``summary.json`` of contracts §2 (schema ``imu-summary/1``);
every required key is there, more are added.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.corrections import AppliedCorrection
from imu.exercise import ExerciseChoice
from imu.recording import Gap
from imu.settings import Settings
from imu.vocabulary import FlagName

__all__ = [
    "AngleTrace",
    "Flag",
    "IgnoredMovement",
    "PhaseStats",
    "RepResult",
    "RepSource",
    "SessionResult",
    "SetResult",
]

SCHEMA = "imu-summary/1"
PHASES = ("concentric_s", "top_hold_s", "eccentric_s", "bottom_pause_s")
#: where a rep comes from: found by the analysis, or added by a labels file (:mod:`imu.corrections`)
RepSource = Literal["detected", "added"]
#: the numeric columns of :meth:`SessionResult.to_frame`, each a :class:`RepResult` attribute
_REP_NUMBERS = (
    "start_s",
    "top_start_s",
    "top_end_s",
    "end_s",
    *PHASES,
    "peak_angle_deg",
    "min_angle_deg",
    "rom_deg",
    "peak_velocity_dps",
    "peak_lowering_velocity_dps",
    "foot_height_cm",
)


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class Flag:
    """A form flag on one rep, with the evidence that raised it."""

    name: FlagName  #: snake_case, e.g. ``momentum``
    evidence: str  #: one human sentence, e.g. "coasted the last 31° after a 240 °/s burst"
    value: float | None = None  #: the measured quantity behind the flag
    unit: str = ""  #: its unit, e.g. ``deg``

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "evidence": self.evidence,
            "value": _num(self.value),
            "unit": self.unit,
        }


@dataclass(frozen=True)
class RepResult:
    """One repetition. Times are in the recording's ``time_s`` base, s."""

    index: int  #: 1-based within its set
    start_s: float  #: leaves the bottom
    top_start_s: float  #: stops rising
    top_end_s: float  #: starts lowering
    end_s: float  #: stops at the bottom
    peak_angle_deg: float  #: highest θ in the rep
    min_angle_deg: float  #: lowest θ in the rep
    peak_velocity_dps: float  #: fastest rise
    peak_lowering_velocity_dps: float  #: fastest lowering (positive number)
    foot_height_cm: float  #: foot above (+) or below (−) the hip line at the peak
    bottom_pause_s: float | None = None  #: next rep's start − this end; None for a set's last rep
    flags: tuple[Flag, ...] = ()
    #: per-phase deviation from the target tempo, s (actual − target), when a target is set
    tempo_error_s: Mapping[str, float] | None = None
    on_tempo: bool | None = None  #: every phase within the tempo tolerance
    source: RepSource = "detected"
    #: False: a rep added by a label where no movement was found — its four instants are the
    #: labelled time (so its phases compute as 0 s), its angles the leg's angle then; its
    #: phases, range and velocities are unknown: ``null`` in :meth:`to_dict`, left out of the
    #: set's figures
    measured: bool = True

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def top_hold_s(self) -> float:
        return self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.top_end_s

    @property
    def rom_deg(self) -> float:
        return self.peak_angle_deg - self.min_angle_deg if self.measured else math.nan

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def flag_names(self) -> tuple[FlagName, ...]:
        return tuple(f.name for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        known = 1.0 if self.measured else math.nan  # unknown phases are null
        return {
            "index": self.index,
            "start_s": _num(self.start_s),
            "top_start_s": _num(self.top_start_s),
            "top_end_s": _num(self.top_end_s),
            "end_s": _num(self.end_s),
            "concentric_s": _num(known * self.concentric_s),
            "top_hold_s": _num(known * self.top_hold_s),
            "eccentric_s": _num(known * self.eccentric_s),
            "bottom_pause_s": _num(self.bottom_pause_s),
            "peak_angle_deg": _num(self.peak_angle_deg, 2),
            "min_angle_deg": _num(self.min_angle_deg, 2),
            "rom_deg": _num(self.rom_deg, 2),
            "peak_velocity_dps": _num(self.peak_velocity_dps, 1),
            "peak_lowering_velocity_dps": _num(self.peak_lowering_velocity_dps, 1),
            "foot_height_cm": _num(self.foot_height_cm, 1),
            "flags": [f.name for f in self.flags],
            "flag_evidence": {f.name: f.to_dict() for f in self.flags},
            "tempo_error_s": (
                None
                if self.tempo_error_s is None
                else {k: _num(v) for k, v in self.tempo_error_s.items()}
            ),
            "on_tempo": self.on_tempo,
            "source": self.source,
            "measured": self.measured,
        }


@dataclass(frozen=True)
class IgnoredMovement:
    """A movement inside or at the edge of a set that was not counted, and why."""

    start_s: float
    end_s: float
    peak_angle_deg: float
    #: ``small``, ``rebound``, ``getting_on``, ``getting_off``, ``swing``, ``fidget``, ``dips``
    kind: str
    reason: str  #: one human sentence, e.g. "rebound 4° after rep 3"

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": _num(self.start_s),
            "end_s": _num(self.end_s),
            "peak_angle_deg": _num(self.peak_angle_deg, 2),
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PhaseStats:
    """Median and spread of one phase over a set's reps, s."""

    median_s: float
    iqr_s: float  #: interquartile range
    min_s: float
    max_s: float

    @classmethod
    def of(cls, values: Sequence[float | None]) -> PhaseStats:
        arr = np.array([v for v in values if v is not None], dtype=np.float64)
        if arr.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan)
        q1, med, q3 = np.percentile(arr, [25, 50, 75])
        return cls(float(med), float(q3 - q1), float(arr.min()), float(arr.max()))

    def to_dict(self) -> dict[str, float | None]:
        return {
            "median_s": _num(self.median_s),
            "iqr_s": _num(self.iqr_s),
            "min_s": _num(self.min_s),
            "max_s": _num(self.max_s),
        }


@dataclass(frozen=True)
class SetResult:
    """One set: a run of reps with no rest longer than the rest threshold."""

    index: int  #: 1-based
    start_s: float
    end_s: float
    reps: tuple[RepResult, ...]
    tempo: str  #: median eccentric-bottom-concentric-top, whole seconds, e.g. ``3-0-2-1``
    phase_stats: Mapping[str, PhaseStats]  #: keyed by ``concentric_s`` etc.
    time_under_tension_s: float  #: sum of concentric + hold + eccentric over the set
    flag_counts: Mapping[FlagName, int]
    #: drop of peak lifting velocity from the first reps to the last, % (positive = slower)
    velocity_loss_pct: float
    #: drop of range of motion from the first reps to the last, ° (positive = shorter)
    rom_loss_deg: float
    #: share of reps on the target tempo, % (None without a target)
    tempo_adherence_pct: float | None = None
    #: movements inside or at the edges of the set that were not counted
    ignored: tuple[IgnoredMovement, ...] = ()
    #: the set's rhythm from the autocorrelation of its rate, s (None: not periodic)
    period_s: float | None = None
    #: the exercise profile the set was judged with
    exercise: str | None = None
    #: how the profile was chosen from the data (``--exercise auto``), or how it compares
    choice: ExerciseChoice | None = None

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _num(self.start_s),
            "end_s": _num(self.end_s),
            "rep_count": self.rep_count,
            "tempo": self.tempo,
            "phase_stats": {k: v.to_dict() for k, v in self.phase_stats.items()},
            "time_under_tension_s": _num(self.time_under_tension_s, 2),
            "flag_counts": dict(self.flag_counts),
            "velocity_loss_pct": _num(self.velocity_loss_pct, 1),
            "rom_loss_deg": _num(self.rom_loss_deg, 1),
            "tempo_adherence_pct": _num(self.tempo_adherence_pct, 1),
            "period_s": _num(self.period_s, 2),
            "exercise": self.exercise,
            "exercise_choice": None if self.choice is None else self.choice.to_dict(),
            "reps": [r.to_dict() for r in self.reps],
            "ignored": [m.to_dict() for m in self.ignored],
        }


@dataclass(frozen=True)
class AngleTrace:
    """The leg angle over time, as the charts need it (see :mod:`imu.angle`)."""

    time_s: npt.NDArray[np.float64]
    theta_deg: npt.NDArray[np.float64]  #: leg angle above the hip line
    rate_dps: npt.NDArray[np.float64]  #: dθ/dt about the hip axis


@dataclass(frozen=True)
class SessionResult:
    """Everything :func:`imu.analyze` found in one recording."""

    recording: str  #: file name
    sample_rate_hz: float
    settings: Settings
    sets: tuple[SetResult, ...]
    trace: AngleTrace
    leg_length_m: float
    leg_length_source: str  #: ``option``, ``estimated`` or ``default``
    hip_line_offset_deg: float  #: hip line elevation used, °
    shank_axis: str  #: the axis used, e.g. ``+x``
    gaps: tuple[Gap, ...] = ()  #: stretches of missing samples in the recording
    notes: tuple[str, ...] = ()  #: things the user should know (estimates, gaps, …)
    extras: Mapping[str, Any] = field(default_factory=dict)
    #: the recording's ``# key: value`` metadata lines (``leg``, ``started_at``, …)
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: the labels file applied (its name), if any, and what each of its corrections did
    labels_file: str | None = None
    corrections: tuple[AppliedCorrection, ...] = ()

    @property
    def exercise(self) -> str:
        return self.settings.exercise

    @property
    def rep_count(self) -> int:
        return sum(s.rep_count for s in self.sets)

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` document (contracts §2)."""
        return {
            "schema": SCHEMA,
            "recording": self.recording,
            "sample_rate_hz": _num(self.sample_rate_hz, 3),
            "exercise": self.exercise,
            "rep_count": self.rep_count,
            "set_count": len(self.sets),
            "target_tempo": self.settings.target_tempo,
            "leg_length_m": _num(self.leg_length_m, 3),
            "leg_length_source": self.leg_length_source,
            "hip_line_offset_deg": _num(self.hip_line_offset_deg, 2),
            "tolerance_deg": self.settings.tolerance_deg,
            "shank_axis": self.shank_axis,
            "gaps": [
                {
                    "start_s": _num(g.start_s),
                    "end_s": _num(g.end_s),
                    "missing_samples": g.missing_samples,
                }
                for g in self.gaps
            ],
            "notes": list(self.notes),
            "labels_file": self.labels_file,
            "corrections": [c.to_dict() for c in self.corrections],
            "sets": [s.to_dict() for s in self.sets],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per rep, indexed by (set, rep); phase columns in seconds. The values are the
        analysis's own, unrounded (``summary.json`` rounds them for reading); a missing value
        (the last rep's bottom pause) is NaN."""
        rows = []
        for s in self.sets:
            for r in s.reps:
                shown = r.to_dict()  # None where summary.json says null (a rep added unmeasured)
                row: dict[str, Any] = {"set": s.index, "rep": r.index}
                for name in _REP_NUMBERS:
                    value = getattr(r, name)
                    row[name] = math.nan if value is None or shown[name] is None else float(value)
                row["flags"] = ";".join(r.flag_names)
                row["on_tempo"] = r.on_tempo
                row["source"] = r.source
                rows.append(row)
        columns = ["set", "rep", *_REP_NUMBERS, "flags", "on_tempo", "source"]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.set_index(["set", "rep"])

    def sets_frame(self) -> pd.DataFrame:
        """One row per set, indexed by set."""
        rows = []
        for s in self.sets:
            row: dict[str, Any] = {
                "set": s.index,
                "start_s": s.start_s,
                "end_s": s.end_s,
                "rep_count": s.rep_count,
                "tempo": s.tempo,
                "time_under_tension_s": s.time_under_tension_s,
                "velocity_loss_pct": s.velocity_loss_pct,
                "rom_loss_deg": s.rom_loss_deg,
                "tempo_adherence_pct": s.tempo_adherence_pct,
            }
            for phase, st in s.phase_stats.items():
                row[f"{phase}_median"] = st.median_s
                row[f"{phase}_iqr"] = st.iqr_s
            for name, count in s.flag_counts.items():
                row[f"flag_{name}"] = count
            rows.append(row)
        return pd.DataFrame(rows).set_index("set") if rows else pd.DataFrame()
