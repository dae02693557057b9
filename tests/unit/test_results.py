"""SessionResult's tables: built from the analysis's own values, not the summary's rounding."""

from __future__ import annotations

import dataclasses
import math

from chart_factory import make_session

from imu.results import RepResult, SessionResult

#: the frame's columns that are not a RepResult attribute of the same name
NOT_ATTRIBUTES = {"flags", "on_tempo"}


def _with_first_rep(result: SessionResult, **changes: float) -> SessionResult:
    first = result.sets[0]
    rep = dataclasses.replace(first.reps[0], **changes)
    first = dataclasses.replace(first, reps=(rep, *first.reps[1:]))
    return dataclasses.replace(result, sets=(first, *result.sets[1:]))


def test_rep_frame_keeps_the_decimals_the_summary_rounds_away() -> None:
    result = _with_first_rep(
        make_session(), start_s=12.3456789, top_start_s=13.8765432, peak_angle_deg=-1.23456
    )
    frame = result.to_frame()
    row = frame.loc[(1, 1)]
    summary_rep = result.to_dict()["sets"][0]["reps"][0]
    assert summary_rep["start_s"] == 12.346 and summary_rep["peak_angle_deg"] == -1.23
    assert row["start_s"] == 12.3456789
    assert row["peak_angle_deg"] == -1.23456
    assert row["concentric_s"] == 13.8765432 - 12.3456789


def test_rep_frame_is_every_reps_own_values() -> None:
    result = make_session()
    frame = result.to_frame()
    reps: list[tuple[int, RepResult]] = [(s.index, r) for s in result.sets for r in s.reps]
    assert frame.index.tolist() == [(i, r.index) for i, r in reps]
    numbers = [c for c in frame.columns if c not in NOT_ATTRIBUTES]
    assert {"start_s", "concentric_s", "bottom_pause_s", "peak_angle_deg"} <= set(numbers)
    for set_index, rep in reps:
        row = frame.loc[(set_index, rep.index)]
        for name in numbers:
            value = getattr(rep, name)
            if value is None:
                assert math.isnan(row[name]), name
            else:
                assert row[name] == value, name
        assert row["flags"] == ";".join(rep.flag_names)
    # a set's last rep has no bottom pause: NaN, not a rounded stand-in
    last = result.sets[0].reps[-1]
    assert math.isnan(frame.loc[(result.sets[0].index, last.index)]["bottom_pause_s"])
