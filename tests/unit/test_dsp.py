"""The signal building blocks: batch and streaming forms of one rule agree."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from imu.dsp import (
    NOISE_FLOOR_MIN_DPS,
    CausalLowpass,
    RunningNoiseFloor,
    lowpass,
    measured_rate_hz,
    median,
    noise_floor_dps,
)


def test_lowpass_matches_filtfilt_magnitude() -> None:
    from scipy import signal

    fs = 100.0
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=4000))
    ours = lowpass(x, sampling_rate_hz=fs, cutoff_hz=4.0)
    sos = signal.butter(2, 4.0, fs=fs, output="sos")
    ref = signal.sosfiltfilt(sos, x)
    core = slice(300, -300)  # edge handling differs
    assert np.sqrt(np.mean((ours[core] - ref[core]) ** 2)) < 0.02 * np.std(x)


def test_causal_lowpass_does_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=3000))
    whole = CausalLowpass(sampling_rate_hz=100.0, cutoff_hz=4.0)(x)
    f = CausalLowpass(sampling_rate_hz=100.0, cutoff_hz=4.0)
    cuts = [0, 1, 7, 500, 501, 1999, 3000]
    parts = np.concatenate([f(x[a:b]) for a, b in itertools.pairwise(cuts)])
    assert np.allclose(parts, whole)
    assert whole[0] == pytest.approx(x[0])  # starts settled


def test_noise_floor_reads_the_still_seconds_not_the_movement() -> None:
    fs = 25.0
    rng = np.random.default_rng(2)
    t = np.arange(0, 120, 1 / fs)
    rate = rng.normal(0, 2.0, t.size)  # 2 °/s of noise
    moving = (t % 20) < 16  # mostly fast swings
    rate[moving] += 250 * np.sin(2 * np.pi * 1.5 * t[moving])
    floor = noise_floor_dps(rate, sampling_rate_hz=fs)
    assert 6.0 < floor < 16.0  # 4 σ of the jitter of 2 °/s noise (√2 · 2 · 4 ≈ 11)
    # the median over all samples would read the swings
    assert floor < 0.3 * 4 * 1.4826 * np.median(np.abs(np.diff(rate))) / np.sqrt(2)


def test_running_noise_floor_follows_the_batch_rule() -> None:
    fs = 100.0
    rng = np.random.default_rng(4)
    rate = rng.normal(0, 1.5, 6000)
    rate[2000:4000] += 100 * np.sin(np.linspace(0, 60, 2000))
    running = RunningNoiseFloor(sampling_rate_hz=fs)
    for a in range(0, rate.size, 37):
        running.add(rate[a : a + 37])
    batch = noise_floor_dps(rate, sampling_rate_hz=fs)
    assert running.value() == pytest.approx(batch, rel=0.05)
    assert RunningNoiseFloor(sampling_rate_hz=fs).value() == NOISE_FLOOR_MIN_DPS


def test_measured_rate_ignores_dropped_packets_and_needs_two_samples() -> None:
    t = np.arange(200) / 100.0
    t = np.delete(t, np.arange(50, 60))  # ten samples dropped
    assert measured_rate_hz(t) == pytest.approx(100.0)
    assert math.isnan(measured_rate_hz(t[:1]))
    assert math.isnan(measured_rate_hz(np.array([1.0, 1.0, 1.0])))


@pytest.mark.parametrize("kind", ["normal", "ties and signed zeros", "non-finite", "long"])
def test_median_is_numpys_to_the_last_bit(kind: str) -> None:
    """The fast median returns exactly what np.median does: the outputs print its values."""
    rng = np.random.default_rng(5)
    for _ in range(2000):
        n = int(rng.integers(1, 40)) if kind != "long" else int(rng.integers(200, 400))
        if kind == "ties and signed zeros":
            x = rng.choice([-0.0, 0.0, 1.0, -1.0, 1e308, -1e308, 5e-324], size=n)
        else:
            x = rng.normal(size=n) * 10.0 ** rng.uniform(-5, 5)
        if kind == "non-finite":
            x[rng.integers(0, n)] = rng.choice([np.nan, np.inf, -np.inf])
        with np.errstate(invalid="ignore", over="ignore"):
            expected = float(np.median(x))
            got = median(x)
        assert repr(got) == repr(expected), x
    assert median(np.array([3.0, 1.0, 2.0, 10.0])) == 2.5
