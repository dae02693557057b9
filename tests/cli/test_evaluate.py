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
