"""Unit tests of stage 2 on tiny hand-made arrays."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.segmentation import (
    detect_reps,
    group_sets,
    lowpass,
    onset_time,
    significant_peaks,
)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_onset_extrapolates_power_law_start_exactly(power: float) -> None:
    fs = 1000.0
    t = np.arange(0, 2.0, 1 / fs)
    t0 = 0.5
    v = np.where(t > t0, 40.0 * (t - t0) ** power, 0.0)
    v = np.minimum(v, 60.0)  # the bump's plateau
    i_peak = int(np.argmax(v))
    got = onset_time(t, v, i_peak, forward=False, limit=0, floor_dps=1.0)
    assert got == pytest.approx(t0, abs=0.01)


def test_onset_end_mirrors_start() -> None:
    fs = 500.0
    t = np.arange(0, 3.0, 1 / fs)
    v = np.clip(60.0 * np.sin(np.pi * (t - 0.5) / 1.5), 0, None) * ((t > 0.5) & (t < 2.0))
    i_peak = int(np.argmax(v))
    start = onset_time(t, v, i_peak, forward=False, limit=0, floor_dps=1.0)
    end = onset_time(t, v, i_peak, forward=True, limit=t.size - 1, floor_dps=1.0)
    assert start == pytest.approx(0.5, abs=0.01)
    assert end == pytest.approx(2.0, abs=0.01)


def test_a_plain_threshold_would_lag() -> None:
    # the reason for the extrapolation: a 10 °/s threshold crosses 0.2 s late on a smooth start
    fs = 1000.0
    t = np.arange(0, 3.0, 1 / fs)
    tau = np.clip((t - 0.5) / 1.5, 0, 1)
    v = 40.0 / 1.5 * 30 * tau**2 * (1 - tau) ** 2  # minimum-jerk, 40° in 1.5 s
    naive = t[np.argmax(v > 10.0)]
    assert naive - 0.5 > 0.15
    got = onset_time(t, v, int(np.argmax(v)), forward=False, limit=0, floor_dps=1.0)
    assert abs(got - 0.5) < 0.06


def test_significant_peaks_ignore_small_wiggles() -> None:
    x = np.array([0, 1, 0.5, 1.2, 0, 5, 4.8, 5.1, 0, 0.3, 0, 6, 0], dtype=float)
    peaks = significant_peaks(x, delta=2.0)
    assert peaks.tolist() == [7, 11]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=3, max_size=60), st.floats(0.5, 20))
def test_significant_peaks_are_separated_by_delta(values: list[float], delta: float) -> None:
    x = np.asarray(values)
    peaks = significant_peaks(x, delta=delta)
    assert np.all(np.diff(peaks) > 0)
    for a, b in itertools.pairwise(peaks):
        # between two kept peaks the signal falls by at least delta below each
        assert x[a : b + 1].min() <= min(x[a], x[b]) - delta + 1e-9


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


def _rep_wave(fs: float, n_reps: int, *, bottom: float = -40.0, top: float = 0.0) -> np.ndarray:
    """θ of controlled reps: 1.5 s up, 1 s hold, 2 s down, 1 s pause."""
    seg = []
    for _ in range(n_reps):
        up = np.linspace(0, 1, int(1.5 * fs))
        down = np.linspace(0, 1, int(2.0 * fs))
        seg += [
            bottom + (top - bottom) * (10 * up**3 - 15 * up**4 + 6 * up**5),
            np.full(int(1.0 * fs), top),
            top + (bottom - top) * (10 * down**3 - 15 * down**4 + 6 * down**5),
            np.full(int(1.0 * fs), bottom),
        ]
    return np.concatenate([np.full(int(2 * fs), bottom), *seg, np.full(int(2 * fs), bottom)])


def test_detect_reps_on_a_clean_wave() -> None:
    fs = 100.0
    theta = _rep_wave(fs, 5)
    t = np.arange(theta.size) / fs
    rate = np.gradient(theta, t)
    reps = detect_reps(
        t, theta, rate, sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0,
    )  # fmt: skip
    assert len(reps) == 5
    first = reps.iloc[0]
    assert first["start_s"] == pytest.approx(2.0, abs=0.08)
    assert first["top_start_s"] == pytest.approx(3.5, abs=0.08)
    assert first["top_end_s"] == pytest.approx(4.5, abs=0.08)
    assert first["end_s"] == pytest.approx(6.5, abs=0.08)
    assert first["peak_angle_deg"] == pytest.approx(0.0, abs=0.5)
    starts = reps["start_s"].to_numpy()
    ends = reps["end_s"].to_numpy()
    assert np.all(starts[1:] >= ends[:-1])  # disjoint, sorted


def test_low_peaks_are_not_reps() -> None:
    # walking-like oscillation of the shank far below the hip line
    fs = 100.0
    t = np.arange(0, 30, 1 / fs)
    theta = -90 + 35 * np.sin(2 * np.pi * 1.0 * t)
    rate = np.gradient(theta, t)
    reps = detect_reps(
        t, theta, rate, sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0,
    )  # fmt: skip
    assert reps.empty


def _reps_frame(starts: list[float], dur: float = 4.0) -> pd.DataFrame:
    rows = [
        {
            "start_s": s,
            "top_start_s": s + 1,
            "top_end_s": s + 2,
            "end_s": s + dur,
            "peak_s": s + 1.5,
            "peak_angle_deg": 0.0,
            "min_angle_deg": -40.0,
            "start_angle_deg": -40.0,
            "end_angle_deg": -40.0,
            "peak_velocity_dps": 50.0,
            "peak_lowering_velocity_dps": 40.0,
        }
        for s in starts
    ]
    return pd.DataFrame(rows)


def test_group_sets_splits_on_rest_and_drops_short_sets() -> None:
    reps = _reps_frame([0, 5, 10, 15, 60, 65, 70, 200, 205])
    out = group_sets(reps, rest_threshold_s=15, min_set_reps=3)
    assert out.groupby("set_id").size().tolist() == [4, 3]


def test_group_sets_trims_a_transition_at_the_edge() -> None:
    reps = _reps_frame([0, 5, 10, 15, 20])
    reps.loc[0, "start_angle_deg"] = -90.0  # climbing on the bench: started standing
    reps.loc[0, "min_angle_deg"] = -90.0
    out = group_sets(reps, rest_threshold_s=15, min_set_reps=3)
    assert len(out) == 4
    assert out["start_s"].min() == 5
