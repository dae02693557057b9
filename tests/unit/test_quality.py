"""Sensor quality checks (imu.quality) on tiny hand-made arrays, and their place in the live
view."""

from __future__ import annotations

import numpy as np
import pytest

from imu.live.session import LiveSession
from imu.live.view import LiveState, LiveView, render, status_line
from imu.quality import QualityMonitor, check_quality, rate_mismatch
from imu.settings import Settings

RATE_HZ = 100.0


def turning(n: int = 500, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy sensor turning at ~60 °/s about x and y: nothing wrong with it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    phase = 2 * np.pi * 0.5 * t
    acc = np.column_stack([np.sin(phase), np.cos(phase), 1.2 * np.sin(2 * phase)])
    gyro = np.column_stack([60 * np.cos(phase), 60 * np.sin(phase), 5 * np.sin(phase)])
    return t, acc + rng.normal(0, 0.01, acc.shape), gyro + rng.normal(0, 0.5, gyro.shape)


def test_a_good_sensor_has_no_problems() -> None:
    t, acc, gyro = turning()
    q = check_quality(t, acc, gyro, metadata={"sample_rate_hz": "100"})
    assert q.stretches == () and q.notes == () and q.evidence(0.0, 5.0) == ""


def test_a_still_quantised_sensor_is_not_flat_lined() -> None:
    t = np.arange(500) / RATE_HZ
    acc = np.tile([0.0, 0.0, 1.0], (500, 1))
    gyro = np.zeros((500, 3))
    assert check_quality(t, acc, gyro).notes == ()  # not turning: repeating itself is fine


def test_saturation_at_a_full_scale_is_found_with_its_time() -> None:
    t, acc, gyro = turning()
    gyro = gyro * 3.0  # up to ~180 °/s
    clipped = np.clip(gyro, -125.0, 125.0)
    q = check_quality(t, acc, clipped)
    channels = {s.channel for s in q.stretches if s.kind == "saturated"}
    assert channels == {"gyro_x_dps", "gyro_y_dps"}
    first = next(s for s in q.stretches if s.channel == "gyro_x_dps")
    expected = t[np.flatnonzero(np.abs(clipped[:, 0]) >= 125.0)[0]]
    assert first.start_s == pytest.approx(expected)
    assert abs(first.value) == 125.0
    assert "gyro_x_dps saturated at" in q.notes[0]
    assert "saturated at" in q.evidence(first.start_s - 0.1, first.end_s + 0.1)
    assert q.evidence(first.end_s + 0.05, first.end_s + 0.06) == "" or len(q.stretches) > 2
    # the same peak that is not at a full scale (no plateau either) is not saturation
    assert check_quality(t, acc, gyro).stretches == ()


def test_a_declared_range_is_used() -> None:
    t, acc, gyro = turning()
    acc = np.clip(acc, -0.9, 0.9)  # 0.9 g is no usual full scale …
    assert check_quality(t, acc, gyro).stretches == ()
    q = check_quality(t, acc, gyro, metadata={"acc_range_g": "0.9"})  # … but this sensor's
    assert {s.channel for s in q.stretches} == {"acc_x_g", "acc_y_g", "acc_z_g"}


def test_a_channel_stuck_while_the_sensor_turns() -> None:
    t, acc, gyro = turning()
    gyro[100:300, 2] = 0.0
    q = check_quality(t, acc, gyro)
    assert [(s.channel, s.kind) for s in q.stretches] == [("gyro_z_dps", "flat")]
    assert q.stretches[0].start_s == pytest.approx(1.0) and q.stretches[0].samples == 200
    gyro[:, 2] = 3.0
    dead = check_quality(t, acc, gyro)
    assert dead.dead_channels == ("gyro_z_dps",)
    assert any("never changes while the sensor turns" in n for n in dead.notes)


def test_rate_mismatch() -> None:
    assert rate_mismatch(100.0, 100.4) == ""
    assert rate_mismatch(None, 50.0) == ""
    line = rate_mismatch(100.0, 50.0)
    assert (
        line
        == "the metadata say 100 Hz but the timestamps advance at 50 Hz (a median 20 ms per sample)"
    )
    t, acc, gyro = turning()
    q = check_quality(t * 2, acc, gyro, metadata={"sample_rate_hz": "100"})
    assert q.notes == (f"sensor: {line}",)


def test_the_monitor_and_the_live_view_show_a_clipped_sensor() -> None:
    t, acc, gyro = turning()
    gyro = np.clip(gyro * 3.0, -125.0, 125.0)
    monitor = QualityMonitor(sampling_rate_hz=RATE_HZ)
    seen = set()
    for i in range(0, 500, 5):
        seen.update(monitor.update(t[i : i + 5], acc[i : i + 5], gyro[i : i + 5]))
    assert any("saturated at" in p for p in seen)

    # the live path shows the detector's own monitor (one in one place): the same problems
    view = LiveView(mode="off")
    session = LiveSession(Settings(), sampling_rate_hz=RATE_HZ, view=view)
    problems = set()
    for i in range(0, 500, 5):
        session.feed(t[i : i + 5], acc[i : i + 5], gyro[i : i + 5])
        assert view.state.sensor_problems == session.detector.state.status.sensor_problems
        problems.update(view.state.sensor_problems)
    assert problems == seen
    assert view.state.clipping


def test_the_view_draws_the_sensor_line() -> None:
    from rich.console import Console

    state = LiveState(sensor_problems=("acc_z_g saturated at +16 g",))
    console = Console(width=100, record=True)
    console.print(render(state))
    text = console.export_text()
    assert "⚠ sensor: acc_z_g saturated at +16 g" in text
    assert "sensor" not in status_line(LiveState())
    console = Console(width=100, record=True)
    console.print(render(LiveState()))
    assert "⚠ sensor" not in console.export_text()
