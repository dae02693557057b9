"""Corrections by hand (``FILE.labels.json``, imu.corrections) on a simulated bench session.

Times are picked from the simulator's truth; each operation must change the analysis as it says,
and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import imu
from imu.cli import main
from imu.corrections import LABELS_SCHEMA, labels_from_dict, labels_path_for
from imu.errors import LabelsError
from imu.results import SessionResult
from imu.simulate import random_spec, simulate_session, write_simulated

SEED = 61


@dataclasses.dataclass(frozen=True)
class Session:
    csv: Path
    truth: dict[str, Any]
    plain: SessionResult  #: the analysis without labels

    def true_rep(self, set_index: int, rep_index: int) -> dict[str, Any]:
        rep: dict[str, Any] = self.truth["sets"][set_index - 1]["reps"][rep_index - 1]
        return rep


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    spec = random_spec(np.random.default_rng(SEED), setup="bench")
    spec = dataclasses.replace(spec, reps_per_set=(4, 4), rate_hz=50)
    sim = simulate_session(spec, seed=SEED)
    csv, _truth_file = write_simulated(sim, tmp_path_factory.mktemp("labels") / "s.csv")
    plain = imu.analyze(csv)
    # the corrections below are judged against a detector that got this session right
    assert [s.rep_count for s in plain.sets] == [len(s["reps"]) for s in sim.truth["sets"]]
    return Session(csv, sim.truth, plain)


def corrected(session: Session, *entries: dict[str, Any]) -> SessionResult:
    doc = {"schema": LABELS_SCHEMA, "corrections": list(entries)}
    return imu.analyze(session.csv, labels=labels_from_dict(doc, path="s.labels.json"))


def spans(result: SessionResult) -> list[list[tuple[float, float]]]:
    return [[(r.start_s, r.end_s) for r in s.reps] for s in result.sets]


def rep_at(result: SessionResult, t: float) -> tuple[int, int] | None:
    for s in result.sets:
        for r in s.reps:
            if r.start_s <= t <= r.end_s:
                return s.index, r.index
    return None


def mid(rep: dict[str, Any]) -> float:
    return 0.5 * (float(rep["top_start_s"]) + float(rep["top_end_s"]))


def test_delete_a_rep_by_number_and_by_time(session: Session) -> None:
    by_number = corrected(session, {"op": "delete_rep", "set": 1, "rep": 2})
    t = mid(session.true_rep(2, 3))
    by_time = corrected(session, {"op": "delete_rep", "at_s": t})
    before = spans(session.plain)
    assert spans(by_number) == [before[0][:1] + before[0][2:], before[1]]
    assert spans(by_time) == [before[0], before[1][:2] + before[1][3:]]
    assert rep_at(session.plain, t) == (2, 3) and rep_at(by_time, t) is None
    assert all(r.source == "detected" for s in by_time.sets for r in s.reps)
    (applied,) = by_number.corrections
    assert applied.correction.op == "delete_rep" and "rep 2 of set 1" in applied.outcome


def test_add_a_missed_rep_where_the_leg_moved(session: Session) -> None:
    """The swing getting off the bench is not a rep; labelled as one, it is measured and joins
    the set beside it, and leaves its ignored movements."""
    swing = next(n for n in session.truth["non_reps"] if n["kind"] == "dismount_swing")
    t = 0.5 * (swing["start_s"] + swing["end_s"])
    last = session.plain.sets[swing["set_index"] - 1]
    assert any(m.start_s <= t <= m.end_s for m in last.ignored)
    result = corrected(session, {"op": "add_rep", "at_s": t, "note": "it was a rep"})
    grown = result.sets[swing["set_index"] - 1]
    assert grown.rep_count == last.rep_count + 1
    added = [r for r in grown.reps if r.source == "added"]
    assert len(added) == 1 and added[0].measured
    assert (
        abs(added[0].start_s - swing["start_s"]) < 0.3
        and abs(added[0].end_s - swing["end_s"]) < 0.3
    )
    assert added[0].rom_deg > 5.0 and added[0].to_dict()["concentric_s"] is not None
    assert not any(m.start_s <= t <= m.end_s for m in grown.ignored)
    entry = result.to_dict()["corrections"][0]
    assert entry["op"] == "add_rep" and entry["note"] == "it was a rep"


def test_add_a_rep_where_nothing_moved_has_unknown_phases(session: Session) -> None:
    reps = session.truth["sets"][1]["reps"]
    gaps = [(b["start_s"] - a["end_s"], a["end_s"], b["start_s"]) for a, b in pairwise(reps)]
    length, a, b = max(gaps)
    assert length > 3.0  # a mid-set pause: no movement in its middle
    t = 0.5 * (a + b)
    result = corrected(session, {"op": "add_rep", "at_s": t})
    s = result.to_dict()["sets"][1]
    assert s["rep_count"] == session.plain.sets[1].rep_count + 1
    (added,) = [r for r in s["reps"] if r["source"] == "added"]
    assert added["start_s"] == pytest.approx(t, abs=1e-3) and added["measured"] is False
    for key in ("concentric_s", "top_hold_s", "eccentric_s", "rom_deg", "peak_velocity_dps"):
        assert added[key] is None
    # the set's figures stay those of the measured reps
    assert s["phase_stats"]["concentric_s"]["max_s"] == pytest.approx(
        max(r["concentric_s"] for r in s["reps"] if r["measured"])
    )
    assert "phases unknown" in result.corrections[0].outcome
    json.dumps(result.to_dict(), allow_nan=False)
    # the history keeps it as unmeasured: no phases in its rows or in the exports
    from imu.history import open_history, register

    db = session.csv.parent / f"h{t:.0f}.sqlite"
    session_id, _ = register(result, session.csv, db=str(db))
    with open_history(str(db)) as store:
        frame = store.rep_frame()
        (stored,) = [r for s in store.sets(session_id) for r in s.reps if not r.measured]
    row = frame[frame["measured"] == 0]
    assert len(row) == 1 and row[["concentric_s", "top_hold_s", "rom_deg"]].isna().all(axis=None)
    assert frame[frame["measured"] == 1]["concentric_s"].notna().all()
    assert np.isnan(stored.concentric_s) and np.isnan(stored.eccentric_s)


def test_split_and_merge_sets(session: Session) -> None:
    """A split at the top of the third rep: the reps that started before it stay in front."""
    t = mid(session.true_rep(1, 3))
    split = corrected(session, {"op": "split_set", "at_s": t})
    assert [s.rep_count for s in split.sets] == [3, 1, 4]
    assert split.sets[0].start_s < t < split.sets[1].start_s
    before = spans(session.plain)
    assert spans(split) == [before[0][:3], before[0][3:], before[1]]
    merged = corrected(session, {"op": "merge_sets", "sets": [1, 2]})
    assert len(merged.sets) == 1 and merged.sets[0].rep_count == session.plain.rep_count
    assert spans(merged)[0] == [r for s in spans(session.plain) for r in s]


def test_numbers_refer_to_the_analysis_without_labels(session: Session) -> None:
    """A split renumbers the sets after it; a deletion named by number still means the rep the
    plain analysis numbered so, whatever the order of the entries."""
    first = session.truth["sets"][0]["reps"]
    t = 0.5 * (first[1]["end_s"] + first[2]["top_start_s"])
    result = corrected(
        session,
        {"op": "split_set", "at_s": t},
        {"op": "delete_rep", "set": 2, "rep": 1},
    )
    assert len(result.sets) == 3
    gone = session.plain.sets[1].reps[0]
    assert rep_at(result, 0.5 * (gone.top_start_s + gone.top_end_s)) is None
    assert result.sets[2].rep_count == session.plain.sets[1].rep_count - 1
    # applied in the fixed order: the deletion first
    assert [c.correction.op for c in result.corrections] == ["delete_rep", "split_set"]


def test_mark_a_sets_exercise_reruns_it_with_that_profile(session: Session) -> None:
    result = corrected(session, {"op": "mark_exercise", "set": 2, "exercise": "prone-leg-lift"})
    whole = imu.analyze(session.csv, exercise="prone-leg-lift")
    assert [s.exercise for s in result.sets] == ["reverse-hyper", "prone-leg-lift"]
    assert result.sets[0] == session.plain.sets[0]
    marked, reference = result.sets[1], whole.sets[1]
    # the profiles judge this set differently (the floor's tolerance above the hip line is wider)
    assert [r.flag_names for r in session.plain.sets[1].reps] != [
        r.flag_names for r in reference.reps
    ]
    assert [r.flag_names for r in marked.reps] == [r.flag_names for r in reference.reps]
    assert spans(result)[1] == [(r.start_s, r.end_s) for r in reference.reps]
    assert result.to_dict()["sets"][1]["exercise_choice"]["setup"] == "labelled"


def test_the_summary_notes_the_corrections(session: Session) -> None:
    result = corrected(session, {"op": "delete_rep", "set": 1, "rep": 1})
    doc = result.to_dict()
    assert doc["labels_file"] == "s.labels.json"
    assert doc["corrections"] == [
        {
            "entry": 1,
            "op": "delete_rep",
            "set": 1,
            "rep": 1,
            "outcome": result.corrections[0].outcome,
        }
    ]
    assert any(n.startswith("labels s.labels.json: deleted rep 1 of set 1") for n in doc["notes"])
    assert session.plain.to_dict()["corrections"] == [] and session.plain.labels_file is None


BAD = [
    ({"corrections": []}, "schema None"),
    ({"schema": LABELS_SCHEMA}, "nothing to apply or score"),
    ({"schema": LABELS_SCHEMA, "corrections": {}}, "must be a list"),
    ({"schema": LABELS_SCHEMA, "corrections": [], "colour": 1}, "unknown key(s) 'colour'"),
    ({"schema": LABELS_SCHEMA, "corrections": [{"op": "erase"}]}, "entry 1: unknown op 'erase'"),
    ({"schema": LABELS_SCHEMA, "corrections": [{"op": "delete_rep", "set": 1}]}, "entry 1: "),
    (
        {"schema": LABELS_SCHEMA, "corrections": [{"op": "add_rep", "at_s": 3}, {"op": "add_rep"}]},
        "entry 2: add_rep needs at_s",
    ),
    (
        {"schema": LABELS_SCHEMA, "corrections": [{"op": "add_rep", "at_s": "noon"}]},
        "at_s must be a time",
    ),
    (
        {"schema": LABELS_SCHEMA, "corrections": [{"op": "merge_sets", "sets": [1, 3]}]},
        "not adjacent",
    ),
    (
        {"schema": LABELS_SCHEMA, "corrections": [{"op": "delete_rep", "set": 0, "rep": 1}]},
        "set must be a whole number from 1",
    ),
    (
        {
            "schema": LABELS_SCHEMA,
            "corrections": [{"op": "mark_exercise", "set": 1, "exercise": "squat"}],
        },
        "unknown exercise 'squat'",
    ),
    (
        {"schema": LABELS_SCHEMA, "corrections": [{"op": "split_set", "at_s": 1, "rep": 2}]},
        "split_set does not take 'rep'",
    ),
]


@pytest.mark.parametrize(("doc", "problem"), BAD)
def test_a_bad_labels_document_is_one_line(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(LabelsError) as info:
        labels_from_dict(doc, path="x.labels.json")
    message = str(info.value)
    assert message.startswith("x.labels.json") and problem in message and "\n" not in message


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (
            [{"op": "delete_rep", "set": 5, "rep": 1}],
            "entry 1: delete_rep set 5 rep 1: the analysis",
        ),
        ([{"op": "delete_rep", "set": 1, "rep": 9}], "set 1 has 4 rep(s)"),
        ([{"op": "delete_rep", "at_s": 120.0}], "no rep there"),
        ([{"op": "split_set", "at_s": 120.0}], "no set spans that time"),
        ([{"op": "add_rep", "at_s": 120.0}], "no movement there and no set near it"),
    ],
)
def test_labels_that_do_not_fit_the_recording_are_one_line(
    session: Session,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    entries: list[dict[str, Any]],
    problem: str,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": LABELS_SCHEMA, "corrections": entries}))
    code = main(["analyze", str(session.csv), "--labels", str(bad), "--out", str(tmp_path / "o"),
                 "--no-plots", "--no-history"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert str(bad) in err[0] and problem in err[0], err[0]


def test_a_labels_file_that_is_not_json_is_one_line(
    session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{'op': 'add_rep'")
    for labels in (bad, tmp_path / "missing.json"):
        code = main(["analyze", str(session.csv), "--labels", str(labels), "--out",
                     str(tmp_path / "o"), "--no-plots", "--no-history"])  # fmt: skip
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(err) == 1 and str(labels) in err[0]


def test_imu_analyze_picks_up_the_labels_file_beside_the_recording(
    session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = shutil.copy(session.csv, tmp_path / "mine.csv")
    labels = labels_path_for(csv)
    assert labels == tmp_path / "mine.labels.json"
    merge = [{"op": "merge_sets", "sets": [1, 2]}]
    labels.write_text(json.dumps({"schema": LABELS_SCHEMA, "corrections": merge}))
    common = ["--no-plots", "--no-history"]
    assert main(["analyze", str(csv), "--out", str(tmp_path / "with"), *common]) == 0
    assert (
        main(["analyze", str(csv), "--out", str(tmp_path / "without"), "--no-labels", *common]) == 0
    )
    out = capsys.readouterr().out
    assert "note: labels mine.labels.json: merged sets 1 and 2" in out
    with_labels = json.loads((tmp_path / "with" / "summary.json").read_text())
    without = json.loads((tmp_path / "without" / "summary.json").read_text())
    assert with_labels["labels_file"] == "mine.labels.json" and len(with_labels["sets"]) == 1
    assert [c["op"] for c in with_labels["corrections"]] == ["merge_sets"]
    assert without["corrections"] == [] and len(without["sets"]) == 2
    run = json.loads((tmp_path / "with" / "run.json").read_text())
    assert run["labels"]["path"] == str(labels) and len(run["labels"]["sha256"]) == 64
    assert json.loads((tmp_path / "without" / "run.json").read_text())["labels"] is None
    header = (tmp_path / "with" / "reps.csv").read_text().splitlines()[0]
    assert header.endswith(",source")


def test_imu_report_of_a_file_applies_the_labels_beside_it(
    session: Session, tmp_path: Path
) -> None:
    csv = shutil.copy(session.csv, tmp_path / "mine.csv")
    merge = [{"op": "merge_sets", "sets": [1, 2]}]
    labels_path_for(csv).write_text(json.dumps({"schema": LABELS_SCHEMA, "corrections": merge}))
    out = tmp_path / "report.html"
    assert main(["report", str(csv), "--out", str(out), "--no-history"]) == 0
    page = out.read_text()
    assert "merged sets 1 and 2" in page  # the correction's note is in the report's notes
