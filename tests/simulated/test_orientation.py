"""Any orientation on the shank: the simulator's sensor rotation, the shank-axis finder and the
analysis it feeds (the same reps as with the documented mounting)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import imu
from imu.angle import estimate_leg_angle, find_shank_axis, shank_axis_of
from imu.evaluation import score, truth_from_dict
from imu.settings import load_settings
from imu.simulate import random_spec, simulate_session
from imu.simulate.spec import SessionSpec, uniform_rotation_deg


def _spec(seed: int, **changes: object) -> SessionSpec:
    spec = random_spec(np.random.default_rng(seed), setup="bench", faults=False)
    spec = dataclasses.replace(
        spec, reps_per_set=(8, 8), rest_range_s=(40.0, 50.0), rate_hz=100.0, **changes
    )
    return spec


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(
        math.acos(float(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))
    )


def test_sensor_rotation_turns_the_axes_and_keeps_the_sensor_where_it_was() -> None:
    spec = dataclasses.replace(
        random_spec(np.random.default_rng(5), realistic_sensor=False), reps_per_set=(6,)
    )
    turn = (30.0, -70.0, 115.0)
    plain = simulate_session(spec, seed=5)
    turned = simulate_session(dataclasses.replace(spec, sensor_rotation_deg=turn), seed=5)
    from scipy.spatial.transform import Rotation

    q = Rotation.from_rotvec(turn, degrees=True).as_matrix()
    # the same specific force and rate, seen in axes turned by q: a' = qᵀ a
    np.testing.assert_allclose(turned.recording.acc_g, plain.recording.acc_g @ q, atol=1e-6)
    np.testing.assert_allclose(turned.recording.gyro_dps, plain.recording.gyro_dps @ q, atol=1e-4)
    assert turned.truth["sets"] == plain.truth["sets"]


def test_uniform_rotations_cover_all_orientations() -> None:
    rng = np.random.default_rng(0)
    from scipy.spatial.transform import Rotation

    x = np.array([Rotation.from_rotvec(uniform_rotation_deg(rng), degrees=True).apply([1, 0, 0])
                  for _ in range(2000)])  # fmt: skip
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.05)  # no preferred direction


@pytest.mark.parametrize("seed", [11, 12])
def test_a_turned_sensor_gives_the_documented_reps(seed: int) -> None:
    spec = _spec(seed)
    turn = uniform_rotation_deg(np.random.default_rng(seed + 1))
    plain = simulate_session(spec, seed=seed)
    turned = simulate_session(dataclasses.replace(spec, sensor_rotation_deg=turn), seed=seed)
    settings = load_settings()
    a = imu.analyze(plain.recording, settings=settings)
    b = imu.analyze(turned.recording, settings=settings)
    assert a.shank_axis == "+x"
    assert b.shank_axis.startswith("found (")
    assert any("shank axis found from the recording" in n and "confidence" in n for n in b.notes)
    assert [s.rep_count for s in b.sets] == [s.rep_count for s in a.sets] == [8, 8]
    # against the truth, about as close (one session; the benchmark has the figures)
    ta = score(a, truth_from_dict(plain.truth))
    tb = score(b, truth_from_dict(turned.truth))
    assert tb.reps_found == ta.reps_found and tb.reps_phantom == ta.reps_phantom == 0
    for phase in ("concentric_s", "top_hold_s", "eccentric_s"):
        assert tb.phase_mae_s(phase) < ta.phase_mae_s(phase) + 0.05
    assert tb.peak_mae_deg < ta.peak_mae_deg + 1.5
    # the direction found lies within a few degrees of the true shank
    axes = np.array(turned.truth["sensor"]["mount_matrix"])
    rec = turned.recording
    leg = estimate_leg_angle(rec.time_s, rec.acc_g, rec.gyro_dps, sampling_rate_hz=100.0)
    found = find_shank_axis(
        rec.acc_g, leg.gyro_c_dps, sampling_rate_hz=100.0, time_s=rec.time_s, up=leg.up
    )
    assert found.cue == "hanging" and found.confidence == "high"
    assert _angle(found.vector, axes[0]) < 4.0


def test_documented_mounting_and_overrides_keep_their_axis() -> None:
    spec = _spec(21)
    rec = simulate_session(spec, seed=21).recording
    axis = shank_axis_of(rec.acc_g, "auto", gyro_dps=rec.gyro_dps, sampling_rate_hz=100.0)
    assert axis.name == "+x" and axis.documented and axis.note is None
    flipped = shank_axis_of(
        -rec.acc_g * np.array([1, -1, 1]),
        "auto",
        gyro_dps=rec.gyro_dps * np.array([-1, 1, -1]),
        sampling_rate_hz=100.0,
    )  # the sensor turned 180° about y: +x points up the leg
    assert flipped.name == "-x" and "up the leg" in (flipped.note or "")
    given = shank_axis_of(rec.acc_g, "-z", gyro_dps=rec.gyro_dps, sampling_rate_hz=100.0)
    assert given.name == "-z" and given.confidence == "given"
    still = shank_axis_of(np.tile([-1.0, 0.0, 0.0], (50, 1)), "auto", gyro_dps=np.zeros((50, 3)),
                          sampling_rate_hz=50.0)  # fmt: skip
    assert still.name == "+x"  # nothing to go by: the documented axis
