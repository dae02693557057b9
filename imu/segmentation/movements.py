"""Movements: every rise of the leg and its return, with four lag-corrected boundary instants.

Input is the leg angle θ and its rate (:mod:`imu.angle`); plain functions on arrays. A movement is
a peak of the low-passed θ that stands out of its surroundings, its bottoms on each side, and its
four instants (:mod:`imu.segmentation.boundaries`). Whether a movement is a *rep* is decided
against its set (:mod:`imu.segmentation.sets`).

Peaks
    A zig-zag of hysteresis ``min_rom_deg / 2`` gives the candidate peaks; a peak whose dip to a
    higher neighbour is small against its whole excursion (:func:`~imu.segmentation.rules.\
is_shoulder`) is a shoulder of that neighbour — a wobble in a long hold, a pause on the way down —
    and not a movement of its own. Walking, sitting and a jiggling knee give peaks too; the
    exercise's ``top_min_deg`` keeps out those that stay far below the hip line
    (:func:`find_movements` also measures those between two movements, for the set to judge
    between two of its reps).
Bottoms
    Walking away from the peak, a rep's bottom is the first *stop* deep enough below it
    (:func:`~imu.segmentation.rules.bottom_depth_min_deg`): a rest, or a turnaround. Getting onto
    the bench just before a set, or off it just after, is therefore not part of the set's first or
    last rep. A side far shallower than the other (:data:`~imu.segmentation.rules.BALANCE`) is
    searched further: a pause on the way.
Accepted
    Both sides deep enough (:func:`~imu.segmentation.rules.sides_rejection`), no longer than
    :data:`~imu.segmentation.rules.MAX_REP_S`, and at the top the accelerometer alone agrees with
    the orientation filter about the shank's elevation (the leg is still there, so the
    centripetal term vanishes) within :data:`~imu.segmentation.rules.STATIC_MISMATCH_DEG`.

Intervals are half-open; movement tables are DataFrames with a ``rep_id`` index.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.dsp import lowpass, median, noise_floor_dps
from imu.recording import LONG_GAP_S
from imu.segmentation.boundaries import phase_bounds, rest_level
from imu.segmentation.rules import (
    BALANCE,
    MAX_REP_S,
    MAX_SIDE_S,
    SHOULDER_REACH_S,
    STATIC_MISMATCH_DEG,
    bottom_depth_min_deg,
    hold_interval,
    is_shoulder,
    sides_rejection,
)

__all__ = [
    "MOVEMENT_COLUMNS",
    "Found",
    "Movement",
    "Smoothed",
    "find_movements",
    "measure_movement",
    "movement_peaks",
    "reangle",
    "rep_bottoms",
    "rise_bottom",
    "smooth",
    "top_agrees",
    "zigzag",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Movement:
    """One rise and return of the leg, as measured (times in the recording's base, s)."""

    start_s: float  #: leaves the bottom
    top_start_s: float  #: stops rising
    top_end_s: float  #: starts lowering
    end_s: float  #: stops at the bottom
    peak_s: float  #: when θ peaked
    peak_angle_deg: float  #: highest θ
    min_angle_deg: float  #: lowest θ within [start, end)
    start_angle_deg: float  #: low-passed θ at the start
    end_angle_deg: float  #: low-passed θ at the end
    peak_velocity_dps: float  #: fastest rise
    peak_lowering_velocity_dps: float  #: fastest lowering (a positive number)


MOVEMENT_COLUMNS = list(Movement.__dataclass_fields__)


def zigzag(x: FloatArray, *, delta: float) -> tuple[IntArray, IntArray]:
    """Peaks of ``x`` that stand at least ``delta`` above the valleys on both sides, and those
    valleys: ``valleys[k]`` is the lowest point between ``peaks[k - 1]`` and ``peaks[k]``
    (``valleys[0]`` before the first peak, ``valleys[-1]`` after the last; ``len(peaks) + 1``).

    A hysteresis pass over the sequence of local extrema: a maximum is kept once the signal has
    fallen ``delta`` below it, a minimum once it has risen ``delta`` above it. Only the extrema
    are visited in Python, so a long still stretch costs nothing.
    """
    empty = np.zeros(0, dtype=np.intp)
    d = np.diff(x)
    nz = np.flatnonzero(d)
    if nz.size < 2:
        return empty, empty
    sign = np.sign(d[nz])
    turns = np.flatnonzero(sign[1:] != sign[:-1])
    ext = nz[turns] + 1  # each local extremum: the sample after the last step the old way
    ext = np.concatenate(([0], ext, [x.shape[0] - 1]))
    p = np.asarray(_hysteresis_peaks(ext.tolist(), x[ext].tolist(), delta), dtype=np.intp)
    if p.size == 0:
        return empty, empty
    bounds = np.concatenate(([0], p, [x.shape[0] - 1]))
    valleys = np.array(
        [a + int(np.argmin(x[a : b + 1])) for a, b in itertools.pairwise(bounds)],
        dtype=np.intp,
    )
    return p, valleys


def _hysteresis_peaks(where: list[int], values: list[float], delta: float) -> list[int]:
    """The maxima :func:`zigzag` keeps among the extrema at ``where`` (with their ``values``):
    after the first swing of ``delta`` (:func:`_first_swing`), the pass tracks the maximum
    while rising and keeps it once the signal has fallen ``delta`` below it, then tracks the
    minimum until the signal has risen ``delta`` above it."""
    first = _first_swing(where, values, delta)
    if first is None:
        return []
    k, rising, hi_i, hi_v = first
    peaks: list[int] = []
    # the extreme being tracked: the max while rising, the min while falling
    if rising:
        at_i, at_v = hi_i, hi_v
    else:
        peaks.append(hi_i)
        at_i, at_v = where[k], values[k]
    for i, v in zip(where[k + 1 :], values[k + 1 :], strict=True):
        if rising:
            if v > at_v:
                at_i, at_v = i, v
            elif at_v - v >= delta:
                peaks.append(at_i)
                rising, at_i, at_v = False, i, v
        elif v < at_v:
            at_i, at_v = i, v
        elif v - at_v >= delta:
            rising, at_i, at_v = True, i, v
    return peaks


def _first_swing(
    where: list[int], values: list[float], delta: float
) -> tuple[int, bool, int, float] | None:
    """Where the extrema first span ``delta`` (their position ``k``), whether the signal rose
    to get there (the minimum came first) and the maximum so far (index, value); ``None`` if
    they never do."""
    hi_i = lo_i = where[0]
    hi_v = lo_v = values[0]
    for k, (i, v) in enumerate(zip(where, values, strict=True)):
        if v > hi_v:
            hi_i, hi_v = i, v
        if v < lo_v:
            lo_i, lo_v = i, v
        if hi_v - lo_v >= delta:
            return k, hi_i > lo_i, hi_i, hi_v
    return None


def _side_bases(
    x: FloatArray, peaks: IntArray, valleys: IntArray, reach: int, *, forward: bool
) -> tuple[FloatArray, IntArray]:
    """For each peak, on one side: the *base* — the lowest level before the nearest higher peak
    within ``reach`` samples, else the lowest level within reach — and that higher peak's index
    into ``peaks`` (−1 when there is none)."""
    n = peaks.shape[0]
    heights = x[peaks]
    vlev = x[valleys]
    base = np.empty(n)
    higher = np.full(n, -1, dtype=np.intp)
    step = 1 if forward else -1
    for i in range(n):
        lowest = np.inf
        j = i
        while True:
            lowest = min(lowest, float(vlev[j + 1 if forward else j]))  # between j and the next
            j += step
            if j < 0 or j >= n or abs(int(peaks[j]) - int(peaks[i])) > reach:
                break
            if heights[j] > heights[i]:
                higher[i] = j
                break
        if higher[i] < 0:
            p = int(peaks[i])
            window = (
                x[p : min(x.shape[0], p + reach + 1)] if forward else x[max(0, p - reach) : p + 1]
            )
            lowest = min(lowest, float(window.min()))
        base[i] = lowest
    return base, higher


def movement_peaks(
    x: FloatArray, *, delta: float, reach: int
) -> tuple[IntArray, IntArray, IntArray]:
    """The zig-zag peaks of ``x`` that are movements of their own (not shoulders of a higher
    neighbour within ``reach`` samples, :func:`~imu.segmentation.rules.is_shoulder`), with each
    one's left and right valley (the lowest point between it and the neighbouring kept peak,
    within ``reach``)."""
    empty = np.zeros(0, dtype=np.intp)
    peaks, valleys = zigzag(x, delta=delta)
    if peaks.size == 0:
        return empty, empty, empty
    near = max(2, int(SHOULDER_REACH_S / MAX_SIDE_S * reach))
    base_l, higher_l = _side_bases(x, peaks, valleys, near, forward=False)
    base_r, higher_r = _side_bases(x, peaks, valleys, near, forward=True)
    heights = x[peaks]
    keep = np.ones(peaks.shape[0], dtype=bool)
    for i in range(peaks.shape[0]):
        h = float(heights[i])
        j = int(higher_l[i])  # a higher neighbour on the left: far sides are i's right, j's left
        if j >= 0 and is_shoulder(h, base_l[i], base_r[i], heights[j], base_l[j]):
            keep[i] = False
        j = int(higher_r[i])
        if j >= 0 and is_shoulder(h, base_r[i], base_l[i], heights[j], base_r[j]):
            keep[i] = False
    kept = peaks[keep]
    bounds = np.concatenate(([0], kept, [x.shape[0] - 1]))
    left = np.array(
        [
            max(a, p - reach) + int(np.argmin(x[max(a, p - reach) : p + 1]))
            for a, p in zip(bounds[:-2], kept, strict=True)
        ],
        dtype=np.intp,
    )
    right = np.array(
        [
            p + int(np.argmin(x[p : min(b, p + reach) + 1]))
            for p, b in zip(kept, bounds[2:], strict=True)
        ],
        dtype=np.intp,
    )
    return kept, left, right


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
    """The bottom of the movement around peak ``p`` on one side, no further than ``valley``:
    walking away from the peak, the first *stop* at least ``depth_min`` below it — a rest (the leg
    not moving toward the peak for ``min_rest`` samples) or the turnaround at the valley. A few
    samples of the stop are kept so the boundary search sees the velocity reach zero."""
    if valley == p:
        return valley
    step = 1 if forward else -1
    # the samples walking away from the peak (views, not copies)
    own = -v[p : valley + 1] if forward else v[valley : p + 1][::-1]  # rising, then falling
    theta_away = theta_s[p : valley + 1] if forward else theta_s[valley : p + 1][::-1]
    deep_below = theta_s[p] - depth_min
    stopped = own <= floor
    edges = np.flatnonzero(np.diff(np.concatenate(([0], stopped.view(np.int8), [0]))))
    margin = max(2, (5 * min_rest) // 3)  # ~0.5 s into the stop, within it
    last = own.shape[0] - 1
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if a == 0 or not theta_away[a] <= deep_below:
            continue  # the peak's own plateau, or not yet low enough
        if b - a >= min_rest or b > last:  # a rest, or the turnaround at the valley
            return p + step * int(min(a + margin, b - 1))
    return valley


def _min_rest_n(sampling_rate_hz: float) -> int:
    return max(2, round(0.3 * sampling_rate_hz))


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
    """The bottom a movement rose from to peak ``p`` — before its other side is known (what the
    live detector knows at the top)."""
    depth = bottom_depth_min_deg(min_rom_deg, float(theta_s[p] - theta_s[left_valley]))
    return _near_bottom(
        theta_s, v, p, left_valley, floor_dps, forward=False,
        depth_min=depth, min_rest=_min_rest_n(sampling_rate_hz),
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
    """Indices ``(lo, hi)`` of a movement's bottoms on each side of peak ``p``."""
    smaller = float(min(theta_s[p] - theta_s[left_valley], theta_s[p] - theta_s[right_valley]))
    depth = bottom_depth_min_deg(min_rom_deg, smaller)
    min_rest = _min_rest_n(sampling_rate_hz)

    def find(valley: int, forward: bool, depth_min: float) -> int:
        return _near_bottom(
            theta_s, v, p, valley, floor_dps, forward=forward, depth_min=depth_min,
            min_rest=min_rest,
        )  # fmt: skip

    lo, hi = find(left_valley, False, depth), find(right_valley, True, depth)
    depth_l, depth_r = theta_s[p] - theta_s[lo], theta_s[p] - theta_s[hi]
    if depth_r < BALANCE * depth_l:
        hi = find(right_valley, True, BALANCE * float(depth_l))
    elif depth_l < BALANCE * depth_r:
        lo = find(left_valley, False, BALANCE * float(depth_r))
    return lo, hi


def top_agrees(
    time_s: FloatArray, tilt_mismatch_deg: FloatArray, top_start_s: float, top_end_s: float
) -> bool:
    """Do the orientation filter and the accelerometer alone agree about the shank's elevation at
    a movement's top (the leg is still there; ``tilt_mismatch_deg``:
    :func:`~imu.angle.tilt_mismatch_deg`)? One that disagrees is an orientation artefact (after a
    long data gap, say), or the leg was not still (walking). A top lost in a gap in the data (over
    :data:`~imu.recording.LONG_GAP_S`: the still samples gone, the moving ones either side left)
    has nothing to judge it by, and agrees."""
    j0, j1 = np.searchsorted(time_s, [top_start_s - 0.04, top_end_s + 0.04])
    around = time_s[max(0, int(j0) - 1) : int(j1) + 1]
    if around.size > 1 and float(np.max(np.diff(around))) > LONG_GAP_S:
        return True
    if j1 <= j0:
        j0 = max(0, min(int(j0), time_s.shape[0] - 1))
        j1 = j0 + 1
    diff = median(tilt_mismatch_deg[j0:j1])
    return abs(diff) <= STATIC_MISMATCH_DEG


def _value_at(time_s: FloatArray, x: FloatArray, t: float) -> float:
    """Linear interpolation of ``x`` at one instant (O(log n), unlike np.interp on the whole)."""
    j = int(np.searchsorted(time_s, t))
    if j <= 0:
        return float(x[0])
    if j >= time_s.shape[0]:
        return float(x[-1])
    t0, t1 = time_s[j - 1], time_s[j]
    return float(x[j - 1] + (x[j] - x[j - 1]) * (t - t0) / (t1 - t0))


def measure_movement(
    time_s: FloatArray,
    theta_deg: FloatArray,
    theta_s: FloatArray,
    v: FloatArray,
    p: int,
    left_valley: int,
    right_valley: int,
    *,
    floor_dps: float,
    min_rom_deg: float,
    sampling_rate_hz: float,
    tilt_mismatch_deg: FloatArray | None = None,
    min_rate_dps: float = 0.0,
) -> Movement | str:
    """The movement around peak ``p`` (indices into the arrays), or why it is not one.

    ``min_rate_dps``: a rise that never gets faster than this is a drift (settling, leaning on
    the bench), not a movement.

    ``theta_deg`` is the raw θ (peak and lowest angles), ``theta_s`` and ``v`` the low-passed θ
    and rate (bottoms, boundaries), ``tilt_mismatch_deg`` how far the accelerometer alone and the
    orientation filter disagree about the shank's elevation (:func:`~imu.angle.tilt_mismatch_deg`).
    """
    lo, hi = rep_bottoms(
        theta_s, v, p, left_valley, right_valley,
        floor_dps=floor_dps, min_rom_deg=min_rom_deg, sampling_rate_hz=sampling_rate_hz,
    )  # fmt: skip
    rom_up, rom_down = float(theta_s[p] - theta_s[lo]), float(theta_s[p] - theta_s[hi])
    reason = sides_rejection(rom_up, rom_down, min_rom_deg)
    if reason is not None:
        return reason
    rest_n = max(2, round(0.2 * sampling_rate_hz))  # samples that measure the rate at rest
    before = rest_level(v[max(0, lo - rest_n) : lo + 1], floor_dps)
    top = rest_level(v[max(0, p - rest_n // 2) : p + rest_n // 2 + 1], floor_dps)
    after = rest_level(v[hi : hi + rest_n + 1], floor_dps)
    # work on the movement's own samples only (the arrays may be a whole recording)
    ts, ths, vs = time_s[lo : hi + 1], theta_s[lo : hi + 1], v[lo : hi + 1]
    pk = p - lo
    up = phase_bounds(
        ts, ths, vs, 0, pk, rom_deg=rom_up, floor_dps=floor_dps, rising=True,
        rest_start_dps=before, rest_end_dps=top,
    )  # fmt: skip
    down = phase_bounds(
        ts, ths, vs, pk, hi - lo, rom_deg=rom_down, floor_dps=floor_dps, rising=False,
        rest_start_dps=top, rest_end_dps=after,
    )  # fmt: skip
    if up is None or down is None:
        return "the leg barely moved"
    start, top_start, vmax_up = up
    top_end, end, vmax_down = down
    if vmax_up < min_rate_dps:
        return f"drifted up at {vmax_up:.0f} °/s (a movement rises at {min_rate_dps:g} °/s)"
    top_start, top_end = hold_interval(top_start, top_end)
    if end - start > MAX_REP_S:
        return f"lasted {end - start:.0f} s (a rep lasts at most {MAX_REP_S:g} s)"
    if tilt_mismatch_deg is not None and not top_agrees(
        time_s, tilt_mismatch_deg, top_start, top_end
    ):
        return "the accelerometer disagrees about the top"
    i0, i1 = np.searchsorted(time_s, [start, end])
    i1 = max(int(i1), int(i0) + 1)
    seg = theta_deg[i0:i1]
    j = int(np.argmax(seg))
    return Movement(
        start_s=start,
        top_start_s=top_start,
        top_end_s=top_end,
        end_s=end,
        peak_s=float(time_s[i0 + j]),
        peak_angle_deg=float(seg[j]),
        min_angle_deg=float(seg.min()),
        start_angle_deg=_value_at(time_s, theta_s, start),
        end_angle_deg=_value_at(time_s, theta_s, end),
        peak_velocity_dps=float(vmax_up),
        peak_lowering_velocity_dps=float(vmax_down),
    )


def movements_frame(movements: list[Movement]) -> pd.DataFrame:
    """A movement table (columns :data:`MOVEMENT_COLUMNS`, a ``rep_id`` index); a movement may
    not start before the previous one ended."""
    frame = pd.DataFrame(
        {
            c: np.array([getattr(m, c) for m in movements], dtype=np.float64)
            for c in MOVEMENT_COLUMNS
        }
    )
    if len(frame) > 1:
        prev_end = frame["end_s"].shift(1)
        overlap = frame["start_s"] < prev_end
        frame.loc[overlap, "start_s"] = prev_end[overlap]
    frame.index.name = "rep_id"
    return frame


@dataclass(frozen=True)
class Smoothed:
    """What :func:`find_movements` measures on: the low-passed θ and rate, and the rate's noise
    floor. One angle segmented with several profiles of the same smoothing shares it."""

    theta_s: FloatArray
    v: FloatArray
    floor_dps: float


def smooth(
    theta_deg: FloatArray,
    rate_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    smoothing_cutoff_hz: float,
) -> Smoothed:
    """The :class:`Smoothed` signals of a leg angle."""
    fs = sampling_rate_hz
    v = lowpass(rate_dps, sampling_rate_hz=fs, cutoff_hz=smoothing_cutoff_hz)
    return Smoothed(
        theta_s=lowpass(theta_deg, sampling_rate_hz=fs, cutoff_hz=smoothing_cutoff_hz),
        v=v,
        floor_dps=noise_floor_dps(v, sampling_rate_hz=fs),
    )


@dataclass(frozen=True)
class Found:
    """What :func:`find_movements` found."""

    #: the movements (peaking at ``top_min_deg`` or above)
    movements: pd.DataFrame
    #: movements peaking below ``top_min_deg`` between two movements less than ``low_within_s``
    #: apart: never a set's own, but an attempt between two of its reps
    #: (:func:`~imu.segmentation.sets.judge_sets`' ``between``)
    low: pd.DataFrame


def find_movements(
    time_s: FloatArray,
    theta_deg: FloatArray,
    rate_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    min_rom_deg: float,
    top_min_deg: float,
    smoothing_cutoff_hz: float,
    tilt_mismatch_deg: FloatArray | None = None,
    min_rate_dps: float = 0.0,
    smoothed: Smoothed | None = None,
    low_within_s: float = 0.0,
) -> Found:
    """Every movement of a recording (the offline driver; see the module documentation), and
    the low ones between two of them (:class:`Found`).

    ``smoothed``: :func:`smooth` of the same θ and rate with the same cutoff, if already known.
    ``low_within_s``: the longest pause between two movements to look for low ones in (0: none).
    """
    if time_s.shape[0] < 8:
        return Found(movements_frame([]), movements_frame([]))
    fs = sampling_rate_hz
    if smoothed is None:
        smoothed = smooth(
            theta_deg, rate_dps, sampling_rate_hz=fs, smoothing_cutoff_hz=smoothing_cutoff_hz
        )
    theta_s, v, floor = smoothed.theta_s, smoothed.v, smoothed.floor_dps
    reach = max(2, int(MAX_SIDE_S * fs))
    peaks, left, right = movement_peaks(theta_s, delta=0.5 * min_rom_deg, reach=reach)

    def measure(k: int) -> Movement | None:
        m = measure_movement(
            time_s, theta_deg, theta_s, v, int(peaks[k]), int(left[k]), int(right[k]),
            floor_dps=floor, min_rom_deg=min_rom_deg, sampling_rate_hz=fs,
            tilt_mismatch_deg=tilt_mismatch_deg, min_rate_dps=min_rate_dps,
        )  # fmt: skip
        return m if isinstance(m, Movement) else None

    high = theta_s[peaks] >= top_min_deg
    found: list[tuple[int, Movement]] = []
    for k in np.flatnonzero(high).tolist():
        m = measure(k)
        if m is not None:
            found.append((k, m))
    low: list[Movement] = []
    for (k0, a), (k1, b) in itertools.pairwise(found):
        if b.start_s - a.end_s >= low_within_s:
            continue
        for k in range(k0 + 1, k1):
            m = None if high[k] else measure(k)
            if m is not None and a.end_s < m.peak_s < b.start_s:
                low.append(m)
    return Found(movements_frame([m for _, m in found]), movements_frame(low))


def reangle(
    movements: pd.DataFrame,
    time_s: FloatArray,
    theta_deg: FloatArray,
    *,
    sampling_rate_hz: float,
    smoothing_cutoff_hz: float,
    smoothed_theta_deg: FloatArray | None = None,
) -> pd.DataFrame:
    """The same movements with their angles measured on another θ of the same recording.

    For a θ that differs from the one the movements were found on by a slowly varying offset (a
    refined shank direction): the boundaries come from the rate and stay, the angles move.
    ``smoothed_theta_deg``: that θ low-passed with ``smoothing_cutoff_hz``, if already known.
    """
    if movements.empty:
        return movements
    theta_s = (
        lowpass(theta_deg, sampling_rate_hz=sampling_rate_hz, cutoff_hz=smoothing_cutoff_hz)
        if smoothed_theta_deg is None
        else smoothed_theta_deg
    )
    out = movements.copy()
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
