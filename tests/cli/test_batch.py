"""``imu analyze DIR|FILES… --out DIR``: many recordings in parallel, a bad file failing alone."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from history_factory import simulate

from imu.cli import main
from imu.history import open_history


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short sessions and one broken file in one folder."""
    path = tmp_path_factory.mktemp("batch")
    for k in range(3):
        simulate(path / f"s{k}.csv", seed=50 + k, start=f"2026-11-{17 + k}")
    (path / "broken.csv").write_text("time_s,acc_x_g\n0,1\n", encoding="utf-8")
    return path


def test_folder_in_parallel_with_one_bad_file(
    folder: Path, tmp_path: Path, _history_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["analyze", str(folder), "--out", str(out), "--no-plots", "--jobs", "2"])
    captured = capsys.readouterr()
    assert code == 1  # one file failed
    errors = captured.err.strip().splitlines()
    # (once, in a full run, a second line came too; the message shows it if it comes again)
    assert len(errors) == 1 and "broken.csv" in errors[0] and "missing column" in errors[0], errors
    rows = list(csv.DictReader(io.StringIO((out / "batch.csv").read_text(encoding="utf-8"))))
    assert [Path(r["recording"]).name for r in rows] == ["broken.csv", "s0.csv", "s1.csv", "s2.csv"]
    assert [r["status"] for r in rows] == ["failed", "ok", "ok", "ok"]
    for row in rows[1:]:
        summary = json.loads((Path(row["out_dir"]) / "summary.json").read_text())
        assert int(row["reps"]) == summary["rep_count"] > 0
        assert int(row["sets"]) == summary["set_count"]
        assert row["recording"] in captured.out or Path(row["recording"]).name in captured.out
    with open_history(_history_db) as store:  # each worker registered its own session
        assert sorted(r.recording for r in store.sessions()) == ["s0.csv", "s1.csv", "s2.csv"]


def test_files_sequential_equal_parallel(folder: Path, tmp_path: Path) -> None:
    files = [str(folder / f"s{k}.csv") for k in range(3)]
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}"
        assert main(["analyze", *files, "--out", str(out), "--no-plots", "-j", jobs, "-q"]) == 0
    for k in range(3):
        one = json.loads((tmp_path / "j1" / f"s{k}" / "summary.json").read_text())
        two = json.loads((tmp_path / "j2" / f"s{k}" / "summary.json").read_text())
        assert one == two


def test_a_folder_named_imu_in_the_current_folder(folder: Path, tmp_path: Path) -> None:
    """Recordings kept in ``./imu/``: the workers still import imu itself, not that folder (it
    once shadowed the package in the fork server: every worker died, an internal error)."""
    script = Path(sys.executable).with_name("imu")  # the console script, as a user runs it
    if not script.exists():
        pytest.skip(f"no console script {script}: imu is not installed in this environment")
    (tmp_path / "imu").mkdir()
    for k in range(2):
        shutil.copyfile(folder / f"s{k}.csv", tmp_path / "imu" / f"s{k}.csv")
    env = {**os.environ, "IMU_DB": str(tmp_path / "h.sqlite")}
    env.pop("PYTHONSAFEPATH", None)
    done = subprocess.run(
        [str(script), "analyze", "imu", "--out", "out", "--no-plots", "-q", "-j", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for k in range(2):
        assert json.loads((tmp_path / "out" / f"s{k}" / "summary.json").read_text())["rep_count"]


def test_a_deleted_current_folder(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell left in a folder that was deleted: the files are analysed one after another in
    this process (worker processes start in the current folder; there is none)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    files = [str(folder / f"s{k}.csv") for k in range(2)]
    out = tmp_path / "out"
    assert main(["analyze", *files, "--out", str(out), "--no-plots", "-q", "-j", "2"]) == 0
    assert all((out / f"s{k}" / "summary.json").exists() for k in range(2))


def test_same_stem_twice_gets_two_folders(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(folder / "s0.csv", other / "s0.csv")
    out = tmp_path / "out"
    args = ["analyze", str(folder / "s0.csv"), str(other / "s0.csv"), "--out", str(out)]
    assert main([*args, "--no-plots", "-q", "-j", "1"]) == 0
    assert (out / "s0" / "summary.json").exists() and (out / "s0_2" / "summary.json").exists()


def test_empty_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no recording CSV files" in err[0]
