"""``imu history export``: the CSV columns, and FIT files read back by two independent decoders
(fitdecode, and Garmin's own garmin-fit-sdk)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fitdecode
import pytest
from garmin_fit_sdk import Decoder, Stream
from history_factory import simulate

from imu.cli import main
from imu.history import open_history
from imu.history.export import REP_COLUMNS, SET_COLUMNS
from imu.history.fit import fit_crc


@pytest.fixture
def analysed(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """One session on 2026-11-18 (left leg), analysed and registered; its summary.json."""
    csv_path = simulate(tmp_path / "s.csv", seed=31, start="2026-11-18T07:30:00+00:00", leg="left")
    out = tmp_path / "o"
    assert main(["analyze", str(csv_path), "--out", str(out), "--no-plots"]) == 0
    return csv_path, json.loads((out / "summary.json").read_text())


def test_set_csv(
    analysed: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, summary = analysed
    capsys.readouterr()
    assert main(["history", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    sets = summary["sets"]
    assert isinstance(sets, list) and len(rows) == len(sets) > 0
    assert list(rows[0]) == list(SET_COLUMNS)
    for row, s in zip(rows, sets, strict=True):
        assert row["date"] == "2026-11-18" and row["leg"] == "left"
        assert int(row["reps"]) == s["rep_count"] and row["tempo"] == s["tempo"]
        assert float(row["time_under_tension_s"]) == pytest.approx(
            s["time_under_tension_s"], abs=0.01
        )
        for name, count in s["flag_counts"].items():
            assert int(row[f"flag_{name}"]) == count
        start = datetime.fromisoformat(row["start_time"])
        expected = datetime(2026, 11, 18, 7, 30, tzinfo=UTC) + timedelta(seconds=s["start_s"])
        assert abs((start - expected).total_seconds()) <= 1.0  # the recording starts at ~0 s


def test_rep_csv_to_file(analysed: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    _, summary = analysed
    out = tmp_path / "reps.csv"
    assert main(["history", "export", "--per-rep", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(REP_COLUMNS)
    reps = [r for s in summary["sets"] for r in s["reps"]]  # type: ignore[attr-defined]
    assert len(rows) == len(reps)
    for row, r in zip(rows, reps, strict=True):
        assert row["flags"] == ";".join(r["flags"])
        assert float(row["eccentric_s"]) == pytest.approx(r["eccentric_s"], abs=0.002)


def test_fit_crc_known_value() -> None:
    # FIT's CRC-16 is CRC-16/ARC: the standard check value of "123456789" is 0xBB3D
    assert fit_crc(b"123456789") == 0xBB3D


def test_fit_round_trip_two_decoders(
    analysed: tuple[Path, dict[str, object]], tmp_path: Path, _history_db: Path
) -> None:
    _, summary = analysed
    with open_history(_history_db) as store:
        (row,) = store.sessions()
    fit = tmp_path / "session.fit"
    assert main(["history", "export", "--format", "fit", str(row.id), "--out", str(fit)]) == 0
    sets = summary["sets"]
    assert isinstance(sets, list)

    # fitdecode: CRCs checked, every message by name
    messages: dict[str, list[dict[str, object]]] = {}
    with fitdecode.FitReader(str(fit), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                messages.setdefault(frame.name, []).append({f.name: f.value for f in frame.fields})
    (file_id,) = messages["file_id"]
    assert file_id["type"] == "activity"
    (sess,) = messages["session"]
    assert (sess["sport"], sess["sub_sport"]) == ("training", "strength_training")
    assert sess["start_time"] == datetime(2026, 11, 18, 7, 30, tzinfo=UTC)
    assert len(messages["lap"]) == 1 and len(messages["activity"]) == 1
    active = [m for m in messages["set"] if m["set_type"] == "active"]
    rest = [m for m in messages["set"] if m["set_type"] == "rest"]
    assert [m["repetitions"] for m in active] == [s["rep_count"] for s in sets]
    assert len(rest) == len(sets) - 1
    for m, s in zip(active, sets, strict=True):
        assert m["category"] == "hyperextension"
        assert m["duration"] == pytest.approx(s["end_s"] - s["start_s"], abs=0.002)

    # Garmin's SDK: integrity (header and file CRC) and a clean decode
    assert Decoder(Stream.from_file(str(fit))).check_integrity()
    decoded, errors = Decoder(Stream.from_file(str(fit))).read()
    assert errors == []
    garmin_sets = [m for m in decoded["set_mesgs"] if m["set_type"] == "active"]
    assert [m["repetitions"] for m in garmin_sets] == [s["rep_count"] for s in sets]
    assert decoded["session_mesgs"][0]["sub_sport"] == "strength_training"


def test_fit_needs_out(
    analysed: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["history", "export", "--format", "fit"]) == 1
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "fit"])
def test_an_out_under_a_file_is_one_line(
    analysed: tuple[Path, dict[str, object]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    capsys.readouterr()
    assert main(["history", "export", "--format", fmt, "--out", str(blocker / "x")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("imu history: error: --out") and "file" in line.split("a-file", 1)[1]
