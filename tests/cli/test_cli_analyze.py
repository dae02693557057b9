"""``imu analyze`` end to end: the files it writes (contracts §2), through ``main([...])``, one real
subprocess, and the Python API ``imu.analyze``.

The real recordings are the PTE prone leg raises in ``../shared/datasets/pte`` (skipped, saying
so, where that folder is absent): ``u2`` is the exercising leg (3 sets of 10 reps), ``u1`` the
other leg, which stays still (no sets).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import imu
from imu.cli import main
from imu.results import SessionResult
from imu.settings import load_settings

pytestmark = pytest.mark.slow

SET_KEYS = {"index", "start_s", "end_s", "rep_count", "tempo", "reps"}
REP_KEYS = {
    "index",
    "start_s",
    "top_start_s",
    "top_end_s",
    "end_s",
    "concentric_s",
    "top_hold_s",
    "eccentric_s",
    "bottom_pause_s",
    "peak_angle_deg",
    "rom_deg",
    "peak_velocity_dps",
    "flags",
}
#: JSON times are rounded to 1 ms, so a difference of two of them is good to 1 ms
TIME_TOL = 1.1e-3


def run_analyze(argv: list[str]) -> int:
    return main(["analyze", *argv])


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exercising_leg(pte_dir: Path) -> Path:
    return pte_dir / "pte_s1_e5_u2.csv"


@pytest.fixture(scope="module")
def analysed(exercising_leg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exercising leg analysed once through ``main`` (prone-leg-lift, no target tempo)."""
    out = tmp_path_factory.mktemp("analyze_u2")
    argv = [str(exercising_leg), "--out", str(out), "--no-plots", "--quiet"]
    assert run_analyze([*argv, "--exercise", "prone-leg-lift"]) == 0
    return out


@pytest.fixture(scope="module")
def summary(analysed: Path) -> dict[str, Any]:
    return load_json(analysed / "summary.json")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def with_tempo(exercising_leg: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("analyze_u2_tempo")
    argv = [str(exercising_leg), "--out", str(out), "--no-plots", "--quiet"]
    assert run_analyze([*argv, "--exercise", "prone-leg-lift", "--tempo", "3-0-2-1"]) == 0
    return load_json(out / "summary.json")  # type: ignore[no-any-return]


def all_reps(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [rep for s in summary["sets"] for rep in s["reps"]]


# --------------------------------------------------------------------------------------------
# summary.json


def test_analyze_writes_the_four_files(analysed: Path) -> None:
    names = sorted(p.name for p in analysed.iterdir())
    assert names == ["reps.csv", "run.json", "sets.csv", "summary.json"]  # --no-plots: no charts


def test_summary_has_the_contract_shape(summary: dict[str, Any], exercising_leg: Path) -> None:
    assert summary["schema"] == "imu-summary/1"
    assert summary["recording"] == exercising_leg.name
    assert summary["sample_rate_hz"] == 25.0
    assert summary["exercise"] == "prone-leg-lift"
    assert isinstance(summary["sets"], list)
    for s in summary["sets"]:
        assert set(s) >= SET_KEYS, SET_KEYS - set(s)
        assert isinstance(s["index"], int) and isinstance(s["rep_count"], int)
        assert re.fullmatch(r"\d+-\d+-\d+-\d+", s["tempo"]), s["tempo"]
        for rep in s["reps"]:
            assert set(rep) >= REP_KEYS, REP_KEYS - set(rep)
            assert isinstance(rep["flags"], list)
            assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", f) for f in rep["flags"]), rep["flags"]
            for key in REP_KEYS - {"index", "flags", "bottom_pause_s"}:
                assert isinstance(rep[key], float | int) and math.isfinite(rep[key]), key


def test_real_prone_leg_raise_has_three_sets_of_ten(
    summary: dict[str, Any], exercising_leg: Path
) -> None:
    assert [s["rep_count"] for s in summary["sets"]] == [10, 10, 10]
    assert [s["index"] for s in summary["sets"]] == [1, 2, 3]
    assert summary["rep_count"] == 30 and summary["set_count"] == 3
    truth = load_json(exercising_leg.with_suffix(".truth.json"))
    for found, labelled in zip(summary["sets"], truth["sets"], strict=True):
        # the labels run from the first rep's start to the last rep's end (pauses included)
        assert labelled["start_s"] - 2.0 <= found["start_s"] <= labelled["start_s"] + 4.0
        assert labelled["end_s"] - 4.0 <= found["end_s"] <= labelled["end_s"] + 2.0


def test_phase_identities_hold(summary: dict[str, Any]) -> None:
    for s in summary["sets"]:
        reps = s["reps"]
        assert [r["index"] for r in reps] == list(range(1, len(reps) + 1))
        assert s["rep_count"] == len(reps)
        assert s["start_s"] == reps[0]["start_s"] and s["end_s"] == reps[-1]["end_s"]
        for rep, nxt in zip(reps, [*reps[1:], None], strict=True):
            assert rep["start_s"] <= rep["top_start_s"] <= rep["top_end_s"] <= rep["end_s"]
            assert rep["concentric_s"] == pytest.approx(
                rep["top_start_s"] - rep["start_s"], abs=TIME_TOL
            )
            assert rep["top_hold_s"] == pytest.approx(
                rep["top_end_s"] - rep["top_start_s"], abs=TIME_TOL
            )
            assert rep["eccentric_s"] == pytest.approx(
                rep["end_s"] - rep["top_end_s"], abs=TIME_TOL
            )
            if nxt is None:
                assert rep["bottom_pause_s"] is None  # a set's last rep
            else:
                assert rep["bottom_pause_s"] == pytest.approx(
                    nxt["start_s"] - rep["end_s"], abs=TIME_TOL
                )
                assert rep["bottom_pause_s"] >= 0
            assert rep["rom_deg"] == pytest.approx(
                rep["peak_angle_deg"] - rep["min_angle_deg"], abs=0.011
            )
            assert rep["rom_deg"] > 0 and rep["peak_velocity_dps"] > 0


def test_set_tempo_is_the_median_phases_in_coaching_order(summary: dict[str, Any]) -> None:
    def median(values: list[float]) -> float:
        return float(pd.Series(values).median())

    for s in summary["sets"]:
        reps = s["reps"]
        pauses = [r["bottom_pause_s"] for r in reps if r["bottom_pause_s"] is not None]
        phases = (
            median([r["eccentric_s"] for r in reps]),
            median(pauses),
            median([r["concentric_s"] for r in reps]),
            median([r["top_hold_s"] for r in reps]),
        )
        assert s["tempo"] == "-".join(str(math.floor(v + 0.5)) for v in phases)


def test_no_target_tempo_means_no_tempo_fields(summary: dict[str, Any]) -> None:
    assert summary["target_tempo"] is None
    for s in summary["sets"]:
        assert s["tempo_adherence_pct"] is None
    for rep in all_reps(summary):
        assert rep["tempo_error_s"] is None and rep["on_tempo"] is None


def test_target_tempo_adds_errors_and_adherence(
    with_tempo: dict[str, Any], summary: dict[str, Any]
) -> None:
    assert with_tempo["target_tempo"] == "3-0-2-1"
    target = {"eccentric_s": 3.0, "bottom_pause_s": 0.0, "concentric_s": 2.0, "top_hold_s": 1.0}
    # the target only judges the reps; it does not move them
    assert [r["start_s"] for r in all_reps(with_tempo)] == [r["start_s"] for r in all_reps(summary)]
    for s in with_tempo["sets"]:
        judged = []
        for rep in s["reps"]:
            errors = rep["tempo_error_s"]
            expected_keys = set(target) - (
                {"bottom_pause_s"} if rep["bottom_pause_s"] is None else set()
            )
            assert set(errors) == expected_keys
            for phase, err in errors.items():
                assert err == pytest.approx(rep[phase] - target[phase], abs=TIME_TOL)
            on = all(abs(e) <= 0.5 for e in errors.values())
            assert rep["on_tempo"] is on
            judged.append(on)
        assert s["tempo_adherence_pct"] == pytest.approx(
            100.0 * sum(judged) / len(judged), abs=0.05
        )
    # this subject did not lift at 3-0-2-1 everywhere: the check must be able to say no
    assert not all(r["on_tempo"] for r in all_reps(with_tempo))


# --------------------------------------------------------------------------------------------
# reps.csv, sets.csv, run.json


def test_reps_csv_has_one_row_per_rep(analysed: Path, summary: dict[str, Any]) -> None:
    reps = pd.read_csv(analysed / "reps.csv")
    assert len(reps) == 30
    assert reps["set"].tolist() == [s["index"] for s in summary["sets"] for _ in s["reps"]]
    assert reps["rep"].tolist() == [r["index"] for r in all_reps(summary)]
    for column in ["start_s", "top_start_s", "top_end_s", "end_s", "peak_angle_deg"]:
        expected = [r[column] for r in all_reps(summary)]
        assert reps[column].tolist() == pytest.approx(expected, abs=0.006), column


def test_sets_csv_has_one_row_per_set(analysed: Path) -> None:
    sets = pd.read_csv(analysed / "sets.csv")
    assert sets["set"].tolist() == [1, 2, 3]
    assert sets["rep_count"].tolist() == [10, 10, 10]


def test_run_json_records_how_the_folder_was_made(analysed: Path, exercising_leg: Path) -> None:
    run = load_json(analysed / "run.json")
    assert run["version"] == imu.__version__
    assert run["input"]["path"] == str(exercising_leg)
    assert run["input"]["sha256"] == hashlib.sha256(exercising_leg.read_bytes()).hexdigest()
    assert run["settings"] == load_settings(exercise="prone-leg-lift").to_dict()
    assert isinstance(run["arguments"], list)


def test_run_json_arguments_are_the_ones_given_to_main(tiny_csv: Path, tmp_path: Path) -> None:
    argv = ["analyze", str(tiny_csv), "--out", str(tmp_path / "o"), "--no-plots", "--quiet"]
    assert main(argv) == 0
    assert load_json(tmp_path / "o" / "run.json")["arguments"] == argv


# --------------------------------------------------------------------------------------------
# other recordings and options


def test_still_leg_has_no_sets(pte_dir: Path, tmp_path: Path) -> None:
    argv = [str(pte_dir / "pte_s1_e5_u1.csv"), "--out", str(tmp_path), "--no-plots", "--quiet"]
    assert run_analyze([*argv, "--exercise", "prone-leg-lift"]) == 0
    result = load_json(tmp_path / "summary.json")
    assert result["sets"] == [] and result["rep_count"] == 0
    assert pd.read_csv(tmp_path / "reps.csv").empty


def test_hand_made_still_recording(
    tiny_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_analyze([str(tiny_csv), "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tiny.csv: 0 set(s), 0 rep(s) [reverse-hyper, 100 Hz]")
    result = load_json(tmp_path / "summary.json")
    assert result["recording"] == "tiny.csv" and result["sets"] == []
    assert result["sample_rate_hz"] == 100.0 and result["gaps"] == []


def test_config_with_unknown_key_fails_in_one_line(
    tiny_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "imu.toml"
    config.write_text("tolerance_deg = 5\nrest_treshold_s = 20\n", encoding="utf-8")
    out = tmp_path / "out"
    code = run_analyze([str(tiny_csv), "--out", str(out), "--no-plots", "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"imu analyze: error: {config}: unknown setting(s) rest_treshold_s")
    assert "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--tempo", "3-0-2"], ["tempo '3-0-2'"]),
        (["--exercise", "squat"], ["unknown exercise 'squat'"]),
        (["--hip-line-segment", "6-3"], ["hip_line_segment_s", "end must be after start"]),
        (["--rest-threshold-s", "-5"], ["--rest-threshold-s -5", "expected 2 to 600 s"]),
    ],
)
def test_bad_options_fail_in_one_line(
    tiny_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    words: list[str],
) -> None:
    code = run_analyze([str(tiny_csv), "--out", str(tmp_path / "o"), "--no-plots", *options])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("imu analyze: error: "), err
    for word in words:
        assert word in err


def test_version_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"imu {imu.__version__}"


# --------------------------------------------------------------------------------------------
# a real process


def subprocess_env(repo_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "error"
    return env


def test_python_m_imu_analyze(tiny_csv: Path, tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "imu", "analyze", str(tiny_csv), "--out", str(out), "--no-plots"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=subprocess_env(repo_root),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "tiny.csv: 0 set(s)" in proc.stdout
    summary = load_json(out / "summary.json")
    assert summary["schema"] == "imu-summary/1" and summary["recording"] == "tiny.csv"


def test_python_m_imu_version(repo_root: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "imu", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=subprocess_env(repo_root),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"imu {imu.__version__}"


# --------------------------------------------------------------------------------------------
# the Python API


def test_python_api_matches_the_written_summary(
    exercising_leg: Path, summary: dict[str, Any]
) -> None:
    result = imu.analyze(exercising_leg, exercise="prone-leg-lift")
    assert isinstance(result, SessionResult)
    assert result.rep_count == 30 and len(result.sets) == 3
    frame = result.to_frame()
    assert len(frame) == 30
    assert list(frame.index.names) == ["set", "rep"]
    assert frame.index.tolist() == [(s, r) for s in (1, 2, 3) for r in range(1, 11)]
    assert json.loads(json.dumps(result.to_dict())) == summary


def test_hip_line_segment_accepts_negative_and_colon_forms(tiny_csv: Path, tmp_path: Path) -> None:
    for text in ("-1:0.3", "0.1-0.3", "0.1..0.3"):
        out = tmp_path / text.replace(":", "_").replace(".", "_")
        argv = ["analyze", str(tiny_csv), "--out", str(out), "--no-plots", "--quiet",
                f"--hip-line-segment={text}"]  # fmt: skip
        assert main(argv) == 0, text
        assert load_json(out / "run.json")["settings"]["hip_line_segment_s"] is not None


def test_one_sample_recording_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "one.csv"
    bad.write_text(
        "time_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps\n0,0,0,1,0,0,0\n"
    )
    assert main(["analyze", str(bad), "--out", str(tmp_path / "o"), "--no-plots"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "one.csv" in err[0] and "at least two" in err[0]


def test_analyze_of_one_file_starts_light(tiny_csv: Path, tmp_path: Path) -> None:
    """One file's analysis imports none of what only other commands, charts or many files
    need: start-up is part of its time (scripts/bench_speed.py)."""
    heavy = ["asyncio", "multiprocessing", "matplotlib", "rich", "bleak"]
    code = (
        "import sys\n"
        "from imu.cli import main\n"
        f"assert main(['analyze', {str(tiny_csv)!r}, '--out', {str(tmp_path / 'o')!r}, "
        "'--no-plots', '-q']) == 0\n"
        f"loaded = [m for m in {heavy!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
