"""Hand-built, realistic :class:`SessionResult` objects for the chart tests (no pipeline needed).

A session is described rep by rep (:class:`RepSpec`); :func:`make_session` synthesises the leg
angle trace those reps would produce (rests with walking between sets, a bench bottom around
−40°) and fills in every result field the way the analysis defines it (contracts §3): tempo and
set summaries come from :mod:`imu.summary`, the code the pipeline calls. Movements
that are not reps — a rebound after a rep (``RepSpec.rebound_deg``), a leg swing while getting on
and off (``edge_swings``) — are drawn into the trace and listed in the set's ``ignored``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.recording import Gap
from imu.results import (
    AngleTrace,
    Flag,
    IgnoredMovement,
    RepResult,
    SessionResult,
    SetResult,
)
from imu.settings import Settings
from imu.summary import judge_tempo, summary_for_set

__all__ = ["RepSpec", "default_sets", "make_session", "uniform_set"]

FloatArray = npt.NDArray[np.float64]

_EVIDENCE = {
    "above_hip_line": "peak {peak:+.1f}° is above the 5° tolerance",
    "momentum": "coasted the last 18° after a {vel:.0f} °/s burst",
    "drop": "lowered at {low:.0f} °/s",
    "no_hold": "held the top for only {hold:.2f} s",
    "partial": "peaked at {peak:+.1f}°, well below the hip line",
    "rest_at_bottom": "rested {pause:.1f} s at the bottom",
}


@dataclass(frozen=True)
class RepSpec:
    """How one synthetic rep moves. Durations in s, angles in °."""

    concentric_s: float = 2.0
    top_hold_s: float = 1.0
    eccentric_s: float = 3.0
    bottom_pause_s: float = 0.4
    peak_deg: float = -1.5
    bottom_deg: float = -40.0
    flags: tuple[str, ...] = ()
    #: a bounce of this height off the bottom right after the rep (0 = none; needs a bottom
    #: pause of at least 0.6 s), listed as an ignored ``rebound``
    rebound_deg: float = 0.0


_REBOUND_S = 0.5  # how long a rebound lasts
_SWING_S = 1.6  # how long a swing while getting on or off lasts
_SWING_REST_S = 1.5  # still at the bottom between a swing and the set


def uniform_set(n: int, *, flags: tuple[str, ...] = (), seed: int = 0) -> list[RepSpec]:
    """``n`` slightly varied on-tempo reps, each carrying ``flags``."""
    rng = np.random.default_rng(seed)
    return [
        RepSpec(
            concentric_s=float(2.0 + rng.normal(0, 0.15)),
            top_hold_s=float(1.0 + rng.normal(0, 0.1)),
            eccentric_s=float(3.0 + rng.normal(0, 0.2)),
            bottom_pause_s=float(abs(0.4 + rng.normal(0, 0.1))),
            peak_deg=float(-1.5 + rng.normal(0, 1.0)),
            bottom_deg=float(-40.0 + rng.normal(0, 1.5)),
            flags=flags,
        )
        for _ in range(n)
    ]


def default_sets() -> list[list[RepSpec]]:
    """Three sets (12, 10, 8 reps) with fatigue and a realistic mix of flags."""
    set1 = uniform_set(12, seed=1)
    set1[4] = RepSpec(2.0, 1.0, 3.0, 0.4, peak_deg=9.0, flags=("above_hip_line",))
    set1[8] = RepSpec(0.7, 0.6, 2.6, 0.3, peak_deg=2.0, flags=("momentum",))
    set2 = uniform_set(10, seed=2)
    set2 = [
        RepSpec(
            r.concentric_s + 0.08 * i,
            r.top_hold_s,
            r.eccentric_s,
            r.bottom_pause_s,
            r.peak_deg - 0.4 * i,
            r.bottom_deg,
        )
        for i, r in enumerate(set2)
    ]
    set2[2] = RepSpec(0.6, 0.8, 2.8, 0.3, peak_deg=8.0, flags=("momentum", "above_hip_line"))
    set2[6] = RepSpec(2.4, 0.1, 3.2, 0.5, peak_deg=-3.0, flags=("no_hold",))
    set3 = uniform_set(8, seed=3)
    set3 = [
        RepSpec(
            r.concentric_s + 0.15 * i,
            r.top_hold_s,
            r.eccentric_s - 0.1 * i,
            r.bottom_pause_s,
            r.peak_deg - 0.8 * i,
            r.bottom_deg,
        )
        for i, r in enumerate(set3)
    ]
    set3[3] = RepSpec(2.2, 0.9, 0.6, 0.5, peak_deg=-2.0, flags=("drop",))
    set3[4] = RepSpec(2.3, 1.0, 3.0, 5.2, peak_deg=-3.0, flags=("rest_at_bottom",))
    set3[7] = RepSpec(2.9, 0.7, 2.5, 0.4, peak_deg=-16.0, flags=("partial",))
    return [set1, set2, set3]


def _ramp(n: int, a: float, b: float) -> FloatArray:
    """Smooth (half-cosine) move from ``a`` to ``b`` over ``n`` samples."""
    x = np.linspace(0.0, 1.0, max(n, 1), endpoint=False)
    return a + (b - a) * (1.0 - np.cos(np.pi * x)) / 2.0


def _walk(n: int, rate_hz: float, rng: np.random.Generator) -> FloatArray:
    """Standing and walking between sets: the leg hangs near −85° and swings ±15°."""
    t = np.arange(n) / rate_hz
    return (
        -85.0
        + 15.0 * np.sin(2 * np.pi * 0.9 * t) * (0.5 + 0.5 * np.sin(0.3 * t))
        + rng.normal(0, 0.6, n)
    )


def _swing(n: int, bottom_deg: float, peak_deg: float) -> FloatArray:
    """Up and straight back down, no hold: a half sine from the bottom to ``peak_deg``."""
    return bottom_deg + (peak_deg - bottom_deg) * np.sin(np.pi * np.arange(n) / max(n, 1))


def _edge_swing(
    t_s: float, bottom_deg: float, peak_deg: float, rate_hz: float, *, getting_on: bool
) -> tuple[FloatArray, IgnoredMovement]:
    """A swing starting at ``t_s`` and the ignored movement it is; the rest is on the set's side."""
    n_swing, n_rest = round(_SWING_S * rate_hz), round(_SWING_REST_S * rate_hz)
    swing = _swing(n_swing, bottom_deg, peak_deg)
    rest = np.full(n_rest, bottom_deg)
    seg = np.concatenate([swing, rest] if getting_on else [rest, swing])
    start = t_s + (0 if getting_on else n_rest / rate_hz)
    when = "getting on" if getting_on else "getting off"
    movement = IgnoredMovement(
        start_s=start,
        end_s=start + n_swing / rate_hz,
        peak_angle_deg=peak_deg,
        kind="swing",
        reason=f"swing while {when}: no hold, {_SWING_REST_S:g} s apart",
    )
    return seg, movement


def make_session(
    sets: Sequence[Sequence[RepSpec]] | None = None,
    *,
    target_tempo: str | None = "3-0-2-1",
    sample_rate_hz: float = 100.0,
    rest_s: float = 60.0,
    lead_s: float = 15.0,
    notes: tuple[str, ...] | None = None,
    seed: int = 0,
    edge_swings: bool = False,
) -> SessionResult:
    """A session made of ``sets`` (default :func:`default_sets`); ``[]`` gives zero sets.
    ``edge_swings``: every set has a swing while getting on and one while getting off."""
    specs = default_sets() if sets is None else [list(s) for s in sets]
    settings = Settings(target_tempo=target_tempo)
    target = settings.tempo
    rng = np.random.default_rng(seed)
    dt = 1.0 / sample_rate_hz
    pieces: list[FloatArray] = [_walk(round(lead_s * sample_rate_hz), sample_rate_hz, rng)]
    n_done = pieces[0].size
    set_results: list[SetResult] = []

    for set_no, reps in enumerate(specs, start=1):
        # get on the bench: from hanging to the first rep's bottom
        bottom0 = reps[0].bottom_deg if reps else -40.0
        pieces.append(_ramp(round(2.0 * sample_rate_hz), -85.0, bottom0))
        pieces.append(np.full(round(1.0 * sample_rate_hz), bottom0))
        n_done += pieces[-1].size + pieces[-2].size
        peak0 = reps[0].peak_deg if reps else -10.0
        ignored: list[IgnoredMovement] = []
        if edge_swings:
            seg, m = _edge_swing(
                n_done * dt, bottom0, (bottom0 + peak0) / 2, sample_rate_hz, getting_on=True
            )
            pieces.append(seg)
            n_done += seg.size
            ignored.append(m)
        rep_results: list[RepResult] = []
        for i, spec in enumerate(reps):
            last = i == len(reps) - 1
            n_con = max(round(spec.concentric_s * sample_rate_hz), 1)
            n_top = max(round(spec.top_hold_s * sample_rate_hz), 1)
            n_ecc = max(round(spec.eccentric_s * sample_rate_hz), 1)
            n_bot = max(round(spec.bottom_pause_s * sample_rate_hz), 1)
            start = n_done * dt
            top_start = start + n_con * dt
            top_end = top_start + n_top * dt
            end = top_end + n_ecc * dt
            nxt_bottom = spec.bottom_deg if last else reps[i + 1].bottom_deg
            bottom = np.full(n_bot, nxt_bottom)
            if spec.rebound_deg > 0:
                n_reb = min(round(_REBOUND_S * sample_rate_hz), n_bot)
                bottom[:n_reb] = _swing(n_reb, nxt_bottom, nxt_bottom + spec.rebound_deg)
                ignored.append(
                    IgnoredMovement(
                        start_s=end,
                        end_s=end + n_reb * dt,
                        peak_angle_deg=nxt_bottom + spec.rebound_deg,
                        kind="rebound",
                        reason=f"rebound {spec.rebound_deg:.0f}° after rep {i + 1}",
                    )
                )
            seg = np.concatenate(
                [
                    _ramp(n_con, spec.bottom_deg, spec.peak_deg),
                    spec.peak_deg - 0.3 * np.linspace(0.0, 1.0, n_top),
                    _ramp(n_ecc, spec.peak_deg - 0.3, nxt_bottom),
                    bottom,
                ]
            )
            pieces.append(seg + rng.normal(0, 0.25, seg.size))
            n_done += seg.size
            amplitude = spec.peak_deg - spec.bottom_deg
            peak_vel = amplitude * math.pi / (2 * spec.concentric_s)
            low_vel = (spec.peak_deg - nxt_bottom) * math.pi / (2 * spec.eccentric_s)
            values = {
                "peak": spec.peak_deg,
                "vel": peak_vel,
                "low": low_vel,
                "hold": spec.top_hold_s,
                "pause": spec.bottom_pause_s,
            }
            flags = tuple(
                Flag(name, _EVIDENCE.get(name, name).format(**values)) for name in spec.flags
            )
            pause = None if last else n_bot * dt
            rep = RepResult(
                index=i + 1,
                start_s=start,
                top_start_s=top_start,
                top_end_s=top_end,
                end_s=end,
                peak_angle_deg=spec.peak_deg,
                min_angle_deg=min(spec.bottom_deg, nxt_bottom),
                peak_velocity_dps=peak_vel,
                peak_lowering_velocity_dps=low_vel,
                foot_height_cm=88.0 * math.sin(math.radians(spec.peak_deg)),
                bottom_pause_s=pause,
                flags=flags,
            )
            if target is not None:
                rep = judge_tempo(rep, target, settings.tempo_tolerance_s)
            rep_results.append(rep)
        # get off the bench and walk
        last_bottom = reps[-1].bottom_deg if reps else -40.0
        if edge_swings:
            seg, m = _edge_swing(
                n_done * dt,
                last_bottom,
                (last_bottom + peak0) / 2,
                sample_rate_hz,
                getting_on=False,
            )
            pieces.append(seg)
            n_done += seg.size
            ignored.append(m)
        pieces.append(_ramp(round(2.0 * sample_rate_hz), last_bottom, -85.0))
        pieces.append(_walk(round(rest_s * sample_rate_hz), sample_rate_hz, rng))
        n_done += pieces[-1].size + pieces[-2].size
        summary = summary_for_set(set_no, rep_results)
        set_results.append(dataclasses.replace(summary, ignored=tuple(ignored)))

    time_s = np.arange(n_done) * dt
    theta = np.concatenate(pieces)
    rate = np.gradient(theta, dt)
    if notes is None:
        notes = (
            "Leg length estimated from the data (0.88 m); pass --leg-length-m to set it.",
            "Hip line taken as horizontal (offset 0°).",
        )
    return SessionResult(
        recording="session_2026-11-21.csv",
        sample_rate_hz=sample_rate_hz,
        settings=settings,
        sets=tuple(set_results),
        trace=AngleTrace(time_s=time_s, theta_deg=theta, rate_dps=rate),
        leg_length_m=0.88,
        leg_length_source="estimated",
        hip_line_offset_deg=0.0,
        shank_axis="+x",
        gaps=(Gap(95.0, 95.4, 40),) if specs else (),
        notes=notes,
    )
