"""The whole offline pipeline on simulated sessions with ground truth, and its invariances."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imu
from imu.simulate import SessionSpec, random_spec, simulate_session
from imu.simulate.spec import RepMix, SensorSpec

REPO = Path(__file__).resolve().parents[2]


def _spec(**changes: object) -> SessionSpec:
    """A short clean bench session: one set of six controlled reps, standing around it."""
    base = SessionSpec(
        setup="bench",
        rate_hz=100.0,
        reps_per_set=(6,),
        leg="right",
        strap_rotation_deg=0.0,
        rep_mix=RepMix(),
        activities=("stand",),
        lead_in_s=6.0,
        lead_out_s=6.0,
        sensor=SensorSpec(acc_noise_g=0.004, gyro_noise_dps=0.1),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _counts(spec: SessionSpec, seed: int = 3) -> tuple[list[int], list[int]]:
    session = simulate_session(spec, seed=seed)
    result = imu.analyze(session.recording, exercise=session.truth["exercise"])
    return [s.rep_count for s in result.sets], [len(s["reps"]) for s in session.truth["sets"]]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strap=st.floats(0.0, 360.0), leg=st.sampled_from(["left", "right"]))
def test_count_unchanged_by_strap_rotation_and_leg(strap: float, leg: str) -> None:
    found, truth = _counts(_spec(strap_rotation_deg=strap, leg=leg))
    assert found == truth


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bias=st.tuples(*[st.floats(-6.0, 6.0)] * 3))
def test_count_unchanged_by_gyro_bias(bias: tuple[float, float, float]) -> None:
    sensor = SensorSpec(acc_noise_g=0.004, gyro_noise_dps=0.1, gyro_bias_dps=bias)
    found, truth = _counts(_spec(sensor=sensor))
    assert found == truth


@pytest.mark.parametrize("rate_hz", [25.0, 52.0, 400.0])
def test_count_unchanged_by_sample_rate(rate_hz: float) -> None:
    found, truth = _counts(_spec(rate_hz=rate_hz))
    assert found == truth


def test_random_sessions_are_counted_and_timed() -> None:
    """Two varied sessions (faults, walking, sitting, sensor errors): exact counts, phase
    timings and peak angles close to the truth."""
    for seed in (7, 8):
        # behaviours off (swings getting on/off, rebounds …): this checks counts and timings on
        # plain sessions; how the rep model fares with them is the accuracy benchmark's figure
        # (seed 7 with them has a mount swing 1.46× the set's pause apart, under the 1.5× rule)
        spec = random_spec(np.random.default_rng(seed), behaviours=False)
        session = simulate_session(spec, seed=seed)
        settings_ = imu.settings.load_settings(
            exercise=session.truth["exercise"],
            overrides={"hip_line_offset_deg": session.truth["hip_line_offset_deg"]},
        )
        result = imu.analyze(session.recording, settings=settings_)
        assert [s.rep_count for s in result.sets] == [len(s["reps"]) for s in session.truth["sets"]]
        found = [r for s in result.sets for r in s.reps]
        truth = [r for s in session.truth["sets"] for r in s["reps"]]
        conc = np.array([r.concentric_s for r in found])
        conc_true = np.array([t["top_start_s"] - t["start_s"] for t in truth])
        assert np.median(np.abs(conc - conc_true)) < 0.15
        peak = np.array([r.peak_angle_deg for r in found])
        peak_true = np.array([t["peak_angle_deg"] for t in truth])
        assert np.median(np.abs(peak - peak_true)) < 3.0


def test_intervals_sorted_disjoint_and_phases_sum_to_the_rep() -> None:
    session = simulate_session(random_spec(np.random.default_rng(5)), seed=5)
    result = imu.analyze(session.recording, exercise=session.truth["exercise"])
    assert result.sets
    previous_end = -np.inf
    for s in result.sets:
        for r in s.reps:
            assert previous_end <= r.start_s <= r.top_start_s <= r.top_end_s <= r.end_s
            total = r.concentric_s + r.top_hold_s + r.eccentric_s
            assert total == pytest.approx(r.end_s - r.start_s, abs=1e-9)
            previous_end = r.end_s


def test_shipped_demo_session_matches_its_truth() -> None:
    csv = REPO / "recordings" / "demo_session.csv"
    truth = json.loads(csv.with_name("demo_session.truth.json").read_text())
    result = imu.analyze(csv)
    assert [s.rep_count for s in result.sets] == [len(s["reps"]) for s in truth["sets"]]
    faults = {
        (si, ri): set(r["flags"])
        for si, s in enumerate(truth["sets"])
        for ri, r in enumerate(s["reps"])
        if {"momentum", "above_hip_line"} & set(r["flags"])
    }
    for (si, ri), flags in faults.items():
        got = set(result.sets[si].reps[ri].flag_names)
        assert flags & {"momentum", "above_hip_line"} <= got
