"""Unit tests of stage 2 (movements, boundaries, the rep model of a set) on hand-made arrays."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.segmentation import (
    MOVEMENT_COLUMNS,
    find_movements,
    judge_sets,
    movement_peaks,
    onset_time,
    set_period_s,
    trailing_rejection,
    zigzag,
)
from imu.segmentation.rules import is_shoulder, sides_rejection


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


def test_zigzag_ignores_small_wiggles_and_returns_the_valleys_between() -> None:
    x = np.array([0, 1, 0.5, 1.2, 0, 5, 4.8, 5.1, 0, 0.3, 0, 6, 0], dtype=float)
    peaks, valleys = zigzag(x, delta=2.0)
    assert peaks.tolist() == [7, 11]
    assert len(valleys) == len(peaks) + 1
    assert x[valleys[1]] == 0.0 and 7 < valleys[1] < 11


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=3, max_size=60), st.floats(0.5, 20))
def test_zigzag_peaks_are_separated_by_delta(values: list[float], delta: float) -> None:
    x = np.asarray(values)
    peaks, _ = zigzag(x, delta=delta)
    assert np.all(np.diff(peaks) > 0)
    for a, b in itertools.pairwise(peaks):
        # between two kept peaks the signal falls by at least delta below each
        assert x[a : b + 1].min() <= min(x[a], x[b]) - delta + 1e-9


def test_shoulder_rule() -> None:
    # a wobble in a 60° hold: the leg dips 3° toward the higher peak, both sides fall 60°
    assert is_shoulder(62.0, 59.0, 0.0, 64.0, 0.0)
    # a partial rep beside a full one: it dips all the way to the bottom first
    assert not is_shoulder(-20.0, -35.0, -90.0, -5.0, -35.0)
    assert sides_rejection(10.0, 2.0, 8.0) is not None
    assert sides_rejection(10.0, 9.0, 8.0) is None


def _hold_with_wobbles(fs: float) -> np.ndarray:
    """θ: rise 0 → 60° in 1 s, a 4 s hold that wobbles ±3°, lower in 1 s, rest."""
    t = np.arange(0, 4.0, 1 / fs)
    hold = 60.0 + 3.0 * np.sin(2 * np.pi * 0.75 * t)
    up = np.linspace(0, 60, int(fs))
    down = np.linspace(hold[-1], 0, int(fs))
    rest = np.zeros(int(2 * fs))
    return np.concatenate([rest, up, hold, down, rest])


def test_a_wobbling_hold_is_one_movement() -> None:
    fs = 50.0
    x = np.concatenate([_hold_with_wobbles(fs)] * 3)
    peaks, _ = zigzag(x, delta=2.0)
    assert len(peaks) > 3  # the wobbles are peaks of the zig-zag …
    kept, left, right = movement_peaks(x, delta=2.0, reach=int(12 * fs))
    assert len(kept) == 3  # … but shoulders of each hold's highest point
    assert np.all(x[left] < 1.0) and np.all(x[right] < 1.0)


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


def _find(theta: np.ndarray, fs: float) -> pd.DataFrame:
    t = np.arange(theta.size) / fs
    return find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0,
    ).movements  # fmt: skip


def test_find_movements_on_a_clean_wave() -> None:
    fs = 100.0
    reps = _find(_rep_wave(fs, 5), fs)
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


@pytest.mark.parametrize(("mismatch_deg", "counted"), [(0.0, 5), (30.0, 5), (-30.0, 5), (50.0, 0)])
def test_a_top_the_accelerometer_disagrees_with_is_not_a_movement(
    mismatch_deg: float, counted: int
) -> None:
    # the accelerometer and the orientation filter disagreeing about the tilt at the tops only
    # (within 40°: the leg accelerating, a misaligned strap; beyond: an orientation artefact)
    fs = 100.0
    theta = _rep_wave(fs, 5)
    t = np.arange(theta.size) / fs
    at_top = theta > -1.0
    mismatch = np.where(at_top, mismatch_deg, 0.0)
    reps = find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0, tilt_mismatch_deg=mismatch,
    ).movements  # fmt: skip
    assert len(reps) == counted


def test_a_top_lost_in_a_gap_has_nothing_to_disagree_with() -> None:
    # each top's still samples lost (the 1 s holds), only moving ones left either side, where
    # the accelerometer disagrees: the tops are not judged
    fs = 100.0
    theta = _rep_wave(fs, 5)
    t = np.arange(theta.size) / fs
    kept = theta < -1.0
    t, theta = t[kept], theta[kept]
    mismatch = np.full(theta.shape, 90.0)
    reps = find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0, tilt_mismatch_deg=mismatch,
    ).movements  # fmt: skip
    assert len(reps) == 5


def test_low_peaks_are_not_movements() -> None:
    # walking-like oscillation of the shank far below the hip line
    fs = 100.0
    t = np.arange(0, 30, 1 / fs)
    theta = -90 + 35 * np.sin(2 * np.pi * 1.0 * t)
    reps = find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=12, top_min_deg=-35,
        smoothing_cutoff_hz=4.0,
    ).movements  # fmt: skip
    assert reps.empty


# --- the rep model of a set, on hand-made movement tables -------------------------------------


def _move(start: float, *, peak: float = 0.0, low: float = -40.0, dur: float = 4.0,
          hold: float = 1.0, start_angle: float | None = None,
          end_angle: float | None = None) -> dict[str, float]:  # fmt: skip
    up = (dur - hold) / 2
    return {
        "start_s": start,
        "top_start_s": start + up,
        "top_end_s": start + up + hold,
        "end_s": start + dur,
        "peak_s": start + up,
        "peak_angle_deg": peak,
        "min_angle_deg": min(low, start_angle or low, end_angle or low),
        "start_angle_deg": low if start_angle is None else start_angle,
        "end_angle_deg": low if end_angle is None else end_angle,
        "peak_velocity_dps": 50.0,
        "peak_lowering_velocity_dps": 40.0,
    }


def _table(rows: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=MOVEMENT_COLUMNS)


def _set(n: int, t0: float = 10.0, period: float = 5.0) -> list[dict[str, float]]:
    return [_move(t0 + k * period) for k in range(n)]


def _judge(rows: list[dict[str, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    j = judge_sets(_table(rows), rest_threshold_s=15, min_set_reps=3)
    return j.reps, j.ignored


def test_sets_split_on_rest_and_short_runs_are_not_sets() -> None:
    rows = _set(4, 0) + _set(3, 60) + _set(2, 200)
    reps, ignored = _judge(rows)
    assert reps.groupby("set_id").size().tolist() == [4, 3]
    assert ignored.empty


def test_movements_that_are_not_reps_do_not_carry_a_set_over_a_rest() -> None:
    """Settling on the bench every 12 s through a 90 s rest (each small: not reps) leaves two
    sets, not one of twelve: the rest threshold is a pause between reps."""
    fidgets = [_move(t, peak=-36.0, dur=3.0) for t in np.arange(42.0, 130.0, 12.0)]
    rows = _set(6, 10) + fidgets + _set(6, 140)
    reps, ignored = _judge(rows)
    assert reps.groupby("set_id").size().tolist() == [6, 6]
    assert set(ignored["kind"]) <= {"small", "fidget", "swing"}


def test_a_rebound_right_after_a_rep_is_not_counted() -> None:
    rows = _set(6)
    rows.insert(3, _move(rows[2]["end_s"] + 0.05, peak=-32.0, dur=0.8, hold=0.0))
    reps, ignored = _judge(rows)
    assert len(reps) == 6
    assert ignored["kind"].tolist() == ["rebound"]
    assert "after rep 3" in ignored["reason"].iloc[0]


def test_a_late_rebound_is_judged_by_the_set_s_own_pauses() -> None:
    """0.6 s after a rep is right after it in a set that pauses 3 s between reps (a rebound),
    but in the rhythm of a set that pauses 1 s (a short lift, counted)."""
    for period, pause_after, counted in ((7.0, 0.8, 6), (5.0, 0.3, 7)):
        rows = _set(6, period=period)
        rows.insert(3, _move(rows[2]["end_s"] + 0.6, peak=-22.0, dur=pause_after, hold=0.0))
        reps, ignored = _judge(rows)
        assert len(reps) == counted
        assert ignored["kind"].tolist() == (["rebound"] if counted == 6 else [])


def test_a_small_movement_is_not_an_attempt_but_a_short_lift_is() -> None:
    rows = _set(8)
    rows[4] = _move(rows[4]["start_s"], peak=-33.0)  # 7° of the set's 40°: not an attempt
    rows[6] = _move(rows[6]["start_s"], peak=-20.0)  # half way: a partial rep, counted
    reps, ignored = _judge(rows)
    assert len(reps) == 7
    assert ignored["kind"].tolist() == ["small"]


def test_a_swing_while_getting_off_is_not_counted() -> None:
    rows = _set(8)
    last_end = rows[-1]["end_s"]
    rows.append(_move(last_end + 3.0, peak=-20.0, hold=0.0, dur=2.0))  # apart, short of the top
    reps, ignored = _judge(rows)
    assert len(reps) == 8
    assert ignored["kind"].tolist() == ["swing"]
    assert "getting off" in ignored["reason"].iloc[0]


def test_a_partial_last_rep_in_rhythm_still_counts() -> None:
    rows = _set(8)
    rows.append(_move(rows[-1]["end_s"] + 1.0, peak=-20.0))  # in the set's rhythm
    reps, ignored = _judge(rows)
    assert len(reps) == 9 and ignored.empty


def test_getting_on_from_another_posture_is_a_transition() -> None:
    rows = _set(6)
    rows[0] = _move(rows[0]["start_s"], start_angle=-90.0)
    reps, ignored = _judge(rows)
    assert len(reps) == 5
    assert ignored["kind"].tolist() == ["getting_on"]


def test_a_low_attempt_counts_between_two_reps_only() -> None:
    """A movement that peaks too low to make a set (walking, fidgeting) counts between two reps
    of one, as a short attempt, when the set judges it so; at the set's edge it stays out."""
    rows = _set(8, period=7.0)  # 3 s pauses
    low = [
        _move(rows[3]["end_s"] + 0.7, peak=-15.0, dur=1.6, hold=0.2),  # between 4 and 5: counted
        _move(rows[5]["end_s"] + 0.7, peak=-37.0, dur=1.6, hold=0.0),  # 3° of 40°: not an attempt
        _move(rows[6]["end_s"] + 0.1, peak=-30.0, dur=0.8, hold=0.0),  # a rebound off rep 7
        _move(rows[0]["start_s"] - 4.0, peak=-15.0),  # before the set: getting on
        _move(rows[-1]["end_s"] + 0.5, peak=-15.0),  # after it: getting off
    ]
    j = judge_sets(_table(rows), rest_threshold_s=15, min_set_reps=3, between=_table(low))
    assert len(j.reps) == 9
    assert j.reps["start_s"].is_monotonic_increasing and j.reps.index.is_unique
    assert (j.reps["peak_angle_deg"] == -15.0).sum() == 1
    assert j.reps["start_s"].tolist()[4] == pytest.approx(low[0]["start_s"])
    # never a set of their own
    alone = judge_sets(_table([]), rest_threshold_s=15, min_set_reps=3, between=_table(low))
    assert alone.reps.empty


def test_a_partial_below_the_top_limit_is_found_between_reps() -> None:
    """End to end on θ: reps from −90° to 0° with a partial to −50° between two of them
    (``top_min_deg`` −45°: alone it would not be a movement)."""
    fs = 100.0
    full = _rep_wave(fs, 3, bottom=-90.0, top=0.0)
    part = _rep_wave(fs, 1, bottom=-90.0, top=-50.0)[int(2 * fs) : -int(2 * fs)]
    theta = np.concatenate([full[: -int(2 * fs)], part, full[int(2 * fs) :]])
    t = np.arange(theta.size) / fs
    found = find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=4, top_min_deg=-45,
        smoothing_cutoff_hz=4.0, low_within_s=15.0,
    )  # fmt: skip
    assert len(found.movements) == 6 and len(found.low) == 1
    assert found.low["peak_angle_deg"].iloc[0] == pytest.approx(-50.0, abs=1.0)
    j = judge_sets(found.movements, rest_threshold_s=15, min_set_reps=3, between=found.low)
    assert len(j.reps) == 7
    none = find_movements(
        t, theta, np.gradient(theta, t), sampling_rate_hz=fs, min_rom_deg=4, top_min_deg=-45,
        smoothing_cutoff_hz=4.0,
    )  # fmt: skip
    assert none.low.empty  # low_within_s 0: not looked for


def test_the_live_question_matches_the_set_rule() -> None:
    rows = _set(6)
    prev = _table(rows)
    last_end = rows[-1]["end_s"]
    assert trailing_rejection(prev, -20.0, last_end + 3.0, 20.0) is not None  # a swing
    assert trailing_rejection(prev, -20.0, last_end + 1.0, 20.0) is None  # a partial in rhythm
    assert trailing_rejection(prev, -36.0, last_end + 1.0, 4.0) is not None  # not an attempt


def test_set_period_from_the_rate() -> None:
    fs = 50.0
    theta = _rep_wave(fs, 8)
    rate = np.gradient(theta, 1 / fs)
    period = set_period_s(rate, sampling_rate_hz=fs)
    assert period == pytest.approx(5.5, abs=0.1)
    assert set_period_s(np.zeros(500), sampling_rate_hz=fs) is None
