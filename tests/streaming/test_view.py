"""The live terminal view: what a snapshot renders to, plain output off a terminal."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from imu.live.view import (
    AngleGauge,
    LiveState,
    LiveView,
    PhaseTimes,
    WarningNote,
    angle_style,
    big_number,
    plain_lines,
    render,
    status_line,
)
from imu.settings import parse_tempo

STATE = LiveState(
    connection="connected",
    device="Movesense 1234",
    profile="movesense",
    sample_rate_hz=99.8,
    samples_received=12_034,
    samples_lost=12,
    malformed=1,
    reconnects=1,
    theta_deg=-12.3,
    set_index=2,
    rep_count=12,
    in_set=True,
    last_rep=PhaseTimes(2.1, 0.3, 4.5, None),
    last_rep_peak_deg=-1.5,
    target_tempo=parse_tempo("3-0-2-1"),
    warnings=(
        WarningNote(61.2, "momentum", "coasted 31°"),
        WarningNote(71.9, "above_hip_line", "+8.2°"),
    ),
    elapsed_s=123.4,
    output_path="out/set.csv",
)


def text_of(state: LiveState, width: int = 100) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    console.print(render(state))
    return console.export_text()


def styled(state: LiveState, width: int = 100) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    console.print(render(state))
    return console.export_text(styles=True)


def test_render_shows_counts_rates_angle_and_warnings() -> None:
    text = text_of(STATE)
    assert "12 reps" in text and "set 2" in text
    assert "θ -12.3°" in text and "below the hip line" in text
    assert "ABOVE HIP LINE" not in text
    assert "(0.1%)" in text  # 12 lost of 12 046
    assert "99.8 Hz" in text and "Movesense 1234" in text and "movesense" in text
    assert "received 12,034" in text and "malformed 1" in text and "reconnects 1" in text
    assert "above hip line" in text and "+8.2°" in text
    assert "momentum" in text and "coasted 31°" in text
    assert "02:03.4" in text and "out/set.csv" in text
    assert "target 3-0-2-1" in text
    # the newest warning is listed first
    assert text.index("above hip line") < text.index("momentum")


def test_phases_are_compared_with_the_target() -> None:
    text = text_of(STATE)
    for label, actual, delta in (
        ("lift", "2.1 s", "+0.1"),
        ("top hold", "0.3 s", "-0.7"),
        ("lower", "4.5 s", "+1.5"),
    ):
        row = next(line for line in text.splitlines() if f" {label} " in line)
        assert actual in row and delta in row
    ansi = styled(STATE)
    # within tolerance green (32), within twice amber (33), beyond red (31)
    assert "\x1b[32m+0.1" in ansi and "\x1b[33m-0.7" in ansi and "\x1b[31m+1.5" in ansi


def test_angle_above_tolerance_is_a_warning() -> None:
    high = dataclasses.replace(STATE, theta_deg=8.2)
    text = text_of(high)
    assert "θ +8.2°" in text and "ABOVE HIP LINE" in text and "tolerance 5°" in text
    assert "\x1b[1;31mθ +8.2°" in styled(high)
    near = text_of(dataclasses.replace(STATE, theta_deg=3.0))
    assert "at the hip line" in near and "ABOVE HIP LINE" not in near
    lift = text_of(dataclasses.replace(STATE, theta_deg=12.0, tolerance_deg=20.0))
    assert "ABOVE HIP LINE" not in lift  # the floor variant allows more


def test_angle_style() -> None:
    assert angle_style(-30.0, 5.0) == "green"
    assert angle_style(0.0, 5.0) == "green"
    assert angle_style(4.9, 5.0) == "yellow"
    assert angle_style(5.1, 5.0) == "red"


@pytest.mark.parametrize(
    ("theta", "cell"), [(-90.0, 0), (-200.0, 0), (30.0, 59), (99.0, 59), (0.0, 44)]
)
def test_gauge_marker_position(theta: float, cell: int) -> None:
    bar = AngleGauge(theta, 5.0).lines(60)[0].plain
    assert len(bar) == 60
    assert bar.index("●") == cell
    if theta != 0.0:
        assert bar[44] == "┃"  # the hip line stays marked
    if theta < 0.0:
        assert bar[47] == "┊"  # the tolerance line (5° → cell 47)


def test_gauge_without_an_angle() -> None:
    lines = AngleGauge(None, 5.0).lines(60)
    assert "●" not in lines[0].plain and "┃" in lines[0].plain
    assert "no angle yet" in lines[2].plain
    assert "-90°" in lines[1].plain and "+30°" in lines[1].plain and "hip line" in lines[1].plain


def test_empty_state_and_narrow_terminals_render() -> None:
    text = text_of(LiveState())
    assert "disconnected" in text and "no angle yet" in text and "no rep yet" in text
    assert "(—)" in text and "no warnings" in text and "0 reps" in text
    for width in (40, 60, 80, 160):
        assert "12 reps" in text_of(STATE, width=width)
    partial = dataclasses.replace(STATE, target_tempo=None, last_rep=PhaseTimes(None, 1.0))
    assert "top hold" in text_of(partial)


def test_loss_pct() -> None:
    assert LiveState().loss_pct is None
    assert LiveState(samples_received=990, samples_lost=10).loss_pct == pytest.approx(1.0)
    assert "(1.0%)" in text_of(LiveState(samples_received=990, samples_lost=10))


def test_big_number() -> None:
    rows = big_number(12).plain.split("\n")
    assert len(rows) == 5 and len({len(r) for r in rows}) == 1
    assert rows[0] == "  ██    ██████"


def test_status_line() -> None:
    line = status_line(STATE)
    assert line.startswith("[02:03.4] connected")
    assert "lost 12 (0.1%)" in line and "θ -12.3°" in line and "reps 12" in line


def test_plain_mode_off_a_terminal_writes_event_lines() -> None:
    out = io.StringIO()
    now = [0.0]
    view = LiveView(console=Console(file=out, width=100), clock=lambda: now[0], plain_every_s=5.0)
    state = LiveState(connection="connecting")
    with view:
        assert view.mode == "plain"
        view.update(state)
        state = dataclasses.replace(state, connection="connected", device="Movesense 1234")
        view.update(state)
        view.update(state)  # unchanged: nothing new
        state = dataclasses.replace(
            state,
            in_set=True,
            set_index=1,
            rep_count=1,
            last_rep=PhaseTimes(2.0, 1.0, 3.0),
            elapsed_s=14.0,
        )
        view.update(state)
        state = dataclasses.replace(state, warnings=(WarningNote(14.2, "above_hip_line", "+8°"),))
        view.update(state)
        now[0] = 6.0
        view.update(state)  # periodic status line
        state = dataclasses.replace(state, in_set=False, elapsed_s=40.0)
        view.update(state)
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        "[00:00.0] connecting",
        "[00:00.0] connected Movesense 1234",
        "[00:14.0] set 1 started",
        "[00:14.0] set 1 rep 1  lift 2.0 s · top 1.0 s · lower 3.0 s",
        "[00:14.2] warning: above hip line (+8°)",
    ]
    assert lines[5].startswith("[00:14.0] connected ·")
    assert lines[6] == "[00:40.0] set 1 ended: 1 reps"
    assert lines[-1].startswith("[00:40.0] connected ·")  # final status on close
    assert "\x1b" not in out.getvalue()


def test_live_mode_on_a_terminal_draws_the_latest_state() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, color_system="truecolor")
    with LiveView(console=console, refresh_hz=50) as view:
        assert view.mode == "live"
        for i in range(300):
            view.update(dataclasses.replace(STATE, rep_count=i // 30, theta_deg=-90 + i * 0.3))
    assert view.mode == "off"
    assert "9 reps" in out.getvalue()


def test_off_mode_writes_nothing() -> None:
    out = io.StringIO()
    with LiveView(console=Console(file=out, force_terminal=True), mode="off") as view:
        view.update(STATE)
    assert out.getvalue() == ""
    with pytest.raises(ValueError):
        LiveView(mode="fancy")


# -- withdrawn and late reps, the detector's status flags -------------------------------------

WITHDRAWN = "rep 8 did not count: rebound 5° after rep 7"


def test_render_shows_a_withdrawn_rep_its_reason_and_the_corrected_count() -> None:
    state = dataclasses.replace(STATE, rep_count=7, withdrawn=WITHDRAWN)
    text = text_of(state, width=200)
    assert f"✗ {WITHDRAWN} — now 7" in text
    assert "7 reps" in text
    assert "did not count" not in text_of(STATE, width=200)


def test_render_says_when_a_rep_was_counted_late() -> None:
    text = text_of(dataclasses.replace(STATE, rep_count=5, late_rep=5), width=200)
    assert "rep 5 counted late" in text
    assert "counted late" not in text_of(STATE, width=200)


def test_render_shows_the_detectors_status_flags() -> None:
    assert "detector:" not in text_of(STATE)
    text = text_of(dataclasses.replace(STATE, starting=True, in_gap=True), width=200)
    assert "detector: starting up" in text and "in a gap" in text and "clipping" not in text
    clipped = dataclasses.replace(STATE, clipping=True, sensor_problems=("gyro_z saturated",))
    ansi = styled(clipped, width=200)
    assert "clipping (a channel at the sensor's range)" in text_of(clipped, width=200)
    assert "31mclipping" in ansi  # red


def test_plain_lines_for_a_withdrawal_a_late_rep_and_the_flags() -> None:
    before = dataclasses.replace(STATE, rep_count=8, in_set=True, set_index=1, starting=True)
    ready = dataclasses.replace(before, starting=False)
    assert [t for t, _ in plain_lines(before, ready)] == ["[02:03.4] detector: ready"]
    withdrawn = dataclasses.replace(ready, rep_count=7, withdrawn=WITHDRAWN)
    lines = [t for t, _ in plain_lines(ready, withdrawn)]
    assert lines == [f"[02:03.4] set 1: {WITHDRAWN} — now 7"]  # no "rep 7" line
    late = dataclasses.replace(withdrawn, rep_count=8, withdrawn=None, late_rep=6)
    assert [t for t, _ in plain_lines(withdrawn, late)] == [
        "[02:03.4] set 1 rep 6 counted late — now 8"
    ]
    gap = dataclasses.replace(late, in_gap=True)
    assert plain_lines(late, gap) == []  # brief, counted as lost samples: the live view only
    clipped = dataclasses.replace(gap, clipping=True)
    assert plain_lines(gap, clipped) == [
        ("[02:03.4] detector: clipping (a channel at the sensor's range)", "red")
    ]
    assert [t for t, _ in plain_lines(clipped, gap)] == ["[02:03.4] detector: no longer clipping"]
