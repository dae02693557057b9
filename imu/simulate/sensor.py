"""The sensor: gain and cross-axis errors, biases and their drift, noise, clipping, quantisation,
timestamp jitter and lost BLE packets — applied to the true specific force and angular rate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.simulate.spec import SensorSpec

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["DropRun", "SensorDraw", "apply_sensor_errors", "drop_packets", "jitter_timestamps"]


@dataclass(frozen=True)
class SensorDraw:
    """The hidden values one simulated sensor was given (reported in the truth file)."""

    acc_matrix: FloatArray  #: gain and cross-axis matrix (3, 3) applied to specific force
    gyro_matrix: FloatArray  #: same for the angular rate
    gyro_bias_dps: FloatArray  #: the constant part of the gyro bias (3,)
    acc_bias_g: FloatArray  #: (3,)


@dataclass(frozen=True)
class DropRun:
    """Samples ``[first, first + count)`` (indices on the sensor's full clock) were lost."""

    first: int
    count: int


def _error_matrix(
    rng: np.random.Generator, scale: tuple[float, float, float], cross_axis: float
) -> FloatArray:
    m = np.diag(1.0 + np.asarray(scale, dtype=np.float64))
    if cross_axis > 0:
        off = rng.uniform(-cross_axis, cross_axis, size=(3, 3))
        np.fill_diagonal(off, 0.0)
        m = m + off
    return m


def apply_sensor_errors(
    rng: np.random.Generator,
    *,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    time_s: FloatArray,
    spec: SensorSpec,
) -> tuple[FloatArray, FloatArray, SensorDraw]:
    """Return measured ``(acc_g, gyro_dps)`` from the true values at the sample instants."""
    n = time_s.shape[0]
    acc_m = _error_matrix(rng, spec.acc_scale_error, spec.cross_axis)
    gyro_m = _error_matrix(rng, spec.gyro_scale_error, spec.cross_axis)
    acc = acc_g @ acc_m.T + np.asarray(spec.acc_bias_g)
    gyro = gyro_dps @ gyro_m.T + np.asarray(spec.gyro_bias_dps)
    if spec.gyro_bias_drift_dps > 0:
        periods = rng.uniform(120.0, 900.0, size=(2, 3))
        phases = rng.uniform(0.0, 2 * math.pi, size=(2, 3))
        amps = spec.gyro_bias_drift_dps * rng.uniform(0.3, 0.7, size=(2, 3))
        arg = 2 * math.pi * time_s[:, None, None] / periods + phases
        drift = np.sum(amps * (np.sin(arg) - np.sin(phases)), axis=1)
        gyro = gyro + drift
    if spec.acc_noise_g > 0:
        acc = acc + rng.normal(0.0, spec.acc_noise_g, size=(n, 3))
    if spec.gyro_noise_dps > 0:
        gyro = gyro + rng.normal(0.0, spec.gyro_noise_dps, size=(n, 3))
    acc = _digitise(acc, spec.acc_range_g, spec.adc_bits)
    gyro = _digitise(gyro, spec.gyro_range_dps, spec.adc_bits)
    draw = SensorDraw(
        acc_m,
        gyro_m,
        np.asarray(spec.gyro_bias_dps, dtype=np.float64),
        np.asarray(spec.acc_bias_g, dtype=np.float64),
    )
    return acc, gyro, draw


def _digitise(values: FloatArray, full_scale: float, bits: int) -> FloatArray:
    if full_scale <= 0:
        return values
    if bits <= 0:
        return np.clip(values, -full_scale, full_scale)
    lsb = full_scale / 2 ** (bits - 1)
    counts = np.clip(np.rint(values / lsb), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return np.asarray(counts * lsb, dtype=np.float64)


def jitter_timestamps(
    rng: np.random.Generator, time_s: FloatArray, *, jitter_s: float, rate_hz: float
) -> FloatArray:
    """Stamp each sample with an error of ``jitter_s`` (sd), clipped to ±0.24 period so that
    time still increases and no interval exceeds 1.5 periods (which would look like a gap)."""
    if jitter_s <= 0:
        return time_s.copy()
    limit = 0.24 / rate_hz
    stamps = time_s + np.clip(rng.normal(0.0, jitter_s, size=time_s.shape), -limit, limit)
    stamps[0] = max(stamps[0], 0.0)  # a clock does not start before zero
    return stamps


def drop_packets(
    rng: np.random.Generator, n: int, *, spec: SensorSpec, rate_hz: float
) -> tuple[BoolArray, list[DropRun]]:
    """Which samples arrive: runs of whole packets are lost (never the first or last second)."""
    keep = np.ones(n, dtype=bool)
    runs: list[DropRun] = []
    minutes = n / rate_hz / 60.0
    if spec.drop_runs_per_min <= 0 or n < 4 * rate_hz:
        return keep, runs
    count = int(rng.poisson(spec.drop_runs_per_min * minutes))
    per = spec.packet_samples
    margin = math.ceil(rate_hz)
    for _ in range(count):
        packets = int(rng.geometric(1.0 / spec.drop_mean_packets))
        length = packets * per
        first = int(rng.integers(margin, max(margin + 1, n - margin - length))) // per * per
        keep[first : first + length] = False
    lost = np.flatnonzero(~keep)
    if lost.size:
        breaks = np.flatnonzero(np.diff(lost) > 1)
        starts = np.concatenate([[lost[0]], lost[breaks + 1]])
        ends = np.concatenate([lost[breaks], [lost[-1]]])
        runs = [DropRun(int(a), int(b - a + 1)) for a, b in zip(starts, ends, strict=True)]
    return keep, runs
