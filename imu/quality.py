"""Sensors that lie: saturated (clipped) channels, flat-lined channels, a declared sample rate
that the timestamps contradict. Plain functions on arrays; the pipeline puts what they find in
the summary's notes and flags the reps it touches ``clipped``; the live session shows it.

*Saturated*: a channel sits at its full scale — at least :data:`SATURATION_MIN_SAMPLES` samples
in a row within a hair of the largest magnitude it reached, that magnitude being one of the usual
full scales (:data:`ACC_RANGES_G`, :data:`GYRO_RANGES_DPS`) or the one the recording's metadata
declare (``acc_range_g``, ``gyro_range_dps``).

*Flat-lined*: a channel repeats exactly the same value for at least :data:`FLAT_MIN_S` while the
sensor is turning (the other gyro axes above :data:`MOVING_DPS`): real sensors are never that
still while they move. A channel that never changes over a recording that moves is *dead*.

*Rate mismatch*: the metadata's ``sample_rate_hz`` and the timestamps' own rate (1 / median
interval) differ by more than :data:`RATE_TOLERANCE`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from imu.dsp import measured_rate_hz

__all__ = [
    "ACC_RANGES_G",
    "GYRO_RANGES_DPS",
    "BadStretch",
    "QualityMonitor",
    "SensorQuality",
    "bad_stretches",
    "check_quality",
    "rate_mismatch",
    "runs",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: full scales accelerometers are commonly set to, g
ACC_RANGES_G = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)
#: full scales gyroscopes are commonly set to, °/s
GYRO_RANGES_DPS = (125.0, 245.0, 250.0, 300.0, 500.0, 1000.0, 2000.0, 4000.0)
#: a peak this close below (or above) a full scale counts as reaching it (int16 tops out at
#: 32767/32768 of it; a calibrated sensor a little either side)
_RANGE_BELOW, _RANGE_ABOVE = 0.97, 1.01
#: samples within this share of the full scale of the channel's peak sit at the peak
_PLATEAU_FRACTION = 1e-4
#: this many samples in a row at the full scale are a saturation
SATURATION_MIN_SAMPLES = 3
#: a value repeated exactly for this long while the sensor turns is a flat line, s
FLAT_MIN_S = 1.0
#: the sensor is turning when the other gyro axes read more than this, °/s
MOVING_DPS = 20.0
#: declared and measured sample rates further apart than this share disagree
RATE_TOLERANCE = 0.05

CHANNELS = ("acc_x_g", "acc_y_g", "acc_z_g", "gyro_x_dps", "gyro_y_dps", "gyro_z_dps")
Kind = Literal["saturated", "flat"]


def runs(mask: BoolArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start and end (exclusive) indices of each run of ``True`` in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


@dataclass(frozen=True)
class BadStretch:
    """Samples ``[i0, i1)`` of one channel that cannot be trusted."""

    channel: str  #: e.g. ``acc_z_g``
    kind: Kind
    start_s: float  #: time of the first bad sample, s
    end_s: float  #: time of the last bad sample, s
    samples: int
    value: float  #: the value the channel sat at (signed)

    def describe(self) -> str:
        unit = "g" if self.channel.startswith("acc") else "°/s"
        if self.kind == "saturated":
            return f"{self.channel} saturated at {self.value:+g} {unit}"
        return f"{self.channel} stuck at {self.value:g} {unit} while the sensor turned"


def _full_scale(peak: float, ranges: Sequence[float]) -> float | None:
    for r in ranges:
        if _RANGE_BELOW * r <= peak <= _RANGE_ABOVE * r:
            return r
    return None


def _saturated(
    time_s: FloatArray, x: FloatArray, channel: str, ranges: Sequence[float]
) -> list[BadStretch]:
    a = np.abs(x)
    peak = float(a.max(initial=0.0))
    scale = _full_scale(peak, ranges)
    if scale is None:
        return []
    i0, i1 = runs(a >= peak - _PLATEAU_FRACTION * scale)
    keep = (i1 - i0) >= SATURATION_MIN_SAMPLES
    return [
        BadStretch(
            channel, "saturated", float(time_s[s]), float(time_s[e - 1]), int(e - s), float(x[s])
        )
        for s, e in zip(i0[keep], i1[keep], strict=True)
    ]


def _flat(
    time_s: FloatArray,
    x: FloatArray,
    channel: str,
    turning_dps: Callable[[int, int], FloatArray],
) -> list[BadStretch]:
    """Long runs of one repeated value while the sensor turns (``turning_dps(s, e)``: the rate
    about the other axes over samples ``s … e-1``)."""
    same = np.diff(x) == 0.0  # sample k+1 repeats sample k
    i0, i1 = runs(same)
    i1 = i1 + 1  # a run of repeats covers samples i0 … i1-1
    long = (time_s[i1 - 1] - time_s[i0]) >= FLAT_MIN_S
    found = []
    for s, e in zip(i0[long].tolist(), i1[long].tolist(), strict=True):  # only the long runs: few
        if float(np.median(turning_dps(s, e))) <= MOVING_DPS:
            continue  # a still sensor may well repeat itself
        found.append(
            BadStretch(
                channel, "flat", float(time_s[s]), float(time_s[e - 1]), int(e - s), float(x[s])
            )
        )
    return found


def bad_stretches(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    acc_ranges_g: Sequence[float] = ACC_RANGES_G,
    gyro_ranges_dps: Sequence[float] = GYRO_RANGES_DPS,
) -> list[BadStretch]:
    """Saturated and flat-lined stretches of every channel, in channel order."""
    if time_s.shape[0] < 2:
        return []
    found: list[BadStretch] = []
    gyro_sq = np.square(gyro_dps)
    total_sq = gyro_sq.sum(axis=1)
    for k in range(6):
        is_acc = k < 3
        x = acc_g[:, k] if is_acc else gyro_dps[:, k - 3]
        ranges = acc_ranges_g if is_acc else gyro_ranges_dps
        found.extend(_saturated(time_s, x, CHANNELS[k], ranges))

        def turning(s: int, e: int, k: int = k) -> FloatArray:
            """The rate about the axes other than channel ``k``'s (all three for the
            accelerometer), samples ``s … e-1``."""
            others: FloatArray = total_sq[s:e] - (0.0 if k < 3 else gyro_sq[s:e, k - 3])
            root: FloatArray = np.sqrt(np.maximum(others, 0.0))
            return root

        found.extend(_flat(time_s, x, CHANNELS[k], turning))
    return found


def rate_mismatch(declared_hz: float | None, measured_hz: float) -> str:
    """One sentence when a declared rate and the measured one disagree, else ``""``."""
    if declared_hz is None or not (math.isfinite(declared_hz) and declared_hz > 0):
        return ""
    if not (math.isfinite(measured_hz) and measured_hz > 0):
        return ""
    if abs(declared_hz - measured_hz) <= RATE_TOLERANCE * measured_hz:
        return ""
    return (
        f"the metadata say {declared_hz:g} Hz but the timestamps advance at "
        f"{measured_hz:.4g} Hz (a median {1000.0 / measured_hz:.3g} ms per sample)"
    )


@dataclass(frozen=True)
class SensorQuality:
    """What :func:`check_quality` found in one recording."""

    stretches: tuple[BadStretch, ...] = ()
    dead_channels: tuple[str, ...] = ()  #: channels that never change while the sensor turns
    rate_problem: str = ""  #: :func:`rate_mismatch`'s sentence, or ``""``

    @property
    def notes(self) -> tuple[str, ...]:
        """Lines for the summary's notes (one per channel and kind)."""
        out: list[str] = []
        by_kind: dict[tuple[str, Kind], list[BadStretch]] = {}
        for s in self.stretches:
            by_kind.setdefault((s.channel, s.kind), []).append(s)
        for (channel, kind), items in by_kind.items():
            if kind == "flat" and channel in self.dead_channels:
                continue
            total_s = sum(s.end_s - s.start_s for s in items)
            samples = sum(s.samples for s in items)
            out.append(
                f"sensor: {items[0].describe()} — {samples} samples in {len(items)} stretch(es), "
                f"{total_s:.2f} s; reps over them are flagged clipped"
            )
        out.extend(
            f"sensor: {c} never changes while the sensor turns: the channel is dead"
            for c in self.dead_channels
        )
        if self.rate_problem:
            out.append(f"sensor: {self.rate_problem}")
        return tuple(out)

    def evidence(self, start_s: float, end_s: float) -> str:
        """Why the data of ``[start_s, end_s]`` cannot be trusted (``""`` when they can)."""
        hits = [s for s in self.stretches if s.start_s <= end_s and s.end_s >= start_s]
        if not hits:
            return ""
        parts: dict[str, float] = {}
        for s in hits:
            text = s.describe()
            overlap = min(s.end_s, end_s) - max(s.start_s, start_s)
            parts[text] = parts.get(text, 0.0) + max(overlap, 0.0)
        return "; ".join(f"{text} for {secs:.2f} s of the rep" for text, secs in parts.items())


def _declared_range(metadata: Mapping[str, str], key: str) -> tuple[float, ...] | None:
    try:
        value = float(metadata[key])
    except (KeyError, ValueError):
        return None
    return (value,) if math.isfinite(value) and value > 0 else None


def check_quality(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    metadata: Mapping[str, str] | None = None,
) -> SensorQuality:
    """Saturation, flat lines and rate mismatch in one recording. ``metadata`` may declare
    ``sample_rate_hz``, ``acc_range_g`` and ``gyro_range_dps``."""
    meta = metadata or {}
    acc_ranges = _declared_range(meta, "acc_range_g") or ACC_RANGES_G
    gyro_ranges = _declared_range(meta, "gyro_range_dps") or GYRO_RANGES_DPS
    stretches = bad_stretches(
        time_s, acc_g, gyro_dps, acc_ranges_g=acc_ranges, gyro_ranges_dps=gyro_ranges
    )
    dead = []
    n = time_s.shape[0]
    for s in stretches:
        if s.kind == "flat" and s.samples == n:
            dead.append(s.channel)
    measured = measured_rate_hz(time_s)
    declared: float | None
    try:
        declared = float(meta["sample_rate_hz"])
    except (KeyError, ValueError):
        declared = None
    return SensorQuality(tuple(stretches), tuple(dead), rate_mismatch(declared, measured))


class QualityMonitor:
    """The same checks over the last :attr:`window_s` of a stream (the live view's line).

    :meth:`update` takes each block of samples and returns the problems seen in the window, as
    short sentences (also kept in :attr:`current`).
    """

    def __init__(self, *, sampling_rate_hz: float, window_s: float = 2.0 * FLAT_MIN_S) -> None:
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.window_s = window_s
        self._n = max(SATURATION_MIN_SAMPLES, math.ceil(window_s * self.sampling_rate_hz))
        self._t = np.empty(0)
        self._acc = np.empty((0, 3))
        self._gyro = np.empty((0, 3))
        self.current: tuple[str, ...] = ()

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> tuple[str, ...]:
        self._t = np.concatenate((self._t, time_s))[-self._n :]
        self._acc = np.concatenate((self._acc, np.asarray(acc_g).reshape(-1, 3)))[-self._n :]
        self._gyro = np.concatenate((self._gyro, np.asarray(gyro_dps).reshape(-1, 3)))[-self._n :]
        found = dict.fromkeys(s.describe() for s in bad_stretches(self._t, self._acc, self._gyro))
        if self._t.shape[0] >= self._n:
            measured = measured_rate_hz(self._t)
            if rate_mismatch(self.sampling_rate_hz, measured):
                found[f"rate {measured:.4g} Hz, expected {self.sampling_rate_hz:g} Hz"] = None
        self.current = tuple(found)
        return self.current
