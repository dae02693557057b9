"""Stage 4, the per-set summary (imu.summary) and the files of an analysis, from reps written out
here by hand: their tempo, phase statistics, time under tension, flag counts, fatigue cues and
tempo adherence are known by construction (contracts §2 and §3)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import imu
from imu.results import AngleTrace, Flag, RepResult, SessionResult, SetResult
from imu.settings import Settings, parse_tempo
from imu.summary import file_sha256, summary_for_set, tempo_errors, tempo_string, write_outputs


def rep(
    index: int,
    start_s: float,
    *,
    concentric_s: float = 2.0,
    hold_s: float = 1.0,
    eccentric_s: float = 3.0,
    pause_s: float | None = 0.4,
    peak_velocity_dps: float = 100.0,
    rom_deg: float = 60.0,
    flags: Sequence[str] = (),
    on_tempo: bool | None = None,
) -> RepResult:
    top_start = start_s + concentric_s
    return RepResult(
        index=index,
        start_s=start_s,
        top_start_s=top_start,
        top_end_s=top_start + hold_s,
        end_s=top_start + hold_s + eccentric_s,
        peak_angle_deg=0.0,
        min_angle_deg=-rom_deg,
        peak_velocity_dps=peak_velocity_dps,
        peak_lowering_velocity_dps=50.0,
        foot_height_cm=0.0,
        bottom_pause_s=pause_s,
        flags=tuple(Flag(name, f"{name} by hand") for name in flags),
        on_tempo=on_tempo,
    )


def a_set(
    phases: Sequence[tuple[float, float, float, float | None]], **per_rep: Sequence[Any]
) -> list[RepResult]:
    """Reps one after another with the given (concentric, hold, eccentric, pause) each, from
    t = 10 s; ``per_rep`` gives other fields rep by rep (``flags=[...]``)."""
    reps: list[RepResult] = []
    t = 10.0
    for i, (c, h, e, p) in enumerate(phases):
        more = {k: v[i] for k, v in per_rep.items()}
        reps.append(rep(i + 1, t, concentric_s=c, hold_s=h, eccentric_s=e, pause_s=p, **more))
        t += c + h + e + (p or 0.0)
    return reps


FIVE = [(1.0, 1.0, 3.0, 0.4), (2.0, 1.0, 3.0, 0.4), (3.0, 1.0, 3.0, 0.6), (4.0, 1.0, 3.0, 0.4),
        (5.0, 1.0, 3.0, None)]  # fmt: skip


# --- the tempo string -------------------------------------------------------------------------


def test_tempo_is_the_median_of_each_phase_in_coaching_order() -> None:
    # eccentric 3, bottom pause median(0.4, 0.4, 0.6, 0.4) = 0.4 → 0, concentric 3, top 1
    assert tempo_string(a_set(FIVE)) == "3-0-3-1"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.49, "0"), (0.5, "1"), (1.5, "2"), (2.5, "3"), (2.51, "3")]
)
def test_tempo_rounds_halves_up_not_to_even(seconds: float, shown: str) -> None:
    reps = a_set([(seconds, seconds, seconds, seconds)] * 2 + [(seconds, seconds, seconds, None)])
    assert tempo_string(reps) == "-".join([shown] * 4)


def test_tempo_of_reps_without_pauses_and_of_no_reps() -> None:
    assert tempo_string([rep(1, 0.0, pause_s=None)]) == "3-0-2-1"  # one rep: no pause, 0
    assert tempo_string([]) == ""


def test_tempo_errors_are_actual_minus_target() -> None:
    target = parse_tempo("3-1-2-1")
    r = rep(1, 0.0, concentric_s=1.5, hold_s=1.25, eccentric_s=3.5, pause_s=0.4)
    assert tempo_errors(r, target) == pytest.approx(
        {"eccentric_s": 0.5, "concentric_s": -0.5, "top_hold_s": 0.25, "bottom_pause_s": -0.6}
    )
    last = rep(2, 10.0, pause_s=None)  # a set's last rep has no pause to judge
    assert tempo_errors(last, target) == pytest.approx(
        {"eccentric_s": 0.0, "concentric_s": 0.0, "top_hold_s": 0.0}
    )


# --- a set's summary ----------------------------------------------------------------------------


def test_summary_of_a_known_set() -> None:
    reps = a_set(
        FIVE,
        flags=[("partial",), (), ("no_hold", "momentum"), (), ("momentum",)],
        on_tempo=[True, False, True, None, True],
        peak_velocity_dps=[200.0, 190.0, 180.0, 170.0, 150.0],
        rom_deg=[60.0, 60.0, 58.0, 55.0, 50.0],
    )
    s = summary_for_set(2, reps)
    assert s.index == 2 and s.rep_count == 5 and s.reps == tuple(reps)
    assert s.start_s == 10.0 and s.end_s == reps[-1].end_s
    assert s.end_s == pytest.approx(10.0 + 35.0 + 1.8)  # 5 reps of 5–9 s, 4 pauses
    assert s.tempo == "3-0-3-1"
    assert s.time_under_tension_s == pytest.approx(15.0 + 5.0 + 15.0)  # concentric+hold+eccentric
    c = s.phase_stats["concentric_s"]  # 1, 2, 3, 4, 5 s
    assert (c.median_s, c.iqr_s, c.min_s, c.max_s) == pytest.approx((3.0, 2.0, 1.0, 5.0))
    assert s.phase_stats["top_hold_s"].iqr_s == pytest.approx(0.0)
    pause = s.phase_stats["bottom_pause_s"]  # the last rep's None left out: 0.4, 0.4, 0.6, 0.4
    assert (pause.median_s, pause.min_s, pause.max_s) == pytest.approx((0.4, 0.4, 0.6))
    assert dict(s.flag_counts) == {"momentum": 2, "no_hold": 1, "partial": 1}
    assert list(s.flag_counts) == sorted(s.flag_counts)
    # fatigue over 5 reps compares the first rep with the last (5 // 3 = 1 at each end)
    assert s.velocity_loss_pct == pytest.approx(25.0)  # 200 → 150 °/s
    assert s.rom_loss_deg == pytest.approx(10.0)  # 60° → 50°
    assert s.tempo_adherence_pct == pytest.approx(75.0)  # 3 of the 4 judged


def test_fatigue_compares_up_to_three_reps_at_each_end() -> None:
    n = 10
    v = [100.0, 100.0, 100.0, 95.0, 90.0, 85.0, 80.0, 60.0, 60.0, 60.0]
    rom = [50.0, 52.0, 54.0, 50.0, 50.0, 50.0, 50.0, 40.0, 40.0, 46.0]
    s = summary_for_set(1, a_set([(2.0, 1.0, 3.0, 0.5)] * n, peak_velocity_dps=v, rom_deg=rom))
    assert s.velocity_loss_pct == pytest.approx(40.0)  # mean 100 → mean 60
    assert s.rom_loss_deg == pytest.approx(10.0)  # mean 52 → mean 42


def test_no_target_no_adherence_and_a_still_start_no_velocity_loss() -> None:
    s = summary_for_set(1, a_set(FIVE, peak_velocity_dps=[0.0, 10.0, 10.0, 10.0, 10.0]))
    assert s.tempo_adherence_pct is None
    assert math.isnan(s.velocity_loss_pct)
    assert s.to_dict()["velocity_loss_pct"] is None  # summary.json has no NaN


# --- the files --------------------------------------------------------------------------------


def session(sets: Sequence[SetResult], settings: Settings | None = None) -> SessionResult:
    t = np.arange(0.0, 60.0, 0.01)
    return SessionResult(
        recording="by_hand.csv",
        sample_rate_hz=100.0,
        settings=settings or Settings(),
        sets=tuple(sets),
        trace=AngleTrace(time_s=t, theta_deg=np.zeros_like(t), rate_dps=np.zeros_like(t)),
        leg_length_m=0.9,
        leg_length_source="option",
        hip_line_offset_deg=0.0,
        shank_axis="+x",
    )


def test_write_outputs_writes_the_known_numbers(tmp_path: Path) -> None:
    first = summary_for_set(1, a_set(FIVE, flags=[("momentum",), (), (), (), ()]))
    second = summary_for_set(2, a_set([(2.0, 1.0, 3.0, 0.0)] * 2 + [(2.0, 1.0, 3.0, None)]))
    source = tmp_path / "by_hand.csv"
    source.write_bytes(b"time_s\n0.0\n")
    out = tmp_path / "out"
    written = write_outputs(
        session([first, second]), out, source_path=str(source), argv=["analyze"], plots=False
    )
    assert sorted(p.name for p in written) == ["reps.csv", "run.json", "sets.csv", "summary.json"]

    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "imu-summary/1" and doc["recording"] == "by_hand.csv"
    assert (doc["rep_count"], doc["set_count"]) == (8, 2)
    one = doc["sets"][0]
    assert (one["index"], one["rep_count"], one["tempo"]) == (1, 5, "3-0-3-1")
    assert one["time_under_tension_s"] == 35.0 and one["flag_counts"] == {"momentum": 1}
    assert one["phase_stats"]["concentric_s"]["median_s"] == 3.0
    r3 = one["reps"][2]
    assert (r3["concentric_s"], r3["top_hold_s"], r3["eccentric_s"]) == (3.0, 1.0, 3.0)
    assert r3["bottom_pause_s"] == 0.6 and r3["rom_deg"] == 60.0 and r3["flags"] == []
    assert one["reps"][-1]["bottom_pause_s"] is None  # a set's last rep
    assert doc["sets"][1]["tempo"] == "3-0-2-1"

    with (out / "reps.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["set"], r["rep"]) for r in rows] == [("1", str(i)) for i in range(1, 6)] + [
        ("2", str(i)) for i in range(1, 4)
    ]
    assert rows[0]["flags"] == "momentum" and float(rows[1]["concentric_s"]) == 2.0
    with (out / "sets.csv").open(encoding="utf-8") as fh:
        sets = list(csv.DictReader(fh))
    assert [s["tempo"] for s in sets] == ["3-0-3-1", "3-0-2-1"]
    assert [float(s["time_under_tension_s"]) for s in sets] == [35.0, 18.0]

    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["version"] == imu.__version__ and run["arguments"] == ["analyze"]
    assert run["input"]["sha256"] == hashlib.sha256(b"time_s\n0.0\n").hexdigest()
    assert run["input"]["sha256"] == file_sha256(source)
    assert run["settings"] == Settings().to_dict()


def test_a_session_without_sets_still_writes_its_summary(tmp_path: Path) -> None:
    write_outputs(session([]), tmp_path, plots=False)
    doc = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert (doc["rep_count"], doc["set_count"], doc["sets"]) == (0, 0, [])
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["input"] == {"path": None, "sha256": None}
