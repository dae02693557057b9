"""The simulator: physics, truth, sensor errors, determinism, the CLI and the shipped demo."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.cli import main
from imu.errors import ConfigError
from imu.recording import find_gaps, read_recording
from imu.simulate import (
    RepMix,
    SensorSpec,
    SessionSpec,
    SimulatedSession,
    random_spec,
    simulate_session,
    write_simulated,
)
from imu.simulate.reps import Quintic

ROOT = Path(__file__).resolve().parents[2]
MOMENTUM = {"thrown", "bounced", "swing_through"}


def _pure(**changes: object) -> SessionSpec:
    """A short session on an ideal sensor with a purely rotating leg (no wobble, sway, offset)."""
    base = SessionSpec(
        setup="bench",
        rate_hz=100.0,
        reps_per_set=(4,),
        wobble_deg=0.0,
        sway_deg=0.0,
        sensor_offset_m=0.0,
        lead_in_s=3.0,
        lead_out_s=0.0,
        activities=("stand",),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _set_mask(session: SimulatedSession, index: int = 0) -> np.ndarray:
    s = session.truth["sets"][index]
    t = session.recording.time_s
    return (t >= s["start_s"] - 1.0) & (t <= s["end_s"] + 1.0)


# --------------------------------------------------------------------------------------------
# physics


def test_still_leg_reads_one_g_along_gravity() -> None:
    session = simulate_session(_pure(strap_rotation_deg=123.0, leg="right"), seed=4)
    rec = session.recording
    first = session.truth["sets"][0]["reps"][0]["start_s"]
    still = (rec.time_s > first - 1.0) & (rec.time_s < first - 0.05)  # at rest at the bottom
    assert still.sum() > 50
    norm = np.linalg.norm(rec.acc_g[still], axis=1)
    np.testing.assert_allclose(norm, 1.0, atol=1e-6)
    # along +x (toward the foot) a still leg reads sin θ
    np.testing.assert_allclose(
        rec.acc_g[still, 0], np.sin(np.radians(session.theta_deg[still])), atol=1e-6
    )
    assert np.abs(rec.gyro_dps[still]).max() < 1e-6
    # standing at the start (swaying a little): the shank is about vertical, +x reads about −1 g
    standing = rec.time_s < 1.0
    np.testing.assert_allclose(rec.acc_g[standing, 0], -1.0, atol=2e-3)


def test_gyro_about_the_hip_axis_integrates_to_the_true_angle() -> None:
    spec = _pure(
        strap_rotation_deg=250.0,
        leg="left",
        rep_mix=RepMix(thrown=0.4, drop=0.2),
        reps_per_set=(8,),
    )
    session = simulate_session(spec, seed=11)
    mount = np.array(session.truth["sensor"]["mount_matrix"])
    # θ grows by rotating about −y of the shank frame (−e2 in the room)
    hip_axis = mount.T @ np.array([0.0, -1.0, 0.0])
    m = _set_mask(session)
    t = session.recording.time_s[m]
    rate = session.recording.gyro_dps[m] @ hip_axis
    integral = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])
    theta = session.theta_deg[m]
    assert theta.max() - theta.min() > 30.0
    np.testing.assert_allclose(theta[0] + integral, theta, atol=0.5)


def test_dynamic_specific_force_matches_the_pendulum_formula() -> None:
    """Along the leg g·sin θ − r·ω²; across it g·cos θ + r·dω/dt (in the swing plane)."""
    spec = _pure(rep_mix=RepMix(thrown=0.5), reps_per_set=(6,), strap_rotation_deg=0.0)
    session = simulate_session(spec, seed=2)
    m = _set_mask(session)
    t = session.true_time_s[m]
    theta = np.radians(session.theta_deg[m])
    omega = np.gradient(theta, t)
    along = np.sin(theta) - spec.radius_m * omega**2 / 9.80665
    acc = session.recording.acc_g[m]
    inner = slice(5, -5)
    assert np.abs(omega).max() > np.radians(150)
    np.testing.assert_allclose(acc[inner, 0], along[inner], atol=0.06)


@settings(max_examples=8, deadline=None)
@given(
    strap=st.floats(min_value=0.0, max_value=360.0),
    leg=st.sampled_from(["left", "right"]),
    misalignment=st.floats(min_value=0.0, max_value=5.0),
)
def test_magnitudes_do_not_depend_on_the_strap(strap: float, leg: str, misalignment: float) -> None:
    spec = _pure(wobble_deg=1.0, sway_deg=0.3, leg=leg, reps_per_set=(2,))
    a = simulate_session(spec, seed=5)
    b = simulate_session(
        dataclasses.replace(spec, strap_rotation_deg=strap, misalignment_deg=misalignment), seed=5
    )
    ra, rb = a.recording, b.recording
    np.testing.assert_allclose(
        np.linalg.norm(ra.acc_g, axis=1), np.linalg.norm(rb.acc_g, axis=1), atol=1e-9
    )
    np.testing.assert_allclose(
        np.linalg.norm(ra.gyro_dps, axis=1), np.linalg.norm(rb.gyro_dps, axis=1), atol=1e-7
    )
    np.testing.assert_array_equal(a.theta_deg, b.theta_deg)
    if strap > 1.0 and abs(strap - 360.0) > 1.0:
        assert not np.allclose(ra.acc_g, rb.acc_g, atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(
    start=st.tuples(*[st.floats(-2, 2)] * 3),
    end=st.tuples(*[st.floats(-2, 2)] * 3),
    duration=st.floats(0.1, 3.0),
)
def test_quintic_pieces_meet_their_end_states(
    start: tuple[float, float, float], end: tuple[float, float, float], duration: float
) -> None:
    q = Quintic.between(1.0, 1.0 + duration, start, end)
    t = np.array([1.0, 1.0 + duration])
    np.testing.assert_allclose(q.value(t), [start[0], end[0]], atol=1e-9)
    np.testing.assert_allclose(q.velocity(t), [start[1], end[1]], atol=1e-8)


# --------------------------------------------------------------------------------------------
# truth


@pytest.mark.parametrize("setup", ["bench", "machine", "floor"])
def test_truth_intervals_are_sorted_disjoint_and_add_up(setup: str) -> None:
    for seed in (1, 2):
        spec = random_spec(np.random.default_rng(seed), setup=setup)  # type: ignore[arg-type]
        spec = dataclasses.replace(spec, rest_range_s=(45.0, 60.0), reps_per_set=(8, 8))
        truth = simulate_session(spec, seed=seed).truth
        assert truth["schema"] == "imu-truth/1"
        assert truth["exercise"] == ("prone-leg-lift" if setup == "floor" else "reverse-hyper")
        previous_end = -np.inf
        for s in truth["sets"]:
            reps = s["reps"]
            assert s["start_s"] == reps[0]["start_s"] and s["end_s"] == reps[-1]["end_s"]
            assert s["start_s"] >= previous_end
            for a, b in itertools.pairwise(reps):
                assert a["end_s"] <= b["start_s"]  # half-open [start, end): disjoint
                assert a["bottom_pause_s"] == pytest.approx(b["start_s"] - a["end_s"], abs=2e-4)
            for r in reps:
                assert r["start_s"] < r["top_start_s"] <= r["top_end_s"] < r["end_s"]
                phases = r["concentric_s"] + r["top_hold_s"] + r["eccentric_s"]
                assert phases == pytest.approx(r["end_s"] - r["start_s"], abs=3e-4)
                assert r["min_angle_deg"] < r["peak_angle_deg"]
                assert ("momentum" in r["flags"]) == (r["kind"] in MOMENTUM)
                above = r["peak_angle_deg"] > truth["tolerance_deg"]
                assert ("above_hip_line" in r["flags"]) == above
                if r["kind"] == "partial" and setup != "floor":
                    assert r["peak_angle_deg"] < -10.0
                if r["kind"] == "swing_through":
                    assert r["min_angle_deg"] < -95.0
            assert reps[-1]["bottom_pause_s"] is None
            previous_end = s["end_s"]
        for a, b in itertools.pairwise(truth["activities"]):
            assert a["end_s"] == pytest.approx(b["start_s"])


def test_momentum_reps_are_faster_than_controlled_ones() -> None:
    mix = RepMix(thrown=0.3, bounced=0.15, swing_through=0.15, drop=0.1)
    for setup in ("bench", "machine"):
        spec = _pure(setup=setup, rep_mix=mix, reps_per_set=(12, 12), wobble_deg=1.0)
        truth = simulate_session(spec, seed=8).truth
        reps = [r for s in truth["sets"] for r in s["reps"]]
        fast = [r["peak_velocity_dps"] for r in reps if r["kind"] in MOMENTUM]
        slow = [r["peak_velocity_dps"] for r in reps if r["kind"] == "controlled"]
        assert fast and slow
        assert min(fast) > max(slow)
        thrown = [r["concentric_s"] for r in reps if r["kind"] == "thrown"]
        assert thrown and max(thrown) < min(
            r["concentric_s"] for r in reps if r["kind"] == "controlled"
        )
        drops = [r["lowering_peak_velocity_dps"] for r in reps if "drop" in r["flags"]]
        others = [r["lowering_peak_velocity_dps"] for r in reps if r["kind"] == "controlled"]
        assert drops and min(drops) > max(others)


def test_floor_setup_lifts_a_few_degrees() -> None:
    spec = _pure(setup="floor", reps_per_set=(8,))
    truth = simulate_session(spec, seed=3).truth
    for r in truth["sets"][0]["reps"]:
        assert -12.0 < r["min_angle_deg"] < 2.0
        assert 3.0 < r["rom_deg"] < 25.0


# --------------------------------------------------------------------------------------------
# sensor errors, determinism


def test_sensor_errors_bias_quantisation_and_dropped_packets() -> None:
    sensor = SensorSpec(
        gyro_bias_dps=(2.0, -3.0, 1.5),
        acc_range_g=8.0,
        gyro_range_dps=1000.0,
        adc_bits=16,
        drop_runs_per_min=20.0,
        drop_mean_packets=3.0,
        packet_samples=2,
        jitter_s=0.001,
    )
    session = simulate_session(_pure(sensor=sensor, lead_in_s=8.0), seed=6)
    rec = session.recording
    first = session.truth["sets"][0]["reps"][0]["start_s"]
    still = (rec.time_s > first - 1.0) & (rec.time_s < first - 0.05)
    np.testing.assert_allclose(rec.gyro_dps[still].mean(axis=0), [2.0, -3.0, 1.5], atol=0.05)
    lsb = 1000.0 / 32768
    counts = rec.gyro_dps / lsb
    np.testing.assert_allclose(counts, np.rint(counts), atol=1e-6)
    gaps = session.truth["gaps"]
    assert gaps and all(g["missing_samples"] % 2 == 0 for g in gaps)
    found = find_gaps(rec.time_s, sampling_rate_hz=100.0)
    assert len(found) == len(gaps)
    for seen, true in zip(found, gaps, strict=True):
        assert seen.start_s == pytest.approx(true["start_s"], abs=1e-4)
        assert abs(seen.missing_samples - true["missing_samples"]) <= 1  # jitter blurs the count
    assert np.all(np.diff(rec.time_s) > 0)
    assert len(rec) == len(session.theta_deg) == len(session.true_time_s)


def test_same_seed_same_session_other_seed_other_session() -> None:
    spec = random_spec(np.random.default_rng(3), setup="bench")
    spec = dataclasses.replace(spec, reps_per_set=(5, 5), rest_range_s=(45.0, 50.0))
    a = simulate_session(spec, seed=3)
    b = simulate_session(spec, seed=3)
    c = simulate_session(spec, seed=4)
    np.testing.assert_array_equal(a.recording.acc_g, b.recording.acc_g)
    np.testing.assert_array_equal(a.recording.time_s, b.recording.time_s)
    assert a.truth == b.truth
    assert a.truth["sets"] != c.truth["sets"]


def test_random_specs_are_varied_and_valid() -> None:
    specs = [random_spec(np.random.default_rng(s)) for s in range(40)]
    assert {s.setup for s in specs} == {"bench", "machine", "floor"}
    assert {s.leg for s in specs} == {"left", "right"}
    assert len({s.rate_hz for s in specs}) >= 4
    assert all(2 <= s.sets <= 4 and all(6 <= n <= 15 for n in s.reps_per_set) for s in specs)
    assert all(max(abs(b) for b in s.sensor.gyro_bias_dps) <= 4.0 for s in specs)


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_hz": 5.0},
        {"reps_per_set": ()},
        {"radius_m": 3.0},
        {"setup": "ball"},
        {"rest_range_s": (60.0, 30.0)},
        {"misalignment_deg": 20.0},
    ],
)
def test_bad_specs_raise_config_errors(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        _pure(**changes)
    with pytest.raises(ConfigError):
        SensorSpec(adc_bits=16)  # quantisation needs a full scale


def test_a_long_session_is_quick_enough() -> None:
    spec = dataclasses.replace(_pure(rate_hz=100.0), min_duration_s=600.0)
    session = simulate_session(spec, seed=1)
    assert session.recording.duration_s >= 595.0


# --------------------------------------------------------------------------------------------
# files and the CLI


def test_write_simulated_round_trips(tmp_path: Path) -> None:
    session = simulate_session(_pure(rate_hz=52.0), seed=9)
    csv_path, truth_path = write_simulated(session, tmp_path / "s.csv")
    assert truth_path.name == "s.truth.json"
    rec = read_recording(csv_path)
    assert rec.metadata["sensor"] == "imu-simulator"
    assert rec.metadata["sample_rate_hz"] == "52"
    assert rec.metadata["seed"] == "9"
    np.testing.assert_allclose(rec.acc_g, session.recording.acc_g, atol=1e-5)
    assert json.loads(truth_path.read_text())["sets"] == session.truth["sets"]


def test_cli_writes_csv_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "floor.csv"
    argv = ["simulate", "--out", str(out), "--seed", "3", "--setup", "floor", "--sets", "2"]
    code = main([*argv, "--reps", "5", "--rate-hz", "50", "--clean"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0]
    rec = read_recording(out)
    assert rec.metadata["exercise"] == "prone-leg-lift"
    truth = json.loads((tmp_path / "floor.truth.json").read_text())
    assert [s["rep_count"] for s in truth["sets"]] == [5, 5]
    assert all(r["kind"] == "controlled" for s in truth["sets"] for r in s["reps"])
    assert truth["sample_rate_hz"] == 50.0


@pytest.mark.parametrize(
    "extra", [["--rate-hz", "3"], ["--sets", "0"], ["--minutes", "-1"], ["--decimals", "1"]]
)
def test_cli_rejects_bad_options_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code = main(["simulate", "--out", str(tmp_path / "x.csv"), *extra])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("imu simulate: error:")
    assert not (tmp_path / "x.csv").exists()


def test_the_shipped_demo_session_matches_its_truth() -> None:
    csv_path = ROOT / "recordings" / "demo_session.csv"
    truth = json.loads((ROOT / "recordings" / "demo_session.truth.json").read_text())
    assert csv_path.stat().st_size < 3_000_000
    rec = read_recording(csv_path)
    assert rec.sample_rate_hz == 100.0
    assert truth["setup"] == "bench" and truth["exercise"] == "reverse-hyper"
    assert [10 <= s["rep_count"] <= 12 for s in truth["sets"]] == [True] * 3
    kinds = [r["kind"] for s in truth["sets"] for r in s["reps"]]
    assert kinds.count("thrown") >= 2
    assert sum("above_hip_line" in r["flags"] for s in truth["sets"] for r in s["reps"]) >= 2
    assert {"walk", "sit"} <= {a["kind"] for a in truth["activities"]}
    assert rec.time_s[-1] >= truth["sets"][-1]["end_s"]


def test_behaviours_off_reproduce_the_shipped_demo_exactly(tmp_path: Path) -> None:
    """The behaviours draw from their own streams: with them off, the command in
    recordings/README.md still writes the shipped demo byte for byte."""
    out = tmp_path / "demo.csv"
    argv = ["simulate", "--out", str(out), "--seed", "178", "--setup", "bench", "--sets", "3"]
    assert main([*argv, "--rate-hz", "100", "--decimals", "4", "--no-behaviours"]) == 0
    assert out.read_bytes() == (ROOT / "recordings" / "demo_session.csv").read_bytes()
    truth = json.loads((tmp_path / "demo.truth.json").read_text())
    shipped = json.loads((ROOT / "recordings" / "demo_session.truth.json").read_text())
    assert truth["non_reps"] == []
    for s, old in zip(truth["sets"], shipped["sets"], strict=True):  # only fields added
        assert s["pauses"] == []
        for r, r_old in zip(s["reps"], old["reps"], strict=True):
            assert {k: r[k] for k in r_old} == r_old
