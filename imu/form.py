"""Stage 3 — form: per-rep metrics and flags, each flag with the evidence that raised it.

Flags (snake_case, documented in the README):

``above_hip_line``
    the rep's peak θ is above the exercise's tolerance.
``momentum``
    the lift was thrown rather than pressed. Three signatures, each physical:
    *coasting* — after the burst the leg decelerates at least ``_COAST_FRACTION`` as fast as
    gravity alone would slow a freely swinging straight leg, ``(3g / 2L)·cos θ``, over at least
    ``coast_min_deg`` (muscles that still press make the leg slow down more gently);
    *bounce* — the leg reverses at the bottom from lowering to lifting by more than
    ``bounce_velocity_dps`` within ``bounce_window_s``, with no pause, and leaves the bottom at
    least half that fast;
    *swing-through* — the leg swings more than ``swing_through_deg`` past hanging vertical, under
    the bench (machine).
``drop``
    lowered faster than ``drop_velocity_dps``: the legs were let fall.
``no_hold``
    the top hold lasted less than ``hold_min_s``.
``partial``
    the peak stayed more than ``partial_margin_deg`` below the hip line, or the range of motion
    was under 60 % of the set's median.
``rest_at_bottom``
    the bottom pause after the rep lasted more than ``rest_at_bottom_s``.
``clipped``
    the sensor's data during the rep cannot be trusted: a channel saturated (sat at its full
    scale) or flat-lined (see :mod:`imu.quality`); the other flags of the rep may be wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.recording import GRAVITY_MPS2
from imu.results import Flag
from imu.settings import Settings

__all__ = ["LegLength", "RepKinematics", "momentum_flag", "rep_flags"]

FloatArray = npt.NDArray[np.float64]

DEFAULT_LEG_LENGTH_M = 0.9
_COAST_FRACTION = 0.5
#: the share of the set's median ROM under which a rep is partial
_PARTIAL_ROM_FRACTION = 0.6


@dataclass(frozen=True)
class LegLength:
    """Hip-to-ankle length used for foot heights and gravity's pull on the leg."""

    length_m: float
    source: str  #: ``option``, ``estimated`` or ``default``
    note: str


@dataclass(frozen=True)
class RepKinematics:
    """The samples of one rep and the moment just before it, for the flag rules."""

    time_s: FloatArray
    theta_deg: FloatArray
    rate_dps: FloatArray
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    peak_angle_deg: float
    min_angle_deg: float
    peak_lowering_velocity_dps: float


def _coast_deg(k: RepKinematics, *, leg_length_m: float) -> tuple[float, float]:
    """Angle gained while decelerating nearly as fast as gravity alone would, and peak rate."""
    t, th, v = k.time_s, k.theta_deg, k.rate_dps
    i0, i1 = np.searchsorted(t, [k.start_s, k.top_start_s])
    i1 = min(max(i1, i0 + 2), t.shape[0])
    if i1 - i0 < 3:
        return 0.0, float(v[i0:i1].max(initial=0.0))
    seg_v = v[i0:i1]
    j = int(np.argmax(seg_v))
    vmax = float(seg_v[j])
    tail_t, tail_v, tail_th = t[i0 + j : i1], seg_v[j:], th[i0 + j : i1]
    if tail_t.shape[0] < 3:
        return 0.0, vmax
    decel = -np.gradient(tail_v, tail_t)  # °/s²
    gravity = math.degrees(1.5 * GRAVITY_MPS2 / leg_length_m) * np.cos(np.radians(tail_th))
    coasting = (decel >= _COAST_FRACTION * gravity) & (gravity > 0) & (tail_v > 0)
    gained = np.diff(tail_th, prepend=tail_th[0])
    return float(np.sum(np.clip(gained, 0.0, None)[coasting])), vmax


def _bounce(k: RepKinematics, settings: Settings) -> float:
    """Rate swing (°/s) from lowering into lifting around the rep's start — 0 unless the leg
    also leaves the bottom fast (at least half the bounce threshold within the window): a
    controlled lift straight after a dropped rep is not a bounce."""
    w = settings.bounce_window_s
    t, v = k.time_s, k.rate_dps
    before = v[(t >= k.start_s - w) & (t < k.start_s + 0.25 * w)]
    after = v[(t >= k.start_s) & (t < k.start_s + w)]
    if before.size == 0 or after.size == 0:
        return 0.0
    lift = float(after.max())
    if lift < 0.5 * settings.bounce_velocity_dps:
        return 0.0
    return float(lift - min(0.0, before.min()))


def momentum_flag(
    k: RepKinematics,
    *,
    settings: Settings,
    leg_length_m: float,
    previous_pause_s: float | None,
) -> Flag | None:
    """The ``momentum`` flag of one rep, or ``None``: coasting, a bounce, a swing-through.

    Needs only the samples up to the top (``top_start_s``) and the moment before the start, so
    the live detector calls it as soon as the leg stops rising.
    """
    evidence: list[str] = []
    value = 0.0
    if settings.coast_min_deg > 0:
        coast, vmax = _coast_deg(k, leg_length_m=leg_length_m)
        if coast >= settings.coast_min_deg:
            evidence.append(f"coasted the last {coast:.0f}° after a {vmax:.0f} °/s burst")
            value = coast
    if settings.bounce_velocity_dps > 0 and previous_pause_s is not None and previous_pause_s < 0.2:
        swing = _bounce(k, settings)
        if swing >= settings.bounce_velocity_dps:
            evidence.append(
                f"bounced out of the bottom: rate swung {swing:.0f} °/s within "
                f"{settings.bounce_window_s:g} s"
            )
            value = value or swing
    if settings.swing_through_deg > 0:
        past = -90.0 - k.min_angle_deg
        if past > settings.swing_through_deg:
            evidence.append(f"swung {past:.0f}° past vertical under the bench")
            value = value or past
    if not evidence:
        return None
    return Flag("momentum", "; ".join(evidence), value, "deg" if value else "")


def rep_flags(
    k: RepKinematics,
    *,
    settings: Settings,
    leg_length_m: float,
    bottom_pause_s: float | None,
    previous_pause_s: float | None,
    set_median_rom_deg: float | None,
    data_problem: str = "",
) -> tuple[Flag, ...]:
    """All flags of one rep. ``previous_pause_s`` is the pause before it (None for a set's first
    rep): a bounce needs the leg to have come straight down into this rep. ``data_problem``
    (:meth:`imu.quality.SensorQuality.evidence`) makes it ``clipped``."""
    flags: list[Flag] = []
    tol = settings.tolerance_deg
    if tol is not None and k.peak_angle_deg > tol:
        height = 100.0 * leg_length_m * math.sin(math.radians(k.peak_angle_deg))
        flags.append(
            Flag(
                "above_hip_line",
                f"peak {k.peak_angle_deg:+.1f}° is above the {tol:g}° tolerance: "
                f"foot {height:.0f} cm above the hip line",
                k.peak_angle_deg,
                "deg",
            )
        )
    momentum = momentum_flag(
        k, settings=settings, leg_length_m=leg_length_m, previous_pause_s=previous_pause_s
    )
    if momentum is not None:
        flags.append(momentum)
    if settings.drop_velocity_dps > 0 and k.peak_lowering_velocity_dps > settings.drop_velocity_dps:
        flags.append(
            Flag(
                "drop",
                f"lowered at {k.peak_lowering_velocity_dps:.0f} °/s "
                f"(controlled is under {settings.drop_velocity_dps:g} °/s)",
                k.peak_lowering_velocity_dps,
                "dps",
            )
        )
    hold = k.top_end_s - k.top_start_s
    if settings.hold_min_s > 0 and hold < settings.hold_min_s:
        flags.append(
            Flag(
                "no_hold",
                f"held the top {hold:.2f} s (at least {settings.hold_min_s:g} s)",
                hold,
                "s",
            )
        )
    partial = _partial_evidence(k, settings, set_median_rom_deg)
    if partial:
        flags.append(Flag("partial", partial, k.peak_angle_deg - k.min_angle_deg, "deg"))
    if (
        settings.rest_at_bottom_s > 0
        and bottom_pause_s is not None
        and bottom_pause_s > settings.rest_at_bottom_s
    ):
        flags.append(
            Flag(
                "rest_at_bottom",
                f"rested {bottom_pause_s:.1f} s at the bottom (more than "
                f"{settings.rest_at_bottom_s:g} s)",
                bottom_pause_s,
                "s",
            )
        )
    if data_problem:
        flags.append(Flag("clipped", data_problem))
    return tuple(flags)


def _partial_evidence(
    k: RepKinematics, settings: Settings, set_median_rom_deg: float | None
) -> str:
    if settings.partial_margin_deg > 0 and k.peak_angle_deg < -settings.partial_margin_deg:
        return (
            f"peak {k.peak_angle_deg:+.1f}° stayed more than {settings.partial_margin_deg:g}° "
            "below the hip line"
        )
    rom = k.peak_angle_deg - k.min_angle_deg
    if set_median_rom_deg and rom < _PARTIAL_ROM_FRACTION * set_median_rom_deg:
        return (
            f"range of motion {rom:.0f}° is under 60 % of the set's median "
            f"{set_median_rom_deg:.0f}°"
        )
    return ""
