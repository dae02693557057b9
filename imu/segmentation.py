"""Stage 2 — segmentation: reps, their four boundary instants, and sets.

Input is the leg angle θ and its rate (:mod:`imu.angle`). Plain functions on arrays.

Reps
    Peaks of the low-passed θ with a prominence of at least ``min_rom_deg`` on both sides and a
    height of at least ``top_min_deg`` are rep candidates (walking, sitting and a jiggling knee
    keep the shank far below the hip line and are rejected here).
Boundaries
    Each rep has four instants where the leg *actually* starts or stops moving. A threshold on
    the rate crosses late, because velocity grows smoothly from zero. We measure the times at
    which the rate crosses three levels ``L, 2L, 4L`` (``L`` ≈ 8 % of the phase's peak rate,
    above the noise floor) and extrapolate to zero velocity assuming a power-law onset
    ``v ∝ (t − t0)^p`` — exact for linear (``p = 1``) and minimum-jerk-like (``p = 2``) onsets;
    ``p`` is estimated from the three crossings.
Sets
    Reps separated by at most ``rest_threshold_s`` form a set; fewer than ``min_set_reps`` reps
    are not a set. Reps at the edges of a set that start or end far from the set's usual bottom
    (climbing onto or off the bench) are dropped.

Intervals are half-open; rep tables are DataFrames with a ``rep_id`` index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "detect_reps",
    "group_sets",
    "lowpass",
    "noise_floor_dps",
    "onset_time",
    "phase_bounds",
    "rep_bottoms",
    "rise_bottom",
]

FloatArray = npt.NDArray[np.float64]

#: fraction of the rep's ROM that may remain when a boundary search stops at a pause mid-phase
_RESIDUAL_FRAC = 0.25
_MAX_BURSTS = 4
#: the lowest crossing level as a fraction of the phase's peak rate
_LEVEL_FRAC = 0.08
#: a rep at a set's edge this long apart from it (at least) may be a straggler, s
_STRAGGLER_PAUSE_S = 4.0
#: a rep's shallower side must reach this share of the deeper side's depth
_BALANCE = 0.6


def _fast_len(n: int) -> int:
    """Smallest 2^a·3^b·5^c ≥ n (fast FFT sizes)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def lowpass(
    x: FloatArray, *, sampling_rate_hz: float, cutoff_hz: float, order: int = 2
) -> FloatArray:
    """Zero-phase Butterworth low-pass: gain ``1 / (1 + (f / cutoff)^(2·order))``.

    The magnitude of a forward–backward (filtfilt) Butterworth of ``order``, applied in the
    frequency domain on a reflected, padded copy (no scipy.signal import: it costs 0.6 s).
    Returns ``x`` unchanged if the cutoff is near Nyquist.
    """
    n = x.shape[0]
    if n < 16 or cutoff_hz >= 0.45 * sampling_rate_hz:
        return np.asarray(x, dtype=np.float64)
    pad = min(n - 1, int(3.0 * sampling_rate_hz / cutoff_hz))
    padded = np.concatenate((2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]))
    m = _fast_len(padded.shape[0])
    spectrum = np.fft.rfft(padded, m)
    f = np.fft.rfftfreq(m, d=1.0 / sampling_rate_hz)
    spectrum *= 1.0 / (1.0 + (f / cutoff_hz) ** (2 * order))
    return np.fft.irfft(spectrum, m)[pad : pad + n]


def noise_floor_dps(
    rate_dps: FloatArray, *, sampling_rate_hz: float, minimum_dps: float = 1.5
) -> float:
    """Rate noise level: 4 σ of the sample-to-sample jitter in the stillest seconds (robust), at
    least ``minimum_dps``. The jitter is measured per 1 s block (its median |Δ|) and the 10th
    percentile of the blocks is taken, so a recording that is mostly movement, or sampled slowly,
    does not read its movement as noise."""
    if rate_dps.shape[0] < 3:
        return minimum_dps
    d = np.abs(np.diff(rate_dps))
    block = max(4, round(sampling_rate_hz))
    n = d.shape[0] // block
    if n >= 5:
        m = float(np.percentile(np.median(d[: n * block].reshape(n, block), axis=1), 10))
    else:
        m = float(np.median(d))
    sigma = 1.4826 * m / math.sqrt(2.0)
    return max(minimum_dps, 4.0 * sigma)


def _crossing(
    time_s: FloatArray, v: FloatArray, i_from: int, level: float, *, forward: bool, limit: int
) -> float | None:
    """Time at which ``v`` (positive bump) last exceeds ``level`` walking from ``i_from``.

    Walks forward (or backward) from ``i_from`` to the first sample below ``level`` and
    interpolates linearly between it and its neighbour. ``None`` if not found before ``limit``.
    """
    if forward:
        below = v[i_from : limit + 1] < level
        first = int(below.argmax())
        if not below[first]:
            return None
        j = i_from + first
        k = j - 1
    else:
        below = v[limit : i_from + 1][::-1] < level
        first = int(below.argmax())
        if not below[first]:
            return None
        j = i_from - first
        k = j + 1
    if k < 0 or k >= v.shape[0]:
        return float(time_s[j])
    vj, vk = v[j], v[k]
    frac = 0.0 if vk == vj else (level - vj) / (vk - vj)
    return float(time_s[j] + frac * (time_s[k] - time_s[j]))


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
    # never beyond where the rate has clearly turned the other way
    zero_t = _crossing(time_s, v, i_peak, -floor_dps, forward=forward, limit=limit)
    bound = float(time_s[limit]) if zero_t is None else zero_t
    base = max(floor_dps, _LEVEL_FRAC * vmax)
    if vmax <= 1.5 * base:
        t = _crossing(time_s, v, i_peak, 0.5 * vmax, forward=forward, limit=limit)
        return bound if t is None else t
    levels = [base, 2.0 * base, 4.0 * base]
    if levels[2] > 0.8 * vmax:
        levels = [base, 0.5 * (base + 0.8 * vmax), 0.8 * vmax]
        ratio_ideal = None
    else:
        ratio_ideal = 2.0
    ts = [_crossing(time_s, v, i_peak, lv, forward=forward, limit=limit) for lv in levels]
    if ts[0] is None:
        return bound
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


def _rest_level(v: FloatArray, floor_dps: float) -> float:
    """The rate's level in a stop: its median if that is within the noise floor; otherwise the
    leg was not resting there (a bounce, a turnaround) and the level is zero."""
    n = v.shape[0]
    if n == 0:
        return 0.0
    ordered = np.sort(v)  # the median, without np.median's overhead on a handful of samples
    level = float(0.5 * (ordered[(n - 1) // 2] + ordered[n // 2]))
    return level if abs(level) <= floor_dps else 0.0


def _phase_bounds(
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


REP_COLUMNS = [
    "start_s", "top_start_s", "top_end_s", "end_s", "peak_s",
    "peak_angle_deg", "min_angle_deg", "start_angle_deg", "end_angle_deg",
    "peak_velocity_dps", "peak_lowering_velocity_dps",
]  # fmt: skip


def detect_reps(
    time_s: FloatArray,
    theta_deg: FloatArray,
    rate_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    min_rom_deg: float,
    top_min_deg: float,
    smoothing_cutoff_hz: float,
    max_rep_s: float = 30.0,
    max_side_s: float = 12.0,
    static_theta_deg: FloatArray | None = None,
    max_static_mismatch_deg: float = 40.0,
) -> pd.DataFrame:
    """Reps with their four lag-corrected boundaries (columns :data:`REP_COLUMNS`).

    A rep rises from a bottom to a peak reaching at least ``top_min_deg`` and comes back down;
    the larger of the rise and the fall is at least ``min_rom_deg``, the smaller at least half.
    The bottoms are looked for within ``max_side_s`` of the peak on each side.

    ``static_theta_deg`` is θ from the accelerometer alone (:func:`imu.angle.static_theta`).
    At a rep's top the leg stands still for an instant, so the centripetal term vanishes and the
    accelerometer's along-shank reading gives θ by itself: a candidate whose top disagrees with it
    by more than ``max_static_mismatch_deg`` is an orientation artefact (after a long data gap
    while walking, say), not a rep.
    """
    n = time_s.shape[0]
    empty = pd.DataFrame(columns=REP_COLUMNS, dtype=np.float64).rename_axis("rep_id")
    if n < 8:
        return empty
    theta_s = lowpass(theta_deg, sampling_rate_hz=sampling_rate_hz, cutoff_hz=smoothing_cutoff_hz)
    v = lowpass(rate_dps, sampling_rate_hz=sampling_rate_hz, cutoff_hz=smoothing_cutoff_hz)
    floor = noise_floor_dps(v, sampling_rate_hz=sampling_rate_hz)
    # one side may be short (the first rep of a set can start from a higher resting posture):
    # both sides must drop by half the minimum ROM, the larger one by all of it (checked below)
    peaks = significant_peaks(theta_s, delta=0.5 * min_rom_deg)
    peaks = peaks[theta_s[peaks] >= top_min_deg]
    if peaks.size == 0:
        return empty
    # the bottom on each side: the lowest point between neighbouring peaks, within max_side_s
    side = max(2, int(max_side_s * sampling_rate_hz))
    prev_peak = np.concatenate(([0], peaks[:-1]))
    next_peak = np.concatenate((peaks[1:], [n - 1]))
    left_valleys = [
        a + int(np.argmin(theta_s[a : p + 1]))
        for a, p in zip(np.maximum(prev_peak, peaks - side), peaks, strict=True)
    ]
    right_valleys = [
        p + int(np.argmin(theta_s[p : b + 1]))
        for p, b in zip(peaks, np.minimum(next_peak, peaks + side), strict=True)
    ]
    rest_n = max(2, round(0.2 * sampling_rate_hz))  # samples that measure the rate at rest
    rows = []
    for k, p in enumerate(peaks):
        lo, hi = rep_bottoms(
            theta_s, v, int(p), left_valleys[k], right_valleys[k],
            floor_dps=floor, min_rom_deg=min_rom_deg, sampling_rate_hz=sampling_rate_hz,
        )  # fmt: skip
        rom_up = theta_s[p] - theta_s[lo]
        rom_down = theta_s[p] - theta_s[hi]
        if min(rom_up, rom_down) < 0.5 * min_rom_deg or max(rom_up, rom_down) < min_rom_deg:
            continue
        rom = max(rom_up, rom_down)
        # work on the rep's own samples only (the whole-recording arrays are long)
        ts, ths, vs = time_s[lo : hi + 1], theta_s[lo : hi + 1], v[lo : hi + 1]
        pk = int(p) - lo
        before = _rest_level(v[max(0, lo - rest_n) : lo + 1], floor)
        top = _rest_level(v[max(0, p - rest_n // 2) : p + rest_n // 2 + 1], floor)
        after = _rest_level(v[hi : hi + rest_n + 1], floor)
        up = _phase_bounds(
            ts, ths, vs, 0, pk, rom=rom_up, floor_dps=floor, rising=True,
            rest_start_dps=before, rest_end_dps=top,
        )  # fmt: skip
        down = _phase_bounds(
            ts, ths, vs, pk, hi - lo, rom=rom_down, floor_dps=floor, rising=False,
            rest_start_dps=top, rest_end_dps=after,
        )  # fmt: skip
        if up is None or down is None:
            continue
        (rise, vmax_up), (fall, vmax_down) = up, down
        start, top_start, top_end, end = rise.start, rise.end, fall.start, fall.end
        if top_end < top_start:  # no hold: both at the turnaround
            mid = 0.5 * (top_start + top_end)
            top_start = top_end = mid
        if end - start > max_rep_s or rom < min_rom_deg:
            continue
        i0, i1 = np.searchsorted(time_s, [start, end])
        i1 = max(i1, i0 + 1)
        seg = theta_deg[i0:i1]
        if static_theta_deg is not None and not _top_agrees(
            time_s, theta_deg, static_theta_deg, top_start, top_end, max_static_mismatch_deg
        ):
            continue
        rows.append(
            {
                "start_s": start,
                "top_start_s": top_start,
                "top_end_s": top_end,
                "end_s": end,
                "peak_s": float(time_s[i0 + int(np.argmax(seg))]),
                "peak_angle_deg": float(seg.max()),
                "min_angle_deg": float(seg.min()),
                "start_angle_deg": _value_at(time_s, theta_s, start),
                "end_angle_deg": _value_at(time_s, theta_s, end),
                "peak_velocity_dps": float(vmax_up),
                "peak_lowering_velocity_dps": float(vmax_down),
            }
        )
    if not rows:
        return empty
    reps = _merge_interrupted(pd.DataFrame(rows, columns=REP_COLUMNS))
    # a rep may not start before the previous one ended
    prev_end = reps["end_s"].shift(1)
    overlap = reps["start_s"] < prev_end
    reps.loc[overlap, "start_s"] = prev_end[overlap]
    reps.index.name = "rep_id"
    return reps


def significant_peaks(x: FloatArray, *, delta: float) -> npt.NDArray[np.intp]:
    """Peaks of ``x`` that stand at least ``delta`` above the valleys on both sides.

    A zig-zag (hysteresis) pass over the sequence of local extrema: a maximum is kept once the
    signal has fallen ``delta`` below it, a minimum once it has risen ``delta`` above it. Only
    the extrema are visited in Python, so a long still stretch costs nothing.
    """
    d = np.diff(x)
    nz = np.flatnonzero(d)
    if nz.size < 2:
        return np.zeros(0, dtype=np.intp)
    sign = np.sign(d[nz])
    turns = np.flatnonzero(sign[1:] != sign[:-1])
    # index of each local extremum (the sample after the last step in the old direction)
    ext = nz[turns] + 1
    ext = np.concatenate(([0], ext, [x.shape[0] - 1]))
    peaks: list[int] = []
    mode = 0  # 0: undecided, 1: risen from a valley (tracking the max), -1: tracking the min
    hi_i = lo_i = int(ext[0])
    hi_v = lo_v = float(x[ext[0]])
    for i, v in zip(ext.tolist(), x[ext].tolist(), strict=True):
        if mode == 1:
            if v > hi_v:
                hi_i, hi_v = i, v
            elif hi_v - v >= delta:
                peaks.append(hi_i)
                mode, lo_i, lo_v = -1, i, v
        elif mode == -1:
            if v < lo_v:
                lo_i, lo_v = i, v
            elif v - lo_v >= delta:
                mode, hi_i, hi_v = 1, i, v
        else:
            if v > hi_v:
                hi_i, hi_v = i, v
            if v < lo_v:
                lo_i, lo_v = i, v
            if hi_v - lo_v >= delta:
                if hi_i > lo_i:
                    mode = 1
                else:
                    peaks.append(hi_i)
                    mode, lo_i, lo_v = -1, i, v
    return np.asarray(peaks, dtype=np.intp)


def _top_agrees(
    time_s: FloatArray,
    theta_deg: FloatArray,
    static_theta_deg: FloatArray,
    top_start: float,
    top_end: float,
    tolerance_deg: float,
) -> bool:
    """Do the fused and the accelerometer-only θ agree at the top (where the leg is still)?"""
    j0, j1 = np.searchsorted(time_s, [top_start - 0.04, top_end + 0.04])
    if j1 <= j0:
        j0 = max(0, min(j0, time_s.shape[0] - 1))
        j1 = j0 + 1
    diff = float(np.median(theta_deg[j0:j1] - static_theta_deg[j0:j1]))
    return abs(diff) <= tolerance_deg


def _merge_interrupted(reps: pd.DataFrame, *, contiguous_s: float = 1.0) -> pd.DataFrame:
    """Merge a rep into the previous one when the leg never got back down in between.

    Two candidates separated by less than ``contiguous_s`` whose shared valley stays in the
    upper half of the movement (relative to the typical bottom nearby) are one rep that paused
    or wobbled on the way down.
    """
    if len(reps) < 2:
        return reps
    lows = pd.Series(np.minimum(reps["start_angle_deg"], reps["end_angle_deg"]))
    bottom_ref = lows.rolling(7, center=True, min_periods=1).median().to_numpy()
    out = [reps.iloc[0].to_dict()]
    for k in range(1, len(reps)):
        cur = reps.iloc[k].to_dict()
        prev = out[-1]
        ref = float(bottom_ref[k])
        valley = min(prev["end_angle_deg"], cur["start_angle_deg"])
        top = min(prev["peak_angle_deg"], cur["peak_angle_deg"])
        if (
            cur["start_s"] - prev["end_s"] < contiguous_s
            and top > ref
            and valley - ref > 0.5 * (top - ref)
        ):
            higher = cur if cur["peak_angle_deg"] > prev["peak_angle_deg"] else prev
            prev.update(
                top_end_s=cur["top_end_s"],
                end_s=cur["end_s"],
                end_angle_deg=cur["end_angle_deg"],
                peak_s=higher["peak_s"],
                peak_angle_deg=higher["peak_angle_deg"],
                min_angle_deg=min(prev["min_angle_deg"], cur["min_angle_deg"]),
                peak_velocity_dps=max(prev["peak_velocity_dps"], cur["peak_velocity_dps"]),
                peak_lowering_velocity_dps=max(
                    prev["peak_lowering_velocity_dps"], cur["peak_lowering_velocity_dps"]
                ),
            )
        else:
            out.append(cur)
    return pd.DataFrame(out, columns=REP_COLUMNS)


def _value_at(time_s: FloatArray, x: FloatArray, t: float) -> float:
    """Linear interpolation of ``x`` at one instant (O(log n), unlike np.interp on the whole)."""
    j = int(np.searchsorted(time_s, t))
    if j <= 0:
        return float(x[0])
    if j >= time_s.shape[0]:
        return float(x[-1])
    t0, t1 = time_s[j - 1], time_s[j]
    return float(x[j - 1] + (x[j] - x[j - 1]) * (t - t0) / (t1 - t0))


def _near_bottom(
    theta_s: FloatArray,
    v: FloatArray,
    p: int,
    valley: int,
    floor: float,
    *,
    forward: bool,
    depth_min: float,
    min_rest: int,
) -> int:
    """The bottom of the rep around peak ``p`` on one side, no further than ``valley``.

    Walking away from the peak, the rep's bottom is the first *stop* at least ``depth_min``
    below the peak: a rest (the leg not moving toward the peak for ``min_rest`` samples) or a
    turnaround (it moves toward the peak again). Getting onto the bench just before a set, or
    off it just after, is therefore not part of the set's first or last rep. A few samples of
    the stop are kept so the boundary search sees the velocity reach zero.
    """
    if valley == p:
        return valley
    step = 1 if forward else -1
    idx = np.arange(p, valley + step, step)
    # the rep's own movement is rising before the peak and falling after it
    own = v[idx] * -step
    deep = theta_s[idx] <= theta_s[p] - depth_min
    stopped = own <= floor
    edges = np.flatnonzero(np.diff(np.concatenate(([0], stopped.view(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]
    margin = max(2, (5 * min_rest) // 3)  # ~0.5 s into the stop, within it
    last = len(idx) - 1  # the valley: the lowest point before the neighbouring peak
    for a, b in zip(starts, ends, strict=True):
        if a == 0 or not deep[a]:
            continue  # the peak's own plateau, or not yet low enough
        # a rest, or the turnaround at the valley (a short stop elsewhere is a wobble)
        if b - a >= min_rest or b > last:
            return int(idx[min(a + margin, b - 1)])
    return valley


def group_sets(
    reps: pd.DataFrame,
    *,
    rest_threshold_s: float,
    min_set_reps: int,
    edge_tolerance_deg: float = 15.0,
) -> pd.DataFrame:
    """Assign reps to sets; returns the reps kept, with a 1-based ``set_id`` column.

    A break longer than ``rest_threshold_s`` between one rep's end and the next one's start
    ends a set. Reps at a set's edges that start (first) or end (last) more than
    ``max(edge_tolerance_deg, ROM/2)`` away from the set's median bottom are transitions —
    climbing onto or off the bench — and are dropped. Sets with fewer than ``min_set_reps`` reps
    are dropped.
    """
    if reps.empty:
        out = reps.copy()
        out["set_id"] = pd.Series(dtype=np.int64)
        return out
    reps = reps.sort_values("start_s")
    gap = reps["start_s"].to_numpy()[1:] - reps["end_s"].to_numpy()[:-1]
    group = np.concatenate(([0], np.cumsum(gap > rest_threshold_s)))
    kept: list[pd.DataFrame] = []
    for _, members in reps.groupby(group, sort=True):
        members = _trim_transitions(members, edge_tolerance_deg=edge_tolerance_deg)
        if len(members) >= min_set_reps:
            kept.append(members)
    if not kept:
        out = reps.iloc[0:0].copy()
        out["set_id"] = pd.Series(dtype=np.int64)
        return out
    for i, members in enumerate(kept, start=1):
        members["set_id"] = i
    return pd.concat(kept)


def _trim_transitions(members: pd.DataFrame, *, edge_tolerance_deg: float) -> pd.DataFrame:
    """The set's reps without transitions and stragglers at its edges (see :func:`group_sets`)."""
    col = {
        c: members[c].to_numpy(dtype=np.float64)
        for c in ("start_s", "top_start_s", "top_end_s", "end_s", "peak_angle_deg",
                  "min_angle_deg", "start_angle_deg", "end_angle_deg")
    }  # fmt: skip
    keep = np.ones(len(members), dtype=bool)
    for _ in range(8):
        before = keep.copy()
        idx = np.flatnonzero(keep)
        a, b = _edge_transitions(col, idx, edge_tolerance_deg)
        keep[idx[:a]] = False
        keep[idx[b:]] = False
        idx = np.flatnonzero(keep)
        keep[idx[_non_attempts(col, idx)]] = False
        idx = np.flatnonzero(keep)
        a, b = _edge_swings(col, idx)
        keep[idx[:a]] = False
        keep[idx[b:]] = False
        idx = np.flatnonzero(keep)
        a, b = _trim_stragglers({k: v[idx] for k, v in col.items()}, 0, len(idx))
        keep[idx[:a]] = False
        keep[idx[b:]] = False
        if (keep == before).all():
            break
    return members.iloc[np.flatnonzero(keep)].copy()


ATTEMPT_FRAC = 1.0 / 3.0
REBOUND_FRAC = 0.5
TOP_FRAC = 0.8


def _set_levels(col: dict[str, FloatArray], idx: npt.NDArray[np.intp]) -> tuple[float, float]:
    """The set's bottom and top levels, from its larger movements."""
    lows = np.minimum(col["start_angle_deg"][idx], col["end_angle_deg"][idx])
    rise = col["peak_angle_deg"][idx] - lows
    core = rise >= 0.5 * float(np.percentile(rise, 75))
    bottom = float(np.median(np.concatenate((col["start_angle_deg"][idx][core],
                                             col["end_angle_deg"][idx][core]))))  # fmt: skip
    top = float(np.median(col["peak_angle_deg"][idx][core]))
    return bottom, top


def _reach(col: dict[str, FloatArray], idx: npt.NDArray[np.intp]) -> FloatArray:
    bottom, top = _set_levels(col, idx)
    return (col["peak_angle_deg"][idx] - bottom) / max(top - bottom, 1e-6)


def _non_attempts(col: dict[str, FloatArray], idx: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    if idx.size < 3:
        return np.zeros(0, dtype=np.intp)
    f = _reach(col, idx)
    pause_before = np.concatenate(([np.inf], col["start_s"][idx][1:] - col["end_s"][idx][:-1]))
    duration = col["end_s"][idx] - col["start_s"][idx]
    brief = duration < 0.5 * float(np.median(duration))
    rebound = (pause_before < 0.3) & (f < REBOUND_FRAC) & brief
    return np.flatnonzero((f < ATTEMPT_FRAC) | rebound)


def _edge_swings(col: dict[str, FloatArray], idx: npt.NDArray[np.intp]) -> tuple[int, int]:
    n = idx.size
    if n < 4:
        return 0, n
    f = _reach(col, idx)
    pauses = col["start_s"][idx][1:] - col["end_s"][idx][:-1]
    limit = max(1.0, 1.5 * float(np.median(pauses)))
    a, b = 0, n
    while b - a >= 4 and f[a] < TOP_FRAC and pauses[a] > limit:
        a += 1
    while b - a >= 4 and f[b - 1] < TOP_FRAC and pauses[b - 2] > limit:
        b -= 1
    return a, b


def _edge_transitions(
    col: dict[str, FloatArray], idx: npt.NDArray[np.intp], edge_tolerance_deg: float
) -> tuple[int, int]:
    a, b = 0, idx.size
    while b - a >= 3:
        sel = idx[a:b]
        bottom = float(np.median(np.concatenate((col["start_angle_deg"][sel],
                                                 col["end_angle_deg"][sel]))))  # fmt: skip
        rom = float(np.median(col["peak_angle_deg"][sel] - col["min_angle_deg"][sel]))
        tol = max(edge_tolerance_deg, 0.5 * rom)
        first_off = abs(col["start_angle_deg"][idx[a]] - bottom) > tol
        last_off = abs(col["end_angle_deg"][idx[b - 1]] - bottom) > tol
        if not (first_off or last_off):
            break
        if first_off:
            a += 1
        if last_off and b - a > 1:
            b -= 1
    return a, b


def _trim_stragglers(col: dict[str, FloatArray], a: int, b: int) -> tuple[int, int]:
    """Drop reps at a set's edges that stand apart from it: separated by a pause far longer than
    the set's rhythm (over ``max(4 s, 4 × the median pause)``) and unlike its reps — a top held
    far longer than usual, or a peak well below the others — a whole run of such reps at once.
    Fidgeting while resting on the bench before or after a set looks like that; a set's real
    first and last reps do not. Never trims half the set or more. Works on the reps ``[a, b)`` of
    the columns ``col`` and returns the range kept."""
    while b - a >= 4:
        pauses = col["start_s"][a + 1 : b] - col["end_s"][a : b - 1]
        limit = max(_STRAGGLER_PAUSE_S, 4.0 * float(np.median(pauses)))
        holds = col["top_end_s"][a:b] - col["top_start_s"][a:b]
        peaks = col["peak_angle_deg"][a:b]
        roms = peaks - col["min_angle_deg"][a:b]
        hold_limit = 2.0 * float(np.median(holds)) + 1.0
        peak_floor = float(np.median(peaks)) - max(5.0, 0.3 * float(np.median(roms)))
        unlike = (holds > hold_limit) | (peaks < peak_floor)
        if unlike.all():
            break
        n = b - a
        # the run of unlike reps at the end (start), cut where a long pause parts it from the set
        tail = n - int(np.argmin(unlike[::-1]))
        cut = next((j for j in range(tail, n) if pauses[j - 1] > limit), None)
        head = int(np.argmin(unlike))
        lead = next((j for j in range(head, 0, -1) if pauses[j - 1] > limit), None)
        if cut is not None and n - cut <= cut:
            b = a + cut
        elif lead is not None and lead <= n - lead:
            a = a + lead
        else:
            break
    return a, b


# --------------------------------------------------------------------------------------------
# Building blocks shared with the live detector (:mod:`imu.live.detector`), which applies the
# offline rules to a rolling buffer. Thin public forms of the functions above.


def _bottom_search(min_rom_deg: float, sampling_rate_hz: float) -> tuple[float, int]:
    """``depth_min`` and ``min_rest`` of :func:`_near_bottom` for a rep."""
    return 0.5 * min_rom_deg, max(2, round(0.3 * sampling_rate_hz))


def rise_bottom(
    theta_s: FloatArray,
    v: FloatArray,
    p: int,
    left_valley: int,
    *,
    floor_dps: float,
    min_rom_deg: float,
    sampling_rate_hz: float,
) -> int:
    """Index of the bottom a rep rose from to peak ``p``, before the sides are balanced (all the
    live detector knows at the top)."""
    depth_min, min_rest = _bottom_search(min_rom_deg, sampling_rate_hz)
    return _near_bottom(
        theta_s, v, p, left_valley, floor_dps, forward=False,
        depth_min=depth_min, min_rest=min_rest,
    )  # fmt: skip


def rep_bottoms(
    theta_s: FloatArray,
    v: FloatArray,
    p: int,
    left_valley: int,
    right_valley: int,
    *,
    floor_dps: float,
    min_rom_deg: float,
    sampling_rate_hz: float,
) -> tuple[int, int]:
    """Indices ``(lo, hi)`` of a rep's bottoms on each side of peak ``p`` (as in
    :func:`detect_reps`): the first stops at least half the minimum ROM below the peak, the
    shallower side searched further when it is far shallower than the other."""
    depth_min, min_rest = _bottom_search(min_rom_deg, sampling_rate_hz)
    lo = _near_bottom(
        theta_s, v, p, left_valley, floor_dps, forward=False,
        depth_min=depth_min, min_rest=min_rest,
    )  # fmt: skip
    hi = _near_bottom(
        theta_s, v, p, right_valley, floor_dps, forward=True,
        depth_min=depth_min, min_rest=min_rest,
    )  # fmt: skip
    # a rep's two sides are comparable: a stop far shallower than the other side is a
    # pause on the way (a slow start of the lowering), so look further for the bottom
    depth_l, depth_r = theta_s[p] - theta_s[lo], theta_s[p] - theta_s[hi]
    if depth_r < _BALANCE * depth_l:
        hi = _near_bottom(
            theta_s, v, p, right_valley, floor_dps, forward=True,
            depth_min=_BALANCE * depth_l, min_rest=min_rest,
        )  # fmt: skip
    elif depth_l < _BALANCE * depth_r:
        lo = _near_bottom(
            theta_s, v, p, left_valley, floor_dps, forward=False,
            depth_min=_BALANCE * depth_r, min_rest=min_rest,
        )  # fmt: skip
    return lo, hi


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
) -> tuple[float, float, float] | None:
    """Lag-corrected ``(start_s, end_s, peak_rate_dps)`` of the rising (or falling) phase within
    samples ``[lo, hi]``, as in :func:`detect_reps`; ``None`` if the leg barely moved."""
    found = _phase_bounds(
        time_s, theta_s, v, lo, hi, rom=rom_deg, floor_dps=floor_dps, rising=rising
    )
    if found is None:
        return None
    phase, vmax = found
    return phase.start, phase.end, vmax


def top_agrees(
    time_s: FloatArray,
    theta_deg: FloatArray,
    static_theta_deg: FloatArray,
    top_start_s: float,
    top_end_s: float,
    *,
    tolerance_deg: float = 40.0,
) -> bool:
    """Do the fused and the accelerometer-only θ agree at a rep's top (as in
    :func:`detect_reps`)? A rep whose top disagrees is an orientation artefact."""
    return _top_agrees(time_s, theta_deg, static_theta_deg, top_start_s, top_end_s, tolerance_deg)


def reangle(
    reps: pd.DataFrame,
    time_s: FloatArray,
    theta_deg: FloatArray,
    *,
    sampling_rate_hz: float,
    smoothing_cutoff_hz: float,
) -> pd.DataFrame:
    """The same reps with their angles measured on another θ of the same recording.

    For a θ that differs from the one the reps were found on by a slowly varying offset (a
    refined shank direction): the boundaries come from the rate and stay, the angles move.
    """
    if reps.empty:
        return reps
    theta_s = lowpass(theta_deg, sampling_rate_hz=sampling_rate_hz, cutoff_hz=smoothing_cutoff_hz)
    out = reps.copy()
    starts = out["start_s"].to_numpy()
    ends = out["end_s"].to_numpy()
    i0 = np.searchsorted(time_s, starts)
    i1 = np.maximum(np.searchsorted(time_s, ends), i0 + 1)
    peaks = np.empty(len(out))
    lows = np.empty(len(out))
    peak_t = np.empty(len(out))
    for k, (a, b) in enumerate(zip(i0, i1, strict=True)):
        seg = theta_deg[a:b]
        j = int(np.argmax(seg))
        peaks[k], lows[k], peak_t[k] = seg[j], seg.min(), time_s[a + j]
    out["peak_angle_deg"] = peaks
    out["min_angle_deg"] = lows
    out["peak_s"] = peak_t
    out["start_angle_deg"] = [_value_at(time_s, theta_s, t) for t in starts]
    out["end_angle_deg"] = [_value_at(time_s, theta_s, t) for t in ends]
    return out
