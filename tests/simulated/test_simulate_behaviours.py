"""The simulator's behaviours that are not reps (swings getting on and off, rebounds, foot
contacts, twists, bent knees, mid-set pauses) and the leg-raise set-ups: each shows in the signal
as specified, the truth stays exact and consistent, the random streams stay independent."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imu.cli import main
from imu.errors import ConfigError
from imu.recording import read_recording
from imu.simulate import (
    LEG_RAISE_SETUPS,
    PRONE_SETUPS,
    SETUPS,
    Behaviours,
    RepMix,
    SessionSpec,
    SimulatedSession,
    random_spec,
    simulate_session,
)
from imu.simulate.motion import SHANK_M

_SPECS: dict[tuple[Any, ...], SimulatedSession] = {}


def _session(setup: str = "bench", *, seed: int = 3, reps: int = 8, **behaviours: Any) -> Any:
    """Two sets on an ideal sensor, a purely rotating leg, getting off and on between them."""
    key = (setup, seed, reps, tuple(sorted(behaviours.items())))
    if key not in _SPECS:
        spec = SessionSpec(
            setup=setup,  # type: ignore[arg-type]
            rate_hz=100.0,
            reps_per_set=(reps, reps),
            radius_m=0.4 if setup == "seated" else 0.9,
            wobble_deg=0.0,
            sway_deg=0.0,
            sensor_offset_m=0.0,
            lead_in_s=3.0,
            lead_out_s=0.0,
            rest_range_s=(20.0, 25.0),
            activities=("stand",),
            behaviours=Behaviours(**behaviours),
        )
        _SPECS[key] = simulate_session(spec, seed=seed)
    return _SPECS[key]


def _reps(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for s in truth["sets"] for r in s["reps"]]


def _window(session: SimulatedSession, t0: float, t1: float) -> np.ndarray:
    t = session.true_time_s
    return (t >= t0) & (t <= t1)


def _integrate(rate: np.ndarray, t: np.ndarray) -> np.ndarray:
    steps = 0.5 * (rate[1:] + rate[:-1]) * np.diff(t)
    return np.concatenate([[0.0], np.cumsum(steps)])


# --------------------------------------------------------------------------------------------
# 1. swings while getting on and off


@pytest.mark.parametrize("setup", ["bench", "machine", "seated"])
def test_swings_at_set_edges_are_out_of_the_bottom_without_a_hold(setup: str) -> None:
    session = _session(setup, edge_swing=1.0, edge_swing_under=1.0)
    truth = session.truth
    swings = [n for n in truth["non_reps"] if n["kind"].endswith("_swing")]
    # every set edge next to getting on or off has one: two sets, each mounted and dismounted
    assert [(n["kind"], n["set_index"]) for n in swings] == [
        ("mount_swing", 1),
        ("dismount_swing", 1),
        ("mount_swing", 2),
        ("dismount_swing", 2),
    ]
    kinds = [a["kind"] for a in truth["activities"]]
    assert kinds.count("mount") == 2 and kinds.count("dismount") == 2  # still climbing on, too
    for n in swings:
        s = truth["sets"][n["set_index"] - 1]
        peaks = [r["peak_angle_deg"] for r in s["reps"]]
        top, bottom = float(np.median(peaks)), min(r["min_angle_deg"] for r in s["reps"])
        below = top - n["peak_angle_deg"]
        assert min(20.0, 0.75 * (top - bottom)) - 1.0 <= below <= 45.0 + 1.0
        gap = s["start_s"] - n["end_s"] if n["kind"] == "mount_swing" else n["start_s"] - s["end_s"]
        assert 1.5 <= gap <= 4.5
        # the swing is in the true θ trace: its peak, and no hold there
        m = _window(session, n["start_s"], n["end_s"])
        theta = session.theta_deg[m]
        assert theta.max() == pytest.approx(n["peak_angle_deg"], abs=0.3)
        assert (theta > n["peak_angle_deg"] - 1.0).sum() / 100.0 < 0.45
        i = int(np.argmax(theta))
        assert (theta[i + 1] - 2 * theta[i] + theta[i - 1]) * 100.0**2 < -30.0  # turns, no stop
        if setup != "bench":  # the machine's pad, the chair: it passes below the set's bottom
            assert n["min_angle_deg"] < bottom - 5.0
    assert not [n for n in _session(setup).truth["non_reps"] if n["kind"].endswith("_swing")]


def test_swings_are_drawn_for_about_their_share_of_set_edges() -> None:
    edges = swings = 0
    for seed in range(4):
        truth = _session("machine", seed=seed, reps=4, edge_swing=0.5).truth
        edges += 2 * len(truth["sets"])
        swings += sum(n["kind"].endswith("_swing") for n in truth["non_reps"])
    assert 0.2 * edges <= swings <= 0.8 * edges


# --------------------------------------------------------------------------------------------
# 2. rebounds, 3. foot contact, 4. twists


def test_rebounds_rise_a_few_degrees_right_after_the_bottom() -> None:
    session = _session(rebound=1.0)
    truth = session.truth
    rebounds = [n for n in truth["non_reps"] if n["kind"] == "rebound"]
    assert len(rebounds) == len(_reps(truth))  # controlled reps only: one after every rep
    for n in rebounds:
        rep = truth["sets"][n["set_index"] - 1]["reps"][n["after_rep"] - 1]
        assert n["start_s"] == rep["end_s"]
        assert 0.5 <= n["rise_deg"] <= min(8.0, 0.25 * rep["rom_deg"]) + 0.2
        assert n["end_s"] - n["start_s"] < 1.0
        m = _window(session, n["start_s"], n["end_s"])
        rise = session.theta_deg[m].max() - session.theta_deg[m][0]
        assert rise == pytest.approx(n["rise_deg"], abs=0.3)
    assert sum(n["rise_deg"] >= 2.0 for n in rebounds) >= len(rebounds) // 2


def test_a_foot_landing_on_the_floor_jolts_the_accelerometer() -> None:
    session = _session(foot_contact=0.5)
    rec, truth = session.recording, session.truth
    excess = np.abs(np.linalg.norm(rec.acc_g, axis=1) - 1.0)
    landed, lowered = [], []
    for r in _reps(truth):
        m = _window(session, r["end_s"] - 0.15, r["end_s"] + 0.05)
        (landed if r["foot_contact_speed_dps"] else lowered).append(excess[m].max())
    assert landed and lowered
    assert min(landed) > 0.4 and max(lowered) < 0.1
    speeds = [r["foot_contact_speed_dps"] for r in _reps(truth) if r["foot_contact_speed_dps"]]
    assert all(10.0 < v < 120.0 for v in speeds)
    # a leg hanging on the machine never lands on anything
    machine = _session("machine", foot_contact=1.0).truth
    assert all(r["foot_contact_speed_dps"] is None for r in _reps(machine))


def test_a_twist_shows_about_the_shank_axis_and_goes_back() -> None:
    session = _session(twist=0.6, foot_contact=0.6)
    truth, rec = session.truth, session.recording
    mount = np.array(truth["sensor"]["mount_matrix"])
    along = rec.gyro_dps @ (mount.T @ np.array([1.0, 0.0, 0.0]))
    twists = [n for n in truth["non_reps"] if n["kind"] == "twist"]
    assert twists
    inside = np.zeros(len(rec), dtype=bool)
    for n in twists:
        rep = truth["sets"][n["set_index"] - 1]["reps"][n["after_rep"] - 1]
        assert n["start_s"] == rep["end_s"] and 3.0 <= abs(n["twist_deg"]) <= 15.0
        m = _window(session, n["start_s"] - 0.05, n["end_s"] + 0.05)
        inside |= m
        angle = _integrate(along[m], rec.time_s[m])
        extreme = angle[np.argmax(np.abs(angle))]
        assert extreme == pytest.approx(n["twist_deg"], abs=0.5)
        assert abs(angle[-1]) < 0.3  # and back
    sets = np.zeros(len(rec), dtype=bool)
    for st in truth["sets"]:
        sets |= _window(session, st["start_s"], st["end_s"] + 1.0)
    assert np.abs(along[sets & ~inside]).max() < 0.5  # in the sets nothing else turns it so


# --------------------------------------------------------------------------------------------
# 5. a bent knee, 6. a mid-set pause


def test_a_bent_knee_turns_the_shank_ahead_of_the_hip_to_ankle_line() -> None:
    straight, bent = _session(), _session(knee_bend=1.0)
    # θ, the hip→ankle line, and the reps' truth are the same as with a straight leg
    np.testing.assert_array_equal(straight.theta_deg, bent.theta_deg)
    strip = ("knee_bend_deg", "knee_at_top_deg")
    assert [{k: v for k, v in r.items() if k not in strip} for r in _reps(straight.truth)] == [
        {k: v for k, v in r.items() if k not in strip} for r in _reps(bent.truth)
    ]
    # the sensor's own angle (its gyro about the hip's axis) leads θ by the bend's share
    truth, rec = bent.truth, bent.recording
    mount = np.array(truth["sensor"]["mount_matrix"])
    hip_axis = mount.T @ np.array([0.0, -1.0, 0.0])
    thigh = truth["radius_m"] - SHANK_M
    for r in _reps(truth):
        kappa = math.radians(r["knee_bend_deg"])
        assert 5.0 <= r["knee_bend_deg"] <= 25.0
        opened = math.atan2(SHANK_M * math.sin(kappa), thigh + SHANK_M * math.cos(kappa))
        m = _window(bent, r["start_s"] - 0.2, r["end_s"])
        theta = bent.theta_deg[m]
        shank = theta[0] + _integrate(rec.gyro_dps[m] @ hip_axis, rec.time_s[m])
        lead = shank - theta
        assert lead.max() == pytest.approx(math.degrees(kappa - opened), abs=0.3)
        assert abs(lead[-1]) < 0.2  # straight again at the bottom


def test_a_mid_set_pause_keeps_one_set() -> None:
    session = _session(reps=6, pause=1.0)
    truth = session.truth
    assert [s["rep_count"] for s in truth["sets"]] == [6, 6]
    for s in truth["sets"]:
        (pause,) = s["pauses"]
        assert 2 <= pause["after_rep"] <= 5
        rep = s["reps"][pause["after_rep"] - 1]
        assert 2.0 <= rep["bottom_pause_s"] <= 8.0
        assert rep["bottom_pause_s"] == pytest.approx(pause["end_s"] - rep["end_s"], abs=2e-4)
        m = _window(session, pause["start_s"] + 0.05, pause["end_s"] - 0.05)
        assert np.ptp(session.theta_deg[m]) < 1e-6  # resting still at the bottom


# --------------------------------------------------------------------------------------------
# truth and random streams


def _assert_plain(value: Any) -> None:
    """Only JSON's own types (no NumPy scalars) anywhere in the document."""
    if isinstance(value, dict):
        for v in value.values():
            _assert_plain(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _assert_plain(v)
    else:
        assert value is None or type(value) in (str, int, float, bool), (type(value), value)


def _assert_consistent(truth: dict[str, Any]) -> None:
    reps = _reps(truth)
    starts = [n["start_s"] for n in truth["non_reps"]]
    assert starts == sorted(starts)
    for n in truth["non_reps"]:
        assert 0.0 <= n["start_s"] < n["end_s"] <= truth["duration_s"]
        assert 1 <= n["set_index"] <= len(truth["sets"])
        assert n["min_angle_deg"] <= n["peak_angle_deg"]
        for r in reps:  # half-open intervals: a rebound may start where its rep ends
            assert n["end_s"] <= r["start_s"] or n["start_s"] >= r["end_s"], (n, r)
    for s in truth["sets"]:
        for p in s["pauses"]:
            assert s["start_s"] < p["start_s"] < p["end_s"] < s["end_s"]


@pytest.mark.parametrize("seed", [11, 12])
def test_random_sessions_have_a_few_behaviours_and_consistent_truth(seed: int) -> None:
    spec = random_spec(np.random.default_rng(seed), setups=SETUPS)
    spec = dataclasses.replace(spec, rest_range_s=(20.0, 30.0), min_duration_s=0.0)
    truth = simulate_session(spec, seed=seed).truth
    assert len(truth["non_reps"]) >= 3
    _assert_consistent(truth)
    _assert_plain(truth)


def test_every_behaviour_at_once_keeps_the_truth_consistent() -> None:
    for setup in ("bench", "machine"):
        behaviours = dataclasses.asdict(Behaviours.typical())
        behaviours.update(edge_swing=1.0, rebound=0.5, twist=0.5, knee_bend=0.5, pause=1.0)
        _assert_consistent(_session(setup, seed=5, **behaviours).truth)


def test_behaviours_draw_from_their_own_streams() -> None:
    base = _session(seed=7)
    # a behaviour's draws do not change the reps: kinds and peaks stay, only times move
    for changes in ({"rebound": 0.7}, {"pause": 1.0}, {"edge_swing": 1.0}, {"twist": 0.5}):
        other = _session(seed=7, **changes)
        for a, b in zip(_reps(base.truth), _reps(other.truth), strict=True):
            assert (a["kind"], a["peak_angle_deg"]) == (b["kind"], b["peak_angle_deg"])
            assert a["concentric_s"] == pytest.approx(b["concentric_s"], abs=2e-4)
    # turning one on does not move another: the rebounds after the same reps, the same heights
    reb = [n for n in _session(seed=7, rebound=0.5).truth["non_reps"] if n["kind"] == "rebound"]
    both = _session(seed=7, rebound=0.5, pause=1.0, twist=0.5).truth["non_reps"]
    assert [(n["set_index"], n["after_rep"], n["rise_deg"]) for n in reb] == [
        (n["set_index"], n["after_rep"], n["rise_deg"]) for n in both if n["kind"] == "rebound"
    ]
    # the same seed gives the same session; another seed, another one
    again = simulate_session(_session(seed=7, rebound=0.5).spec, seed=7)
    assert again.truth == _session(seed=7, rebound=0.5).truth
    np.testing.assert_array_equal(
        again.recording.acc_g, _session(seed=7, rebound=0.5).recording.acc_g
    )
    assert _session(seed=8, rebound=0.5).truth["non_reps"] != reb


def test_random_spec_draws_behaviours_after_everything_else() -> None:
    for seed in range(20):
        on = random_spec(np.random.default_rng(seed))
        off = random_spec(np.random.default_rng(seed), behaviours=False)
        assert dataclasses.replace(on, behaviours=Behaviours()) == off
        assert on.behaviours != Behaviours() and off.behaviours == Behaviours.none()


@pytest.mark.parametrize(
    "changes",
    [{"rebound": 1.5}, {"pause_s": (2.0, 20.0)}, {"twist_deg": (10.0, 5.0)}, {"edge_swing": -0.1}],
)
def test_bad_behaviours_raise_config_errors(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Behaviours(**changes)


# --------------------------------------------------------------------------------------------
# 7. leg-raise set-ups


def test_leg_raise_setups_are_drawn_only_when_asked() -> None:
    drawn = {random_spec(np.random.default_rng(s)).setup for s in range(60)}
    assert drawn == set(PRONE_SETUPS)
    mixed = {random_spec(np.random.default_rng(s), setups=SETUPS).setup for s in range(60)}
    assert mixed == set(SETUPS)
    only = {random_spec(np.random.default_rng(s), setups=LEG_RAISE_SETUPS).setup for s in range(20)}
    assert only == set(LEG_RAISE_SETUPS)
    seated = random_spec(np.random.default_rng(1), setup="seated")
    assert 0.35 <= seated.radius_m <= 0.45 and seated.exercise == "leg-raise"
    with pytest.raises(ConfigError):
        random_spec(np.random.default_rng(1), setups=("ball",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        SessionSpec(setup="seated", rate_hz=100.0, radius_m=0.9)  # a shank is not a leg


@pytest.mark.parametrize(
    ("setup", "bottom", "peaks"),
    [
        ("seated", (-100.0, -75.0), (-12.0, 2.5)),
        ("supine", (-4.0, 4.0), (28.0, 72.0)),
        ("side", (-5.0, 5.0), (23.0, 47.0)),
    ],
)
def test_leg_raise_setups_move_through_their_range(
    setup: str, bottom: tuple[float, float], peaks: tuple[float, float]
) -> None:
    truth = _session(setup, seed=2, reps=5).truth
    assert truth["exercise"] == "leg-raise" and truth["tolerance_deg"] is None
    for r in _reps(truth):
        assert r["kind"] == "controlled" and "above_hip_line" not in r["flags"]
        assert bottom[0] < r["min_angle_deg"] < bottom[1]
        assert peaks[0] < r["peak_angle_deg"] < peaks[1]


def test_seated_knee_extension_pivots_at_the_knee() -> None:
    spec = dataclasses.replace(
        _session("seated").spec, rep_mix=RepMix(thrown=0.5), reps_per_set=(6,)
    )
    session = simulate_session(spec, seed=2)
    s = session.truth["sets"][0]
    m = _window(session, s["start_s"] - 1.0, s["end_s"] + 1.0)
    t = session.true_time_s[m]
    theta = np.radians(session.theta_deg[m])
    omega = np.gradient(theta, t)
    along = np.sin(theta) - 0.4 * omega**2 / 9.80665  # centripetal at 0.4 m from the knee
    assert np.abs(omega).max() > np.radians(150)
    np.testing.assert_allclose(session.recording.acc_g[m][5:-5, 0], along[5:-5], atol=0.06)


@pytest.mark.parametrize("leg", ["left", "right"])
def test_lying_set_ups_face_the_right_way(leg: str) -> None:
    """At the bottom the front of the shank faces the floor prone and the ceiling supine; lying
    on the side, the working leg's lateral side (the sensor's +z, strap at 0) faces up."""

    def still_reading(setup: str, axis_shank: np.ndarray) -> float:
        session = simulate_session(dataclasses.replace(_session(setup).spec, leg=leg), seed=3)
        mount = np.array(session.truth["sensor"]["mount_matrix"])
        first = session.truth["sets"][0]["reps"][0]["start_s"]
        m = _window(session, first - 1.0, first - 0.05)
        return float(np.mean(session.recording.acc_g[m] @ (mount.T @ axis_shank)))

    front = np.array([0.0, 0.0, -1.0])  # the shank frame's −z: anterior
    assert still_reading("floor", front) == pytest.approx(-1.0, abs=0.01)
    assert still_reading("supine", front) == pytest.approx(1.0, abs=0.01)
    lateral = np.array([0.0, 1.0 if leg == "right" else -1.0, 0.0])
    assert still_reading("side", lateral) == pytest.approx(1.0, abs=0.01)


# --------------------------------------------------------------------------------------------
# the CLI


def test_cli_simulates_new_setups_and_behaviours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["simulate", "--sets", "2", "--reps", "4", "--rate-hz", "50", "--ideal-sensor"]
    assert main([*base, "--out", str(tmp_path / "a.csv"), "--setup", "seated", "--seed", "2"]) == 0
    assert read_recording(tmp_path / "a.csv").metadata["exercise"] == "leg-raise"
    truth = json.loads((tmp_path / "a.truth.json").read_text())
    assert truth["setup"] == "seated" and truth["non_reps"]
    assert "movements that are not reps" in capsys.readouterr().out
    off = ["--out", str(tmp_path / "b.csv"), "--setup", "bench", "--no-behaviours"]
    assert main([*base, *off]) == 0
    truth = json.loads((tmp_path / "b.truth.json").read_text())
    assert truth["non_reps"] == [] and all(not s["pauses"] for s in truth["sets"])
    setups = set()
    for seed in range(6):
        out = tmp_path / f"any{seed}.csv"
        assert main([*base, "--out", str(out), "--setup", "any", "--seed", str(seed)]) == 0
        setups.add(json.loads(out.with_name(f"any{seed}.truth.json").read_text())["setup"])
    assert setups & set(LEG_RAISE_SETUPS)


def test_the_evaluation_truth_loader_reads_the_non_reps() -> None:
    from imu.evaluation import truth_from_dict

    truth = _session("machine", edge_swing=1.0, rebound=0.3).truth
    loaded = truth_from_dict(truth)
    assert [(n.kind, n.start_s, n.set_index) for n in loaded.non_reps] == [
        (n["kind"], n["start_s"], n["set_index"]) for n in truth["non_reps"]
    ]
    assert {"mount_swing", "dismount_swing", "rebound"} <= {n.kind for n in loaded.non_reps}
    assert truth_from_dict({"sets": []}).non_reps == ()
