"""Helpers shared by the sensor profiles: array checks, quantisation and the arrival clock.

Pure: no bleak, no I/O, no clocks (arrival times are passed in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.sensors.base import DecoderStats, SampleBlock

FloatArray = npt.NDArray[np.float64]


def as_samples(
    time_s: npt.ArrayLike, acc_g: npt.ArrayLike, gyro_dps: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check and convert encoder inputs: ``time_s`` (n,), ``acc_g`` and ``gyro_dps`` (n, 3)."""
    t = np.asarray(time_s, dtype=np.float64).reshape(-1)
    acc = np.asarray(acc_g, dtype=np.float64)
    gyro = np.asarray(gyro_dps, dtype=np.float64)
    n = t.shape[0]
    if acc.shape != (n, 3) or gyro.shape != (n, 3):
        raise ConfigError(
            f"samples need time_s (n,), acc_g (n, 3) and gyro_dps (n, 3); got {t.shape}, "
            f"{acc.shape}, {gyro.shape}"
        )
    return t, acc, gyro


def check_chunk(samples_per_notification: int) -> None:
    if samples_per_notification < 1:
        raise ConfigError(f"samples per notification must be >= 1, got {samples_per_notification}")


def quantise_i16(values: FloatArray, full_scale: float) -> npt.NDArray[np.int16]:
    """``values`` in physical units → int16 counts with ``full_scale`` at 32768 (saturating)."""
    counts = np.rint(np.asarray(values, dtype=np.float64) * (32768.0 / full_scale))
    return np.clip(counts, -32768, 32767).astype(np.int16)


def make_block(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    lost_before: int = 0,
    seq: npt.NDArray[np.int64] | None = None,
) -> SampleBlock:
    return SampleBlock(
        time_s=np.ascontiguousarray(time_s, dtype=np.float64),
        acc_g=np.ascontiguousarray(acc_g, dtype=np.float64).reshape(-1, 3),
        gyro_dps=np.ascontiguousarray(gyro_dps, dtype=np.float64).reshape(-1, 3),
        lost_before=lost_before,
        seq=seq,
    )


@dataclass
class ArrivalClock:
    """Sample times for protocols without a device clock (WitMotion, Thingy:52 raw data).

    Samples are spaced at the configured period ``1 / rate_hz`` on the host's clock. The time
    line is anchored to the *earliest* arrivals: a notification can never arrive before its
    samples were taken, so when one arrives earlier than the time line predicts, the line is
    pulled back (by at most a quarter period per notification, so times stay strictly increasing);
    when notifications keep arriving a little late (a sensor clock slower than nominal) the line
    creeps forward by ``creep`` of the lateness per notification.

    A notification whose last sample arrives more than ``1.5 periods + jitter_s`` after the
    time line's prediction means samples were lost (a notification dropped, or the sensor
    stalled): ``round(lateness / period)`` samples are counted as lost and the time line is
    re-anchored to the arrival. ``jitter_s`` covers BLE batching: several notifications queued
    in one connection event arrive together, up to one connection interval after the first of
    them was sampled, so loss detection cannot be finer than the connection interval.
    """

    period_s: float
    jitter_s: float = 0.03
    creep: float = 0.02
    last_time_s: float | None = None

    def reset(self) -> None:
        self.last_time_s = None

    def place(self, n: int, arrival_s: float, stats: DecoderStats) -> tuple[FloatArray, int]:
        """Times of ``n`` samples that arrived together at ``arrival_s``, and how many samples
        were lost just before them."""
        period = self.period_s
        offsets = np.arange(n, dtype=np.float64) * period
        if self.last_time_s is None:
            first = arrival_s - (n - 1) * period
            self.last_time_s = float(first + offsets[-1])
            return first + offsets, 0
        first = self.last_time_s + period
        lateness = arrival_s - (first + (n - 1) * period)
        lost = 0
        if lateness > 1.5 * period + self.jitter_s:
            lost = round(lateness / period)
            first = arrival_s - (n - 1) * period
            stats.lost_samples += lost
        elif lateness < 0.0:
            first += max(lateness, -0.25 * period)
        else:
            first += self.creep * lateness
        self.last_time_s = float(first + offsets[-1])
        return first + offsets, lost


class DeviceClock:
    """Sample times from a device clock carried in each notification (reference protocol,
    Movesense, Polar).

    Each notification carries the device time of its first sample (``anchor_last=False``) or
    of its last sample (``anchor_last=True``) in integer ``tick_s`` units, wrapping at ``wrap``
    ticks (``None``: never wraps). Times are the unwrapped device clock in seconds. Within a
    notification samples are spaced by the sample period, which starts at the nominal period
    and follows the period measured between consecutive notifications (the sensor's crystal,
    not the nominal rate, sets the true spacing).

    Lost samples: the time from the previous notification's anchor to this one, less the samples
    it accounts for, in periods. A gap of more than 1.5 periods is a loss; so is any gap of more
    than half a period when the caller knows from a sequence number or flag that something was
    lost. A clock that steps backwards (device restart) re-anchors the time line one period
    after the last sample so times stay strictly increasing (``stats.resyncs``).
    """

    def __init__(
        self, nominal_period_s: float, *, tick_s: float, wrap: int | None, anchor_last: bool
    ) -> None:
        self.nominal_period_s = nominal_period_s
        self.period_s = nominal_period_s
        self.tick_s = tick_s
        self.wrap = wrap
        self.anchor_last = anchor_last
        self._raw: int | None = None  # raw anchor of the last notification
        self._ext = 0  # its unwrapped ticks
        self._n = 0  # samples in the last notification
        self._offset_s = 0.0  # added after discontinuities
        self._last_s = 0.0  # time of the last sample emitted
        self._fresh = True  # next notification starts a new stream (no loss accounting)

    def new_stream(self) -> None:
        """The next notification follows a gap of unknown length (reconnect, restart)."""
        self._fresh = True

    def set_nominal_period(self, period_s: float) -> None:
        self.nominal_period_s = self.period_s = period_s

    def place(
        self,
        raw: int,
        n: int,
        stats: DecoderStats,
        *,
        known_gap: bool = False,
        fallback_lost: int = 0,
    ) -> tuple[FloatArray, int]:
        """Times of ``n`` samples anchored at device time ``raw``, and the samples lost before
        them. ``known_gap``: a sequence number or flag says samples were lost;
        ``fallback_lost``: how many, if the clock cannot tell."""
        new = self._raw is None or self._fresh
        ext, restarted = self._unwrap(raw, n, stats)
        anchor = ext * self.tick_s + self._offset_s
        lost, period = 0, self.period_s
        if not (new or restarted):
            lost, period = self._follow(anchor, n, known_gap=known_gap, fallback_lost=fallback_lost)
        if self.anchor_last:
            times = anchor - (n - 1 - np.arange(n, dtype=np.float64)) * period
        else:
            times = anchor + np.arange(n, dtype=np.float64) * period
        if self._raw is not None and times[0] <= self._last_s:
            shift = self._last_s + self.period_s - times[0]
            self._offset_s += shift
            times = times + shift
            stats.resyncs += 1
        self._raw, self._ext, self._n, self._fresh = raw, ext, n, False
        self._last_s = float(times[-1])
        stats.lost_samples += lost
        return times, lost

    def _unwrap(self, raw: int, n: int, stats: DecoderStats) -> tuple[int, bool]:
        """The unwrapped ticks of the anchor ``raw`` (of ``n`` samples), and whether the clock
        went backwards (a device restart: the time line is re-anchored one period after the
        last sample)."""
        if self._raw is None:
            return raw, False
        delta = raw - self._raw
        if self.wrap is not None:
            delta %= self.wrap
            backwards = delta >= self.wrap // 2
        else:
            backwards = delta < 0
        if not backwards:
            return self._ext + delta, False
        self._offset_s = self._last_s + self.period_s - self._ext * self.tick_s
        if self.anchor_last:
            self._offset_s += (n - 1) * self.period_s
        stats.resyncs += 1
        stats.last_error = "device clock went backwards (device restarted?)"
        return self._ext, True

    def _follow(
        self, anchor: float, n: int, *, known_gap: bool, fallback_lost: int
    ) -> tuple[int, float]:
        """Samples lost between the previous notification and this one (anchored at ``anchor``
        s), and the spacing of this one's ``n`` samples; without a loss the period follows the
        one measured between the notifications."""
        prev_anchor = self._ext * self.tick_s + self._offset_s
        spanned = n if self.anchor_last else self._n
        period = self.period_s
        late = (anchor - (prev_anchor + spanned * period)) / period
        if late > 0.5 and (known_gap or late > 1.5):
            return round(late), period
        if known_gap:
            return fallback_lost, period
        if anchor > prev_anchor:
            measured = (anchor - prev_anchor) / spanned
            if 0.8 < measured / self.nominal_period_s < 1.25:
                self.period_s += 0.2 * (measured - self.period_s)
                if self.anchor_last:  # exact spacing from the last sample we emitted
                    period = (anchor - self._last_s) / n
        return 0, period
