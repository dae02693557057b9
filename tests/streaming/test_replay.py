"""``imu replay``: the live path on a recording — events.jsonl, the analyze outputs, the session
loop (view, cues, pacing), independence of speed and chunk size."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from imu.cli import main
from imu.live.audio import Cues, RecordingSink
from imu.live.session import LiveSession, SourceStatus, replay_blocks
from imu.live.view import LiveView
from imu.recording import Recording, write_recording
from imu.settings import load_settings
from imu.simulate import RepMix, SessionSpec, simulate_session


@cache
def session_recording() -> Recording:
    spec = SessionSpec(
        setup="bench",
        rate_hz=50.0,
        reps_per_set=(5,),
        lead_in_s=6.0,
        lead_out_s=6.0,
        rep_mix=RepMix(above_hip_line=0.3, thrown=0.3),
    )
    return simulate_session(spec, seed=4).recording


@pytest.fixture
def recording_csv(tmp_path: Path) -> Path:
    path = tmp_path / "session.csv"
    write_recording(path, session_recording())
    return path


def read_events(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_replay_writes_events_and_the_analyze_outputs(
    recording_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["replay", str(recording_csv), "--speed", "0", "--quiet", "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out == ""  # --quiet
    events = read_events(out / "events.jsonl")
    assert events and all({"event", "t_s"} <= e.keys() for e in events)
    times = [float(e["t_s"]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times)
    reps = [e for e in events if e["event"] == "rep"]
    assert reps and all(
        {"set_index", "rep_index", "start_s", "top_start_s", "peak_angle_deg"} <= e.keys()
        for e in reps
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "imu-summary/1"
    ends = {e["set_index"]: e["rep_count"] for e in events if e["event"] == "set_end"}
    assert ends == {s["index"]: s["rep_count"] for s in summary["sets"]}
    assert (out / "run.json").exists() and (out / "reps.csv").exists()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["arguments"][0] == "replay"


def test_replay_does_not_depend_on_speed_or_chunk_size(recording_csv: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--quiet", "--no-plots"]
    assert main(["replay", str(recording_csv), "--speed", "0", "--out", str(a), *common]) == 0
    assert (
        main(
            [
                "replay",
                str(recording_csv),
                "--speed",
                "400",  # ~0.2 s of real waiting
                "--chunk-samples",
                "3",
                "--out",
                str(b),
                *common,
            ]
        )
        == 0
    )
    assert (a / "events.jsonl").read_text() == (b / "events.jsonl").read_text()


def test_replay_prints_a_report_and_live_lines(recording_csv: Path, tmp_path: Path) -> None:
    # a real process: no terminal, so the view writes plain lines
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "imu",
            "replay",
            str(recording_csv),
            "--speed",
            "0",
            "--no-plots",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "set 1 started" in done.stdout and "set 1 rep 1" in done.stdout
    assert "live:" in done.stdout and "events.jsonl" in done.stdout
    assert "wrote" in done.stdout


def test_replay_refuses_bad_options(recording_csv: Path, tmp_path: Path) -> None:
    assert main(["replay", str(recording_csv), "--speed", "-1", "--out", str(tmp_path)]) == 1
    assert main(["replay", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 1


def test_session_drives_view_and_cues(tmp_path: Path) -> None:
    rec = session_recording()
    sink = RecordingSink()
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    view = LiveView(console=console, mode="plain", plain_every_s=0)
    with view, Cues(sink) as cues:
        session = LiveSession(
            load_settings(overrides={"target_tempo": "2-0-2-1"}),
            sampling_rate_hz=rec.sample_rate_hz,
            view=view,
            cues=cues,
            events_path=tmp_path / "events.jsonl",
        )
        with session:
            blocks = [
                (rec.time_s[i : i + 9], rec.acc_g[i : i + 9], rec.gyro_dps[i : i + 9])
                for i in range(0, len(rec), 9)
            ]
            asyncio.run(session.run(blocks))  # a plain (sync) iterator works too
            session.on_status(SourceStatus(connection="disconnected", samples_lost=3))
        state = view.state
    kinds = [kind for _, kind, _ in sink.entries]
    assert "rep" in kinds and "set_start" in kinds and "set_end" in kinds
    assert "metronome" in kinds and "connection" in kinds
    assert [text for _, kind, text in sink.entries if kind == "rep"][:3] == ["1", "2", "3"]
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "set 1 started" in text and "set 1 ended" in text
    assert state.connection == "disconnected" and state.samples_lost == 3
    assert state.samples_received == len(rec) and state.set_index == 1
    assert state.sample_rate_hz == pytest.approx(rec.sample_rate_hz, rel=0.05)
    assert session.events_written == len(read_events(tmp_path / "events.jsonl"))


def test_replay_blocks_paces_by_the_recording_clock() -> None:
    rec = session_recording()
    now = [100.0]
    waits: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)
        now[0] += delay

    async def collect(speed: float) -> int:
        n = 0
        async for t, _, _ in replay_blocks(
            rec, speed=speed, chunk_samples=25, clock=lambda: now[0], sleep=fake_sleep
        ):
            n += t.shape[0]
        return n

    assert asyncio.run(collect(2.0)) == len(rec)
    assert now[0] - 100.0 == pytest.approx(rec.duration_s / 2.0, abs=1e-6)
    waits.clear()
    assert asyncio.run(collect(0.0)) == len(rec)
    assert set(waits) == {0}
    with pytest.raises(ValueError, match="speed"):
        asyncio.run(collect(-1.0))


def test_events_are_flushed_as_they_fire(tmp_path: Path) -> None:
    """``imu record`` may be killed: every event already fired is on disk."""
    rec = session_recording()
    path = tmp_path / "events.jsonl"
    session = LiveSession(load_settings(), sampling_rate_hz=rec.sample_rate_hz, events_path=path)
    half = int(np.searchsorted(rec.time_s, rec.time_s[0] + 0.75 * rec.duration_s))
    fired = session.feed(rec.time_s[:half], rec.acc_g[:half], rec.gyro_dps[:half])
    assert fired and len(read_events(path)) == len(fired)
    session.close()
    assert len(read_events(path)) >= len(fired)
