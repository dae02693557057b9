"""Stage 3, the form flags (imu.form), on reps built here from pieces of constant angular
acceleration, so that every speed, angle and deceleration is known by construction."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from imu.form import RepKinematics, momentum_flag, rep_flags
from imu.results import Flag
from imu.settings import Settings

FS_HZ = 500.0
LEG_M = 0.9
#: gravity's deceleration of a freely swinging straight leg at θ = 0, °/s² (form's ``3g / 2L``)
GRAVITY_DPS2 = math.degrees(1.5 * 9.80665 / LEG_M)


def motion(
    pieces: list[tuple[float, float]], *, v0_dps: float = 0.0
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Time and dθ/dt of a leg that follows ``pieces`` of (duration s, rate at its end °/s), each
    at constant angular acceleration; and the time at the end of each piece."""
    t, v, ends = [0.0], [v0_dps], []
    for duration, end_dps in pieces:
        n = round(duration * FS_HZ)
        frac = np.arange(1, n + 1) / n
        t += list(t[-1] + np.arange(1, n + 1) / FS_HZ)
        v += list(v[-1] + (end_dps - v[-1]) * frac)
        ends.append(t[-1])
    return np.array(t), np.array(v), ends


def kinematics(
    lift: list[tuple[float, float]],
    *,
    hold_s: float = 1.0,
    lower_dps: float = 40.0,
    bottom_deg: float = -60.0,
    lead: list[tuple[float, float]] | None = None,
    v0_dps: float = 0.0,
) -> RepKinematics:
    """A rep: ``lead`` (before it; default 0.5 s still), the ``lift`` pieces from the bottom at
    ``bottom_deg`` (ending at rest), a hold, a lowering back to the bottom that peaks at
    ``lower_dps`` (triangular), and 0.5 s still."""
    lead = [(0.5, 0.0)] if lead is None else lead
    _, v_lift, _ = motion(lift)
    rom = float(np.sum(0.5 * (v_lift[1:] + v_lift[:-1])) / FS_HZ)
    half_s = round(rom / lower_dps * FS_HZ) / FS_HZ  # whole samples, the peak set to match
    lower = [(half_s, -rom / half_s), (half_s, 0.0)]
    pieces = [*lead, *lift, (hold_s, 0.0), *lower, (0.5, 0.0)]
    t, v, ends = motion(pieces, v0_dps=v0_dps)
    theta = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) / FS_HZ)])
    start, top_start = ends[len(lead) - 1], ends[len(lead) + len(lift) - 1]
    top_end, end = ends[len(lead) + len(lift)], ends[-2]
    theta += bottom_deg - theta[np.searchsorted(t, start)]
    inside = (t >= start) & (t <= end)
    return RepKinematics(
        time_s=t,
        theta_deg=theta,
        rate_dps=v,
        start_s=start,
        top_start_s=top_start,
        top_end_s=top_end,
        end_s=end,
        peak_angle_deg=float(theta[inside].max()),
        min_angle_deg=float(theta[inside].min()),
        peak_lowering_velocity_dps=float(-v[inside].min()),
    )


def pressed(rom_deg: float = 60.0, *, top_deg: float = 0.0, **changes: Any) -> RepKinematics:
    """A controlled 2 s lift from ``top_deg - rom_deg`` to ``top_deg``: a triangular rate that
    peaks at ``rom_deg`` °/s, so ±``rom_deg`` °/s² — a tenth of what gravity could do for 60°."""
    lift = [(1.0, rom_deg), (1.0, 0.0)]
    return kinematics(lift, bottom_deg=top_deg - rom_deg, **changes)


def thrown(
    decel_dps2: float, *, bottom_deg: float = -60.0, burst_deg: float = 30.0
) -> RepKinematics:
    """A burst at 900 °/s² over ``burst_deg``, then slowed at ``decel_dps2`` to the top. By
    default 60° in two halves: the last 30° from θ −30° to 0°, where gravity alone would slow
    the leg by 0.87–1 × GRAVITY_DPS2."""
    v_peak = math.sqrt(2 * 900.0 * burst_deg)  # 232 °/s for 30°
    return kinematics([(v_peak / 900.0, v_peak), (v_peak / decel_dps2, 0.0)], bottom_deg=bottom_deg)


def all_flags(k: RepKinematics, settings: Settings | None = None, **given: Any) -> tuple[Flag, ...]:
    """``rep_flags`` with no pauses and no set to compare with unless ``given``."""
    args: dict[str, Any] = {"bottom_pause_s": None, "previous_pause_s": None}
    args |= {"set_median_rom_deg": None, **given}
    return rep_flags(k, settings=settings or Settings(), leg_length_m=LEG_M, **args)


def flags_of(k: RepKinematics, settings: Settings | None = None, **given: Any) -> list[str]:
    return [f.name for f in all_flags(k, settings, **given)]


def flag(k: RepKinematics, name: str, settings: Settings | None = None, **given: Any) -> Flag:
    (found,) = [f for f in all_flags(k, settings, **given) if f.name == name]
    return found


def momentum(k: RepKinematics, *, settings: Settings | None = None, **given: Any) -> Flag | None:
    args: dict[str, Any] = {"leg_length_m": LEG_M, "previous_pause_s": None, **given}
    return momentum_flag(k, settings=settings or Settings(), **args)


def test_the_builder_makes_what_it_says() -> None:
    k = pressed()
    assert k.peak_angle_deg == pytest.approx(0.0, abs=0.01)
    assert k.min_angle_deg == pytest.approx(-60.0, abs=0.01)
    assert k.peak_lowering_velocity_dps == pytest.approx(40.0, abs=0.1)
    assert float(np.max(k.rate_dps)) == pytest.approx(60.0, abs=0.1)  # ROM / 1 s
    t = thrown(900.0)
    assert t.peak_angle_deg == pytest.approx(0.0, abs=0.05)
    assert float(np.max(t.rate_dps)) == pytest.approx(math.sqrt(2 * 900 * 30), abs=1.0)


def test_a_controlled_rep_has_no_flag() -> None:
    assert (
        flags_of(pressed(), previous_pause_s=1.0, bottom_pause_s=1.0, set_median_rom_deg=60.0) == []
    )


# --- momentum ----------------------------------------------------------------------------------


def test_coasting_at_gravity_s_rate_is_momentum_and_pressing_to_the_top_is_not() -> None:
    # 900 °/s² ≥ half of gravity's 0.87–1 × 937 °/s²: the last 30° were coasted
    coasted = momentum(thrown(900.0))
    assert coasted is not None and coasted.name == "momentum" and coasted.unit == "deg"
    assert coasted.value == pytest.approx(30.0, abs=1.5)
    assert "coasted the last 30°" in coasted.evidence and "232 °/s burst" in coasted.evidence
    # the same burst slowed at 300 °/s² (under half of gravity's pull): the muscles pressed on
    assert momentum(thrown(300.0)) is None
    # a 3 m leg: gravity's pull is 0.3 × as strong, so 300 °/s² is over half of it: coasting
    assert momentum(thrown(300.0), leg_length_m=3.0) is not None


def test_low_down_gravity_slows_the_leg_less_so_less_slowing_is_coasting() -> None:
    # from −85°: 10° of burst (134 °/s), then 300 °/s² over 30° (−75° to −45°). Gravity's pull
    # along the path is GRAVITY_DPS2·cos θ: half of it is under 300 °/s² below θ = −50°
    k = thrown(300.0, bottom_deg=-85.0, burst_deg=10.0)
    assert k.peak_angle_deg == pytest.approx(-45.0, abs=0.2)  # whole samples
    expected = -math.degrees(math.acos(300.0 / (0.5 * GRAVITY_DPS2))) + 75.0  # −75° to −50°
    got = momentum(k)
    assert got is not None and got.value == pytest.approx(expected, abs=1.0)


@pytest.mark.parametrize(("coast_min_deg", "flagged"), [(12.0, True), (31.0, False), (0.0, False)])
def test_coast_min_deg_is_the_threshold_and_0_disables(coast_min_deg: float, flagged: bool) -> None:
    settings = dataclasses.replace(Settings(), coast_min_deg=coast_min_deg)
    got = momentum(thrown(900.0), settings=settings)
    assert (got is not None) == flagged


def bounced() -> RepKinematics:
    """Lowering at 150 °/s into the rep, reversed at 2500 °/s² to lifting at 100 °/s, then a slow
    press (100 °/s² deceleration) to the top: a 250 °/s rate swing at the bottom."""
    lead = [(0.3, -150.0), (0.06, 0.0)]  # at −150 °/s, then to 0 °/s at the bottom
    return kinematics([(0.04, 100.0), (1.0, 0.0)], lead=lead, v0_dps=-150.0)


@pytest.mark.parametrize(
    ("previous_pause_s", "flagged"), [(0.0, True), (0.1, True), (0.5, False), (None, False)]
)
def test_a_bounce_needs_the_leg_to_come_straight_down_into_the_rep(
    previous_pause_s: float | None, flagged: bool
) -> None:
    got = momentum(bounced(), previous_pause_s=previous_pause_s)
    assert (got is not None) == flagged
    if got is not None:
        assert "bounced out of the bottom: rate swung 250 °/s" in got.evidence
        assert got.value == pytest.approx(250.0, abs=2.0)


def test_a_slow_start_after_a_fast_lowering_is_not_a_bounce() -> None:
    # the same lowering, but the leg leaves the bottom at 50 °/s (< half of 120 °/s)
    lead = [(0.3, -150.0), (0.06, 0.0)]
    slow = kinematics([(0.02, 50.0), (0.5, 0.0)], lead=lead, v0_dps=-150.0)
    assert float(slow.rate_dps.max()) == pytest.approx(50.0, abs=0.5)
    assert momentum(slow, previous_pause_s=0.0) is None


@pytest.mark.parametrize(("lowest_deg", "past_deg"), [(-105.0, 15.0), (-95.0, None)])
def test_swinging_past_vertical_under_the_bench(lowest_deg: float, past_deg: float | None) -> None:
    k = pressed(rom_deg=-lowest_deg - 40.0, top_deg=-40.0)  # from lowest_deg up to −40°
    assert k.min_angle_deg == pytest.approx(lowest_deg, abs=0.01)
    got = momentum(k)
    if past_deg is None:
        assert got is None
    else:
        assert got is not None and got.value == pytest.approx(past_deg, abs=0.01)
        assert f"swung {past_deg:.0f}° past vertical" in got.evidence


# --- the other flags -----------------------------------------------------------------------------


def test_above_the_hip_line_by_more_than_the_tolerance() -> None:
    high = flag(pressed(top_deg=12.0), "above_hip_line")
    assert high.value == pytest.approx(12.0, abs=0.01) and high.unit == "deg"
    cm = 100.0 * LEG_M * math.sin(math.radians(12.0))  # 18.7 cm
    assert (
        f"foot {cm:.0f} cm above the hip line" in high.evidence and "5° tolerance" in high.evidence
    )
    assert "above_hip_line" not in flags_of(pressed(top_deg=4.9))  # within 5°
    no_line = dataclasses.replace(Settings(), tolerance_deg=None)
    assert "above_hip_line" not in flags_of(pressed(top_deg=12.0), no_line)


@pytest.mark.parametrize(("lower_dps", "flagged"), [(250.0, True), (170.0, False)])
def test_a_drop_is_lowering_faster_than_the_limit(lower_dps: float, flagged: bool) -> None:
    k = pressed(lower_dps=lower_dps)
    assert ("drop" in flags_of(k)) == flagged
    if flagged:
        assert flag(k, "drop").value == pytest.approx(250.0, abs=0.5)
    off = dataclasses.replace(Settings(), drop_velocity_dps=0.0)
    assert "drop" not in flags_of(k, off)


def test_no_hold_below_the_minimum_hold() -> None:
    short = pressed(hold_s=0.1)
    got = flag(short, "no_hold")
    assert got.value == pytest.approx(0.1) and got.unit == "s"
    assert "no_hold" not in flags_of(pressed(hold_s=0.3))
    assert "no_hold" not in flags_of(short, dataclasses.replace(Settings(), hold_min_s=0.0))


def test_partial_below_the_hip_line_or_short_of_the_set_s_range() -> None:
    low = flag(pressed(top_deg=-20.0), "partial")  # 20° below the line, margin 12°
    assert "stayed more than 12° below the hip line" in low.evidence
    assert low.value == pytest.approx(60.0, abs=0.01)  # the rep's ROM
    assert "partial" not in flags_of(pressed(top_deg=-10.0))
    short = flag(pressed(rom_deg=30.0), "partial", set_median_rom_deg=60.0)  # 30 < 60 % of 60
    assert "range of motion 30° is under 60 % of the set's median 60°" in short.evidence
    assert "partial" not in flags_of(pressed(rom_deg=40.0), set_median_rom_deg=60.0)
    assert "partial" not in flags_of(pressed(rom_deg=30.0))  # no set to compare with


@pytest.mark.parametrize(("pause_s", "flagged"), [(5.0, True), (3.0, False), (None, False)])
def test_rest_at_bottom_after_a_long_pause(pause_s: float | None, flagged: bool) -> None:
    assert ("rest_at_bottom" in flags_of(pressed(), bottom_pause_s=pause_s)) == flagged


def test_clipped_carries_the_data_problem() -> None:
    problem = "acc_z saturated at 16 g for 0.2 s"
    got = flag(pressed(), "clipped", data_problem=problem)
    assert got.evidence == problem
    assert "clipped" not in flags_of(pressed(), data_problem="")


def test_every_fault_at_once_in_the_documented_order() -> None:
    # thrown up ±1000 °/s² (coasting over its last 18°) from −26° to +10°: 36° of a set's 80°
    k = kinematics([(0.19, 190.0), (0.19, 0.0)], hold_s=0.1, lower_dps=250.0, bottom_deg=-26.0)
    names = flags_of(k, bottom_pause_s=6.0, set_median_rom_deg=80.0, data_problem="gyro flat")
    assert names == [
        "above_hip_line",
        "momentum",
        "drop",
        "no_hold",
        "partial",
        "rest_at_bottom",
        "clipped",
    ]
