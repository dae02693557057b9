"""``imu record``: the virtual sensor through the whole live stack, a sensor through the fake
BlueZ (streaming, a reconnect, one that never answers), Ctrl-C / SIGTERM and ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakebluez import FakeBluezThread, Faults, VirtualSensor

from imu.cli import main
from imu.commands.record import default_out
from imu.live.acquire import simulated_session
from imu.recording import read_recording
from imu.sensors import get_profile

REPO = Path(__file__).resolve().parents[2]
StartFake = Callable[..., FakeBluezThread]


def events_of(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def analyze_count(csv: Path, out: Path) -> int:
    assert main(["analyze", str(csv), "--out", str(out), "--no-plots", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return sum(s["rep_count"] for s in summary["sets"])


# --- the virtual sensor -----------------------------------------------------------------------


def test_simulate_records_every_sample_and_writes_the_outputs(tmp_path: Path) -> None:
    csv = tmp_path / "tmp" / "x.csv"
    argv = ["record", "--simulate", "--speed", "0", "--quiet", "--seed", "3", "--out", str(csv)]
    assert main([*argv, "--no-plots"]) == 0

    rec = read_recording(csv)
    truth, meta = simulated_session(seed=3, rate_hz=100.0)
    assert len(rec) == len(truth)  # every simulated sample, through encoder and decoder
    np.testing.assert_allclose(rec.time_s, truth.time_s, atol=2e-6, rtol=0)
    np.testing.assert_allclose(rec.acc_g, truth.acc_g, atol=16 / 32768 + 1e-5)
    np.testing.assert_allclose(rec.gyro_dps, truth.gyro_dps, atol=2000 / 32768 + 1e-5)
    assert rec.metadata["sample_rate_hz"] == "100"
    assert rec.metadata["profile"] == "imu-ref"
    assert rec.metadata["leg"] == meta["leg"]
    assert rec.metadata["exercise"] == "auto"
    datetime.fromisoformat(rec.metadata["started_at"])
    assert rec.extra is not None and "seq" in rec.extra.columns

    folder = tmp_path / "tmp" / "x"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    reps = sum(s["rep_count"] for s in summary["sets"])
    assert reps > 0
    assert reps == analyze_count(csv, tmp_path / "analyzed")
    for name in ("reps.csv", "sets.csv", "run.json"):
        assert (folder / name).is_file()
    events = events_of(folder)
    kinds = [e["event"] for e in events]
    assert "rep" in kinds and "set_start" in kinds and "set_end" in kinds
    assert "gap" not in kinds
    t = [e["t_s"] for e in events]
    assert t == sorted(t)  # in the order they fired


def test_simulate_stops_at_max_duration_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "short.csv"
    dest = tmp_path / "analysis"
    argv = ["record", "--simulate", "--speed", "0", "--seed", "5", "--view", "off"]
    argv += ["--audio", "quiet", "--max-duration-s", "20", "--out", str(csv)]
    assert main([*argv, "--analysis-dir", str(dest), "--no-plots"]) == 0
    rec = read_recording(csv)
    assert 20.0 <= rec.duration_s < 21.0
    assert (dest / "summary.json").is_file() and (dest / "events.jsonl").is_file()
    assert not (tmp_path / "short").exists()
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(f"recorded {len(rec)} samples (20.")
    assert str(csv) in out[-1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speed", "2"], "--speed applies to --simulate only"),
        (["--simulate", "--speed", "-1"], "--speed -1: expected 0 or more"),
        (["--simulate", "--device", "IMU-REF 01"], "--device and --simulate"),
        (["--simulate", "--profile", "witmotion"], "the virtual sensor speaks"),
        (["--simulate", "--metronome"], "--metronome needs a target tempo"),
        (["--rate-hz", "0"], "--rate-hz 0: expected more than 0"),
        (["--simulate", "--tempo", "fast"], "tempo 'fast'"),
    ],
)
def test_bad_options_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    csv = tmp_path / "x.csv"
    assert main(["record", "--quiet", "--out", str(csv), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("imu record: error:")
    assert not csv.exists()


def test_out_must_be_a_new_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "old.csv"
    existing.write_text("keep me", encoding="utf-8")
    assert main(["record", "--simulate", "--quiet", "--out", str(existing)]) == 1
    assert existing.read_text(encoding="utf-8") == "keep me"
    assert main(["record", "--simulate", "--quiet", "--out", str(tmp_path / "x.txt")]) == 1
    err = capsys.readouterr().err
    assert "exists" in err and "must be a .csv" in err


def test_default_out(tmp_path: Path) -> None:
    now = datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC)
    assert default_out(now, cwd=tmp_path) == tmp_path / "session_20261121T100005Z.csv"
    (tmp_path / "recordings").mkdir()
    assert default_out(now, cwd=tmp_path) == (
        tmp_path / "recordings" / "session_20261121T100005Z.csv"
    )


def test_metronome_is_heard_only_when_asked(tmp_path: Path) -> None:
    from imu.commands.record import NoMetronome
    from imu.live.audio import Cue, RecordingSink

    sink = RecordingSink()
    filtered = NoMetronome(sink)
    filtered.emit(Cue(1.0, "metronome", "up", name="lift"))
    filtered.emit(Cue(1.0, "rep", "1", name="1"))
    assert [kind for _, kind, _ in sink.entries] == ["rep"]


# --- a sensor through the fake BlueZ ------------------------------------------------------------


def ref_sensor(*, faults: Faults | None = None, spn: int = 4) -> VirtualSensor:
    return VirtualSensor(
        address="C0:FF:EE:00:00:01",
        name="IMU-REF 01",
        profile=get_profile("imu-ref"),
        rate_hz=100.0,
        samples_per_notification=spn,
        faults=faults or Faults(),
    )


def record_ble(tmp_path: Path, seconds: float, *extra: str) -> tuple[int, Path]:
    csv = tmp_path / "ble.csv"
    argv = ["record", "--device", "IMU-REF 01", "--quiet", "--out", str(csv), "--no-plots"]
    argv += ["--max-duration-s", f"{seconds:g}", "--connect-timeout-s", "5", *extra]
    return main(argv), csv


@pytest.mark.ble
def test_ble_records_every_delivered_sample_with_device_clock(
    fake_bluez: StartFake, tmp_path: Path
) -> None:
    s = ref_sensor()
    fake = fake_bluez(s)
    code, csv = record_ble(tmp_path, 3.0)
    assert code == 0

    idx = fake.call(s.delivered_indices)
    rec = read_recording(csv)
    assert len(idx) >= 250
    assert len(rec) == len(idx), f"wrote {len(rec)} samples, the sensor delivered {len(idx)}"
    assert np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx)))
    np.testing.assert_allclose(rec.time_s, s.sample_time_s(idx), atol=2e-6, rtol=0)
    assert rec.metadata["device_address"] == s.address
    assert rec.metadata["device"] == "IMU-REF 01"
    assert rec.metadata["sample_rate_hz"] == "100"
    assert (tmp_path / "ble" / "summary.json").is_file()
    assert [e for e in events_of(tmp_path / "ble") if e["event"] == "gap"] == []


@pytest.mark.ble
def test_ble_reconnect_keeps_the_recording_and_marks_the_gap(
    fake_bluez: StartFake, tmp_path: Path
) -> None:
    s = ref_sensor(faults=Faults(disconnect_after_s=1.0, away_s=0.6))
    fake = fake_bluez(s)
    code, csv = record_ble(tmp_path, 3.5, "--reconnect-timeout-s", "5")
    assert code == 0

    assert fake.call(lambda: s.disconnects) == 1
    idx = fake.call(s.delivered_indices)
    rec = read_recording(csv)
    # nothing the sensor delivered is lost, before or after the reconnect, in one file
    assert len(rec) == len(idx)
    np.testing.assert_allclose(rec.time_s, s.sample_time_s(idx), atol=2e-6, rtol=0)
    jumps = np.flatnonzero(np.diff(idx) > 1)
    assert len(jumps) == 1
    missing = int(idx[jumps[0] + 1] - idx[jumps[0]] - 1)
    assert missing >= 50  # away ≥ 0.6 s
    assert rec.time_s[-1] - rec.time_s[jumps[0] + 1] > 1.0  # recording went on after it
    # the gap: missing rows in the CSV, and one gap event
    (gap,) = rec.gaps()
    assert abs(gap.missing_samples - missing) <= 1
    gaps = [e for e in events_of(tmp_path / "ble") if e["event"] == "gap"]
    assert len(gaps) == 1 and gaps[0]["reconnect"] is True
    assert abs(gaps[0]["missing_samples"] - missing) <= 1
    assert gaps[0]["start_s"] == pytest.approx(rec.time_s[jumps[0]], abs=1e-5)
    assert gaps[0]["end_s"] == pytest.approx(rec.time_s[jumps[0] + 1], abs=1e-5)
    assert (tmp_path / "ble" / "summary.json").is_file()


@pytest.mark.ble
@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (Faults(connect_hangs=True), "did not accept a connection within 1.5 s"),
        (Faults(silent=True), "connected but sent no data within 1.5 s"),
    ],
)
def test_ble_sensor_that_never_answers_is_one_line_after_the_bounded_wait(
    fake_bluez: StartFake,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    faults: Faults,
    message: str,
) -> None:
    fake_bluez(ref_sensor(faults=faults))
    started = time.monotonic()
    code, csv = record_ble(tmp_path, 3.0, "--connect-timeout-s", "1.5")
    elapsed = time.monotonic() - started
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("imu record: error:")
    assert 1.4 < elapsed < 5.0
    assert not csv.exists()


@pytest.mark.ble
def test_ble_no_bus_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    code, csv = record_ble(tmp_path, 1.0, "--connect-timeout-s", "1")
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "D-Bus" in err[0]
    assert not csv.exists()


# --- a real process: Ctrl-C, SIGTERM, kill -9 ---------------------------------------------------


def start_recording(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], Path, float]:
    """``python -m imu record --simulate --speed 1`` in a child process; returns it, its CSV and
    the monotonic time its first samples reached the file."""
    csv = tmp_path / "f.csv"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "imu", "record", "--simulate", "--speed", "1", "--quiet"]
    argv += ["--seed", "7", "--out", str(csv), "--no-plots", *extra]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30.0
    while not (csv.exists() and csv.stat().st_size > 0):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the recording did not start: {err or out}")
        time.sleep(0.02)
    return proc, csv, time.monotonic()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_and_writes_the_outputs(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, csv, started = start_recording(tmp_path)
    time.sleep(3.0)
    proc.send_signal(sig)
    elapsed = time.monotonic() - started
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err == "" and out == ""  # --quiet
    rec = read_recording(csv)
    assert elapsed - 1.0 <= rec.duration_s <= elapsed + 1.0
    folder = tmp_path / "f"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["recording"] == "f.csv"
    assert (folder / "events.jsonl").is_file() and (folder / "run.json").is_file()
    # the file ends on a whole row and analyses as it is
    assert csv.read_bytes().endswith(b"\n")


@pytest.mark.slow
def test_kill_9_leaves_a_readable_file_missing_at_most_the_last_second(tmp_path: Path) -> None:
    proc, csv, started = start_recording(tmp_path)
    time.sleep(3.0)
    elapsed = time.monotonic() - started
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rec = read_recording(csv)  # whole rows only: the reader accepts it as it is
    assert rec.duration_s >= elapsed - 1.5
    assert main(["analyze", str(csv), "--out", str(tmp_path / "a"), "--no-plots", "--quiet"]) == 0


# --- the recorder with a scripted source: a gap mid-set ------------------------------------------


class ScriptedSource:
    """A source that plays a recording in 40 ms blocks, drops ``gap`` (start_s, end_s) like a
    reconnect would, and reports the link states and the gap as a SensorLink does."""

    speed = 0.0

    def __init__(self, rec: Any, gap: tuple[float, float], on_status: Any) -> None:
        from imu.ble import FoundDevice, LinkStats

        self.rec = rec
        self.gap = gap
        self.on_status = on_status
        self.profile = get_profile("imu-ref")
        self.rate_hz = 100.0
        self.device = FoundDevice("AA:BB", "scripted", 0, ())
        self.stats = LinkStats()
        self.stopped = False

    def emit(self, state: Any, gap: Any = None) -> None:
        from imu.ble import LinkStatus

        self.on_status(LinkStatus(state, state.value, self.device, self.stats, gap=gap))

    async def __aenter__(self) -> ScriptedSource:
        from imu.ble import LinkState

        self.emit(LinkState.SEARCHING)
        self.emit(LinkState.STREAMING)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stopped = True

    async def stop(self) -> None:
        self.stopped = True

    async def blocks(self) -> Any:
        from imu.ble import LinkState
        from imu.recording import Gap
        from imu.sensors.base import SampleBlock

        t = self.rec.time_s
        keep = (t < self.gap[0]) | (t >= self.gap[1])
        idx = np.flatnonzero(keep)
        last = None
        for i in range(0, len(idx), 4):
            j = idx[i : i + 4]
            if last is not None and t[j[0]] - t[last] > 0.02:
                self.emit(LinkState.DISCONNECTED)
                self.emit(LinkState.RECONNECTING)
                self.emit(LinkState.STREAMING)
                missing = round((t[j[0]] - t[last]) * 100) - 1
                self.emit(LinkState.GAP, Gap(float(t[last]), float(t[j[0]]), missing, True))
            last = j[-1]
            yield SampleBlock(t[j], self.rec.acc_g[j], self.rec.gyro_dps[j], seq=j // 4)


def test_the_live_count_carries_on_across_a_gap(tmp_path: Path) -> None:
    import asyncio

    from imu.live.acquire import LiveRecorder
    from imu.live.audio import Cues, RecordingSink
    from imu.settings import load_settings

    rec, _ = simulated_session(seed=3, rate_hz=100.0)
    sink = RecordingSink()
    recorder = LiveRecorder(
        lambda on_status: ScriptedSource(rec, (30.0, 30.5), on_status),
        settings=load_settings(),
        csv_path=tmp_path / "gap.csv",
        events_path=tmp_path / "gap" / "events.jsonl",
        cues=Cues(sink),
    )
    outcome = asyncio.run(recorder.run())

    written = read_recording(tmp_path / "gap.csv")
    assert outcome.rows == len(written) == len(rec) - 50
    (gap,) = written.gaps()
    assert gap.missing_samples == 50
    events = events_of(tmp_path / "gap")
    kinds = [e["event"] for e in events]
    g = kinds.index("gap")
    assert events[g] == {
        "event": "gap",
        "t_s": 30.5,
        "start_s": 29.99,
        "end_s": 30.5,
        "missing_samples": 50,
        "reconnect": True,
    }
    # the same set counts on after the gap: rep numbers continue, no new set starts at it
    reps = [(e["set_index"], e["rep_index"]) for e in events if e["event"] == "rep"]
    before = [r for e, r in zip(events, reps, strict=False) if e["t_s"] < 30.0]
    assert before and any(e["event"] == "rep" for e in events[g:])
    # rep numbers go on from the count as it stands (a withdrawn rep lowers it)
    count = 0
    for e in events:
        if e.get("set_index") != 1:
            continue
        if e["event"] == "rep":
            assert e["rep_index"] == count + 1 or e.get("late")
            count += 1
        elif e["event"] == "rep_cancelled":
            count = e["rep_count"]
    assert not any(e["event"] == "set_start" and 30.0 <= e["t_s"] < 40.0 for e in events)
    assert [c.name for c in sink.cues if c.kind == "connection"] == [
        "searching",
        "connected",
        "disconnected",
        "reconnecting",
        "connected",
    ]


def test_a_failing_live_path_never_costs_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from imu.live.acquire import LiveRecorder
    from imu.live.session import LiveSession
    from imu.settings import load_settings

    feed = LiveSession.feed
    calls = 0

    def failing_feed(self: LiveSession, *block: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 100:
            raise ValueError("boom")
        return feed(self, *block)

    monkeypatch.setattr(LiveSession, "feed", failing_feed)
    rec, _ = simulated_session(seed=3, rate_hz=100.0)
    recorder = LiveRecorder(
        lambda on_status: ScriptedSource(rec, (30.0, 30.0), on_status),
        settings=load_settings(),
        csv_path=tmp_path / "x.csv",
        events_path=tmp_path / "x" / "events.jsonl",
    )
    outcome = asyncio.run(recorder.run())
    assert outcome.live_error is not None and "ValueError: boom" in outcome.live_error
    assert calls == 100  # switched off after the failure
    assert len(read_recording(tmp_path / "x.csv")) == len(rec)


@pytest.mark.ble
def test_ble_link_that_gives_up_keeps_and_analyses_what_arrived(
    fake_bluez: StartFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = ref_sensor(faults=Faults(disconnect_after_s=0.8, away_s=30.0))
    fake = fake_bluez(s)
    started = time.monotonic()
    code, csv = record_ble(tmp_path, 20.0, "--reconnect-timeout-s", "1")
    assert code == 1
    assert time.monotonic() - started < 6.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gave up on IMU-REF 01" in err[0]
    idx = fake.call(s.delivered_indices)
    assert len(read_recording(csv)) == len(idx) > 50
    assert (tmp_path / "ble" / "summary.json").is_file()


@pytest.mark.ble
def test_stop_while_connecting_ends_promptly_without_a_file(
    fake_bluez: StartFake, tmp_path: Path
) -> None:
    import asyncio

    from imu.live.acquire import BleSource, LiveRecorder
    from imu.settings import load_settings

    fake_bluez(ref_sensor(faults=Faults(connect_hangs=True)))

    async def go() -> Any:
        recorder = LiveRecorder(
            lambda on_status: BleSource(
                "IMU-REF 01", rate_hz=100.0, connect_timeout_s=20.0, on_status=on_status
            ),
            settings=load_settings(),
            csv_path=tmp_path / "x.csv",
            events_path=tmp_path / "x" / "events.jsonl",
        )
        asyncio.get_running_loop().call_later(0.8, recorder.request_stop)
        return await recorder.run()

    started = time.monotonic()
    outcome = asyncio.run(go())
    assert time.monotonic() - started < 4.0
    assert outcome.stopped and outcome.csv_path is None and outcome.rows == 0
    assert not (tmp_path / "x.csv").exists()
