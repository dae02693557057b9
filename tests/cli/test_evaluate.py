"""``imu evaluate``: the library's scorer (imu.evaluation) over recordings and their truth files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from history_factory import simulate

from imu.cli import main


def test_evaluate_simulated_truth_and_a_wrong_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = simulate(tmp_path / "a.csv", seed=61, start="2026-11-20")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path), "--per-file"]) == 0
    out = capsys.readouterr().out
    assert "1 recording(s) scored" in out and "sets counted exactly: 2/2" in out
    assert "rep recall: 8/8" in out and "MAE eccentric_s" in out
    # labels that claim a third set that is not there: the score must show it
    truth = json.loads((tmp_path / "a.truth.json").read_text())
    fake = dict(truth["sets"][-1])
    fake.update(index=3, start_s=fake["start_s"] + 1000.0, end_s=fake["end_s"] + 1000.0)
    fake["reps"] = [
        {**r, **{k: r[k] + 1000.0 for k in r if k.endswith("_s") and k != "bottom_pause_s"}}
        for r in truth["sets"][-1]["reps"]
    ]
    labels = {"sets": [*truth["sets"], fake]}
    label_file = tmp_path / "labels.json"
    label_file.write_text(json.dumps(labels))
    assert main(["evaluate", str(good), "--truth", str(label_file)]) == 0
    out = capsys.readouterr().out
    assert "sets counted exactly: 2/3" in out and "rep recall: 8/12" in out


def test_evaluate_missing_truth_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lone = simulate(tmp_path / "b.csv", seed=62, start="2026-11-20")
    (tmp_path / "b.truth.json").unlink()
    assert main(["evaluate", str(lone)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such truth file" in err[0]


def test_evaluate_scores_against_a_labels_file_with_a_full_labelling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No truth file: the labels file beside the recording is the truth when it labels the sets
    (its corrections are not applied: the analysis is what is scored)."""
    rec = simulate(tmp_path / "c.csv", seed=63, start="2026-11-20")
    truth_file = tmp_path / "c.truth.json"
    truth = json.loads(truth_file.read_text())
    truth_file.unlink()
    sets = [
        {"start_s": s["start_s"], "end_s": s["end_s"],
         "reps": [{"start_s": r["start_s"], "end_s": r["end_s"]} for r in s["reps"]]}
        for s in truth["sets"]
    ]  # fmt: skip
    n = sum(len(s["reps"]) for s in sets)
    labels = tmp_path / "c.labels.json"
    drop_first = [{"op": "delete_rep", "set": 1, "rep": 1}]
    labels.write_text(json.dumps({"schema": "imu-labels/1", "corrections": drop_first,
                                  "sets": sets[:1]}))  # fmt: skip
    capsys.readouterr()
    assert main(["evaluate", str(rec)]) == 0
    out = capsys.readouterr().out
    # one labelled set: the analysis's second set is a phantom, the first counted exactly
    assert "sets counted exactly: 1/1" in out and "phantom sets: 1" in out
    assert f"rep recall: {len(sets[0]['reps'])}/{len(sets[0]['reps'])}" in out
    labels.write_text(json.dumps({"schema": "imu-labels/1", "sets": sets}))
    assert main(["evaluate", str(rec)]) == 0
    assert f"rep recall: {n}/{n}" in capsys.readouterr().out
    labels.write_text(json.dumps({"schema": "imu-labels/1", "corrections": drop_first}))
    assert main(["evaluate", str(rec)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and str(labels) in err[0] and "corrections only" in err[0]
