"""The small stateful parts the live detector is composed of, each testable on its own.

:class:`History` keeps the last samples of every signal, addressed by global sample index;
:class:`ZigZag` is the offline zig-zag (:func:`imu.segmentation.zigzag`) run sample by sample;
:class:`LegFit` the running centripetal fit of the hip-to-ankle distance; :class:`HipLineSegment`
measures the hip line from a "legs in line" segment once it has passed. The causal filters and
the running noise floor are :class:`imu.dsp.CausalLowpass` and :class:`imu.dsp.RunningNoiseFloor`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from imu.form import DEFAULT_LEG_LENGTH_M
from imu.recording import GRAVITY_MPS2

__all__ = ["NEVER", "HipLineSegment", "History", "LegFit", "ZigZag", "first_true"]

FloatArray = npt.NDArray[np.float64]
#: "not in this block" for the index searches
NEVER = np.iinfo(np.int64).max


def first_true(mask: npt.NDArray[np.bool_]) -> int:
    """Index of the first True, or :data:`NEVER`."""
    if mask.shape[0] == 0:
        return NEVER
    i = int(np.argmax(mask))
    return i if mask[i] else NEVER


class History:
    """The last samples of each named signal, addressed by global sample index; at least ``keep``
    samples are kept, memory stays bounded."""

    def __init__(self, names: Sequence[str], keep: int) -> None:
        self.names = tuple(names)
        self.keep = keep
        self.first = 0  # global index of row 0
        self.size = 0
        self.cols: dict[str, FloatArray] = {k: np.zeros(max(16, 2 * keep)) for k in self.names}

    @property
    def end(self) -> int:
        """Global index one past the last stored sample."""
        return self.first + self.size

    def append(self, values: dict[str, FloatArray]) -> None:
        m = values[self.names[0]].shape[0]
        cap = self.cols[self.names[0]].shape[0]
        if self.size + m > cap:
            drop = max(0, self.size - self.keep)
            kept = self.size - drop
            new_cap = max(cap, 2 * (kept + m))
            for k in self.names:
                col = self.cols[k]
                fresh = col if new_cap == cap else np.zeros(new_cap)
                fresh[:kept] = col[drop : self.size]
                self.cols[k] = fresh
            self.first += drop
            self.size = kept
        for k in self.names:
            self.cols[k][self.size : self.size + m] = values[k]
        self.size += m

    def get(self, name: str, g0: int, g1: int) -> FloatArray:
        """Samples ``[g0, g1)`` (clipped to what is stored)."""
        a = max(g0, self.first) - self.first
        b = min(g1, self.end) - self.first
        return self.cols[name][a:b]

    def at(self, name: str, g: int) -> float:
        return float(self.cols[name][g - self.first])


class ZigZag:
    """The hysteresis of :func:`imu.segmentation.zigzag` over a stream: ``rising`` tracks the
    highest value since the last valley (``hi`` at sample ``hi_g``), otherwise the lowest since
    the last peak (``lo`` at ``lo_g``). A turn happens where the signal has come back ``delta``."""

    def __init__(self, delta: float) -> None:
        self.delta = delta
        self.reset()

    def reset(self) -> None:
        self.rising = False
        self.hi = self.lo = 0.0
        self.hi_g = self.lo_g = 0
        self.started = False

    def start(self, value: float, g: int) -> None:
        self.lo, self.lo_g, self.started = value, g, True

    def next_turn(self, x: FloatArray) -> int:
        """Index in ``x`` (the next samples) of the next turn, or :data:`NEVER`."""
        if self.rising:
            top = np.maximum(np.maximum.accumulate(x), self.hi)
            return first_true(top - x >= self.delta)
        low = np.minimum(np.minimum.accumulate(x), self.lo)
        return first_true(x - low >= self.delta)

    def advance(self, x: FloatArray, g0: int) -> None:
        """Carry the running extreme over samples ``x`` (global ``g0`` …) with no turn."""
        if x.shape[0] == 0:
            return
        if self.rising:
            j = int(np.argmax(x))
            if x[j] > self.hi:
                self.hi, self.hi_g = float(x[j]), g0 + j
        else:
            j = int(np.argmin(x))
            if x[j] < self.lo:
                self.lo, self.lo_g = float(x[j]), g0 + j

    def turn(self, value: float, g: int) -> None:
        """The turn at sample ``g`` (value ``value``): from rising to falling or back."""
        if self.rising:
            self.lo, self.lo_g = value, g
        else:
            self.hi, self.hi_g = value, g
        self.rising = not self.rising


class LegFit:
    """Least-squares hip-to-ankle distance from the centripetal acceleration: along the shank the
    accelerometer reads ``sin θ − r·ω²/g`` (a straight leg about the hip), fitted over the fast
    samples (above ``min_rate_dps``)."""

    def __init__(self, *, min_rate_dps: float = 60.0, min_samples: int = 40) -> None:
        self.min_rate_dps = min_rate_dps
        self.min_samples = min_samples
        self.reset()

    def reset(self) -> None:
        self.sums = np.zeros(3)  # Σxy, Σxx, count

    @staticmethod
    def terms(
        theta_deg: FloatArray, rate_dps: FloatArray, along_g: FloatArray, min_rate_dps: float
    ) -> tuple[FloatArray, FloatArray]:
        """Each sample's ``(x·y, x·x)`` (zero for slow samples); ``along_g`` is the accelerometer's
        reading along the shank."""
        fast = np.abs(rate_dps) > min_rate_dps
        x = np.where(fast, np.radians(rate_dps) ** 2 / GRAVITY_MPS2, 0.0)
        y = np.sin(np.radians(theta_deg)) - along_g
        return x * y, x * x

    def add(self, xy: FloatArray, xx: FloatArray) -> None:
        if np.any(xx > 0):
            self.sums += (float(xy.sum()), float(xx.sum()), float(np.count_nonzero(xx)))

    def length_m(self, given_m: float | None) -> float:
        """The given length, else the fit (when plausible), else the default."""
        if given_m is not None:
            return given_m
        sxy, sxx, count = self.sums
        if count >= self.min_samples and sxx > 0:
            r = sxy / sxx
            if 0.45 <= r <= 1.3:
                return float(r)
        return DEFAULT_LEG_LENGTH_M


class HipLineSegment:
    """The hip line measured from a "legs held in line" segment ``[a, b)``: once the stream has
    passed ``b``, the median θ over the segment (``None`` until then, or when it held no sample).
    """

    def __init__(self, segment_s: tuple[float, float] | None) -> None:
        self.segment_s = segment_s
        self.reset()

    def reset(self) -> None:
        self.values: list[FloatArray] = []
        self.done = self.segment_s is None

    def cut(self, t: FloatArray) -> int | None:
        """Where a chunk must be split so the segment ends at a chunk's edge."""
        if self.done or self.segment_s is None:
            return None
        return int(np.searchsorted(t, self.segment_s[1]))

    def feed(self, t: FloatArray, theta0_deg: FloatArray) -> float | None:
        """Take a chunk (split at :meth:`cut`); the measured hip line once the segment is over."""
        if self.done or self.segment_s is None or t.shape[0] == 0:
            return None
        a, b = self.segment_s
        sel = (t >= a) & (t < b)
        if sel.any():
            self.values.append(theta0_deg[sel].copy())
        if t[0] < b:
            return None
        self.done = True
        values = np.concatenate(self.values) if self.values else np.zeros(0)
        self.values = []
        return float(np.median(values)) if values.size else None
