"""Lag-corrected boundary instants: where the leg actually starts or stops moving.

A threshold on the rate crosses late, because velocity grows smoothly from zero. We measure the
times at which the rate crosses three levels ``L, 2L, 4L`` (``L`` ≈ 8 % of the phase's peak rate,
above the noise floor) and extrapolate to zero velocity assuming a power-law onset
``v ∝ (t − t0)^p`` — exact for linear (``p = 1``) and minimum-jerk-like (``p = 2``) onsets; ``p``
is estimated from the three crossings. Crossings are measured from the rate's level in the
neighbouring stops (``rest_start_dps``, ``rest_end_dps``), which a residual gyro bias or a slow
sway keeps slightly off zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["onset_time", "phase_bounds", "rest_level"]

FloatArray = npt.NDArray[np.float64]

#: fraction of the rep's ROM that may remain when a boundary search stops at a pause mid-phase
_RESIDUAL_FRAC = 0.25
_MAX_BURSTS = 4
#: the lowest crossing level as a fraction of the phase's peak rate
_LEVEL_FRAC = 0.08


def _crossings(
    time_s: FloatArray,
    v: FloatArray,
    i_from: int,
    levels: list[float],
    *,
    forward: bool,
    limit: int,
) -> list[float | None]:
    """For each of ``levels``: the time at which ``v`` (positive bump) last exceeds it walking
    from ``i_from``, all levels in one pass over the samples.

    Walks forward (or backward) from ``i_from`` to the first sample below the level and
    interpolates linearly between it and its neighbour. ``None`` if not found before ``limit``.
    """
    seg = v[i_from : limit + 1] if forward else v[limit : i_from + 1][::-1]
    below = seg < np.array(levels)[:, None]
    step = 1 if forward else -1
    out: list[float | None] = []
    for row, (level, first) in enumerate(zip(levels, below.argmax(axis=1).tolist(), strict=True)):
        if not below[row, first]:
            out.append(None)
            continue
        j = i_from + step * first
        k = j - step
        if k < 0 or k >= v.shape[0]:
            out.append(float(time_s[j]))
            continue
        vj, vk = v[j], v[k]
        frac = 0.0 if vk == vj else (level - vj) / (vk - vj)
        out.append(float(time_s[j] + frac * (time_s[k] - time_s[j])))
    return out


def onset_time(
    time_s: FloatArray,
    v: FloatArray,
    i_peak: int,
    *,
    forward: bool,
    limit: int,
    floor_dps: float,
) -> float:
    """Lag-corrected instant where a velocity bump ``v`` (positive) starts or ends.

    ``forward=False`` finds the start of the bump before ``i_peak``; ``forward=True`` its end.
    Uses crossings of ``L, 2L, 4L`` and a power-law extrapolation to zero velocity, clamped to
    the last sample at or below zero velocity.
    """
    vmax = float(v[i_peak])
    sign = 1.0 if forward else -1.0
    base = max(floor_dps, _LEVEL_FRAC * vmax)
    if vmax <= 1.5 * base:
        levels = [0.5 * vmax]
        ratio_ideal = None
    elif 4.0 * base > 0.8 * vmax:
        levels = [base, 0.5 * (base + 0.8 * vmax), 0.8 * vmax]
        ratio_ideal = None
    else:
        levels = [base, 2.0 * base, 4.0 * base]
        ratio_ideal = 2.0
    # first: never beyond where the rate has clearly turned the other way
    zero_t, *ts = _crossings(time_s, v, i_peak, [-floor_dps, *levels], forward=forward, limit=limit)
    bound = float(time_s[limit]) if zero_t is None else zero_t
    if len(ts) == 1:
        return bound if ts[0] is None else ts[0]
    t1, t2, t3 = ts
    if t1 is None:
        return bound
    if t2 is None or t3 is None:
        return t1
    # distances from the bump's centre, growing toward the boundary
    centre = float(time_s[i_peak])
    d1, d2, d3 = (sign * (t - centre) for t in (t1, t2, t3))
    gap12, gap23 = d1 - d2, d2 - d3
    if gap12 <= 0 or gap23 <= 0:
        return t1
    if ratio_ideal is None:
        # levels not in a 1:2:4 ladder: assume a linear onset through the two lowest crossings
        slope = (levels[1] - levels[0]) / gap12
        t0 = t1 + sign * levels[0] / slope
    else:
        r = gap23 / gap12  # = 2**(1/p) for v ∝ (t − t0)**p
        r = min(max(r, 2.0 ** (1.0 / 3.0)), 2.0 ** (1.0 / 0.7))
        t0 = t1 + sign * gap12 / (r - 1.0)
    # never beyond the zero crossing (the leg was not moving the other way)
    return min(t0, bound) if forward else max(t0, bound)


@dataclass(frozen=True)
class _Phase:
    start: float
    end: float


def rest_level(v: FloatArray, floor_dps: float) -> float:
    """The rate's level in a stop: its median if that is within the noise floor; otherwise the
    leg was not resting there (a bounce, a turnaround) and the level is zero."""
    n = v.shape[0]
    if n == 0:
        return 0.0
    ordered = np.sort(v)  # the median, without np.median's overhead on a handful of samples
    level = float(0.5 * (ordered[(n - 1) // 2] + ordered[n // 2]))
    return level if abs(level) <= floor_dps else 0.0


def _phase_bounds_impl(
    time_s: FloatArray,
    theta: FloatArray,
    v: FloatArray,
    lo: int,
    hi: int,
    *,
    rom: float,
    floor_dps: float,
    rising: bool,
    rest_start_dps: float = 0.0,
    rest_end_dps: float = 0.0,
) -> tuple[_Phase, float] | None:
    """Start and end of the rising (or falling) phase within samples ``[lo, hi]``.

    Handles phases made of several bursts (a pause halfway up): bursts are added while more than
    ``_RESIDUAL_FRAC`` of the ROM remains outside the found interval. ``rest_start_dps`` and
    ``rest_end_dps`` are the rate's level in the stops before and after the phase (a residual
    gyro bias, sway): the boundaries are where the rate leaves and returns to those levels.
    """
    if hi - lo < 2:
        return None
    s = 1.0 if rising else -1.0
    sv = s * v
    i_max = lo + int(np.argmax(sv[lo : hi + 1]))
    vmax = float(sv[i_max])
    if vmax <= floor_dps:
        return None
    sv_start = sv - s * rest_start_dps
    sv_end = sv - s * rest_end_dps
    t_start = onset_time(time_s, sv_start, i_max, forward=False, limit=lo, floor_dps=floor_dps)
    t_end = onset_time(time_s, sv_end, i_max, forward=True, limit=hi, floor_dps=floor_dps)
    th_lo, th_hi = theta[lo], theta[hi]
    for _ in range(_MAX_BURSTS):
        i_s = int(np.searchsorted(time_s, t_start))
        remaining = s * (theta[min(i_s, hi)] - th_lo)
        if remaining <= _RESIDUAL_FRAC * rom or i_s - lo < 3:
            break
        j = lo + int(np.argmax(sv[lo:i_s]))
        if sv[j] <= floor_dps:
            break
        t_start = onset_time(time_s, sv_start, j, forward=False, limit=lo, floor_dps=floor_dps)
    for _ in range(_MAX_BURSTS):
        i_e = int(np.searchsorted(time_s, t_end))
        remaining = s * (th_hi - theta[max(min(i_e, hi), lo)])
        if remaining <= _RESIDUAL_FRAC * rom or hi - i_e < 3:
            break
        j = i_e + int(np.argmax(sv[i_e : hi + 1]))
        if sv[j] <= floor_dps:
            break
        t_end = onset_time(time_s, sv_end, j, forward=True, limit=hi, floor_dps=floor_dps)
    return _Phase(t_start, t_end), vmax


def phase_bounds(
    time_s: FloatArray,
    theta_s: FloatArray,
    v: FloatArray,
    lo: int,
    hi: int,
    *,
    rom_deg: float,
    floor_dps: float,
    rising: bool,
    rest_start_dps: float = 0.0,
    rest_end_dps: float = 0.0,
) -> tuple[float, float, float] | None:
    """Lag-corrected ``(start_s, end_s, peak_rate_dps)`` of the rising (or falling) phase within
    samples ``[lo, hi]``; ``None`` if the leg barely moved. Handles phases made of several bursts
    (a pause halfway up): bursts are added while more than a quarter of the ROM remains outside
    the interval found."""
    found = _phase_bounds_impl(
        time_s, theta_s, v, lo, hi, rom=rom_deg, floor_dps=floor_dps, rising=rising,
        rest_start_dps=rest_start_dps, rest_end_dps=rest_end_dps,
    )  # fmt: skip
    if found is None:
        return None
    phase, vmax = found
    return phase.start, phase.end, vmax
