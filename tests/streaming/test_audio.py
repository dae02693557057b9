"""Audio cues: cue content and order, tone synthesis, back-end selection and degradation,
no backlog, the metronome schedule. Fake players are tiny shell scripts; no sound device needed."""

from __future__ import annotations

import io
import logging
import os
import stat
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from imu.errors import ConfigError
from imu.live import audio
from imu.live.audio import (
    TONES,
    AudioSink,
    BellSink,
    Cue,
    Cues,
    Metronome,
    NullSink,
    RecordingSink,
    SpeechBackend,
    TeeSink,
    ToneBackend,
    ToneSpec,
    find_backends,
    open_sink,
    synth_wav,
)
from imu.live.detector import DetectorState, DetectorStatus, LiveEvent
from imu.live.session import LiveSession
from imu.live.view import LiveView
from imu.recording import read_recording
from imu.settings import Settings, parse_tempo


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def fake_player(tmp_path: Path, name: str, body: str = "") -> tuple[Path, Path]:
    """A shell script that appends its last argument to a log file, then runs ``body``."""
    log = tmp_path / f"{name}.log"
    script = tmp_path / name
    script.write_text(
        f"#!/bin/sh\nfor a; do last=\"$a\"; done\nprintf '%s\\n' \"$last\" >> '{log}'\n{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script, log


def gated(gate: Path) -> str:
    """Script body: block until ``gate`` exists (at most ~5 s)."""
    return f"i=0; while [ ! -e '{gate}' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done"


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


# --- cues --------------------------------------------------------------------------------------


def test_recording_sink_gets_cues_in_order_with_recording_time() -> None:
    sink = RecordingSink()
    cues = Cues(sink)
    cues.connection("connected", t_s=0.0)
    cues.set_start(t_s=10.0, set_index=1)
    cues.rep(1, t_s=12.0)
    cues.warning("above_hip_line", t_s=12.1)
    cues.rep(2, t_s=18.0)
    cues.warning("momentum", t_s=18.2)
    cues.set_end(2, "3-0-2-1", t_s=30.0, set_index=1)
    assert sink.entries == [
        (0.0, "connection", "Sensor connected"),
        (10.0, "set_start", "Set 1"),
        (12.0, "rep", "1"),
        (12.1, "warning", "Too high"),
        (18.0, "rep", "2"),
        (18.2, "warning", "No swinging"),
        (30.0, "set_end", "Set 1 done. 2 reps. Tempo 3 0 2 1."),
    ]
    assert [c.name for c in sink.cues if c.kind == "warning"] == ["above_hip_line", "momentum"]
    assert all(c.tone in TONES for c in sink.cues)


def test_repeated_warnings_and_unchanged_connection_stay_silent() -> None:
    sink = RecordingSink()
    cues = Cues(sink, warning_repeat_s=2.0)
    assert cues.warning("above_hip_line", t_s=5.0) is not None
    assert cues.warning("above_hip_line", t_s=6.0) is None  # within 2 s of recording time
    assert cues.warning("momentum", t_s=6.0) is not None  # another kind is not held back
    assert cues.warning("above_hip_line", t_s=7.5) is not None
    assert cues.connection("connected", t_s=0.0) is not None
    assert cues.connection("connected", t_s=1.0) is None
    assert cues.connection("reconnecting", t_s=2.0) is not None
    assert cues.warning("rest_at_bottom", t_s=9.0) is not None
    assert cues.warning("weird_new_flag", t_s=9.0) is not None
    assert [e[2] for e in sink.entries][-2:] == ["Keep going", "Weird new flag"]


def test_set_end_wording() -> None:
    sink = RecordingSink()
    cues = Cues(sink)
    cues.set_end(1, None, t_s=1.0)
    cues.set_end(12, parse_tempo("3-1-X-1"), t_s=2.0)
    assert [e[2] for e in sink.entries] == ["Set done. 1 rep.", "Set done. 12 reps. Tempo 3 1 0 1."]


def test_cue_slots() -> None:
    assert Cue(0.0, "rep", "1").slot == "rep"
    assert Cue(0.0, "warning", "Too high", name="above_hip_line").slot == "warning:above_hip_line"


def test_tee_and_null_sinks() -> None:
    a, b = RecordingSink(), RecordingSink()
    with Cues(TeeSink(a, b, NullSink())) as cues:
        cues.rep(3, t_s=1.0)
    assert a.entries == b.entries == [(1.0, "rep", "3")]


# --- tones -------------------------------------------------------------------------------------


def test_synth_wav_is_a_valid_wav_of_the_right_length_and_pitch() -> None:
    spec = ToneSpec(((880.0, 0.1), (0.0, 0.05), (440.0, 0.2)))
    data = synth_wav(spec, sample_rate_hz=8000)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    n = 800 + 400 + 1600
    assert len(data) == 44 + 2 * n
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            1,
            2,
            8000,
            n,
        )
        pcm = np.frombuffer(w.readframes(n), dtype="<i2").astype(float)
    first = pcm[:800]
    spectrum = np.abs(np.fft.rfft(first))
    assert np.argmax(spectrum) * 8000 / 800 == pytest.approx(880.0, abs=10.0)
    assert np.all(pcm[800:1200] == 0)  # the gap is silent
    assert abs(pcm[0]) < 500 and abs(pcm[799]) < 500  # faded in and out: no clicks
    assert np.abs(pcm).max() <= 0.4 * 32767 + 1


def test_every_named_tone_synthesises() -> None:
    for name, spec in TONES.items():
        data = synth_wav(spec)
        assert data[:4] == b"RIFF", name
        assert len(data) == 44 + 2 * sum(round(d * 22050) for _, d in spec.segments)


# --- back-end selection and degradation -------------------------------------------------------


def test_no_player_anywhere_degrades_to_null(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.setattr(audio, "_terminal_stderr", lambda: None)
    assert find_backends() == []
    sink = open_sink()
    assert isinstance(sink, NullSink)
    Cues(sink).rep(1, t_s=0.0)  # does nothing, raises nothing
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    assert isinstance(open_sink("auto"), NullSink)
    assert isinstance(open_sink("bell"), NullSink)
    assert isinstance(open_sink("quiet"), NullSink)
    with pytest.raises(ConfigError):
        open_sink("loud")


def test_selection_order_speech_then_players_then_bell(tmp_path: Path) -> None:
    present = {"espeak": "/x/espeak", "say": "/x/say", "aplay": "/x/aplay", "paplay": "/x/paplay"}
    bell = io.StringIO()
    backends = find_backends(which=present.get, bell_stream=bell)
    assert [(b.name, b.role) for b in backends] == [
        ("espeak", "speech"),
        ("paplay", "tone"),
        ("aplay", "tone"),
        ("bell", "bell"),
    ]
    sink = open_sink("tones", which=present.get, bell_stream=bell)
    assert isinstance(sink, AudioSink)
    assert [b.role for b in sink.backends] == ["tone", "tone", "bell"]
    sink.close()


def test_player_that_cannot_start_is_disabled_once_and_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bell = io.StringIO()
    speech = SpeechBackend("espeak-ng", [str(tmp_path / "missing-espeak")])
    sink = AudioSink([speech, BellSink(bell)], drain_s=0)
    with caplog.at_level(logging.WARNING, logger="imu.live.audio"):
        cues = Cues(sink)
        cues.rep(1, t_s=1.0)
        assert wait_for(lambda: bell.getvalue() == "\a")  # the failed cue went to the bell
        cues.rep(2, t_s=2.0)
        assert sink.wait_idle(5.0)
        sink.close()
    assert not speech.available
    assert bell.getvalue() == "\a\a"
    disabled = [r for r in caplog.records if "disabled" in r.getMessage()]
    assert len(disabled) == 1 and "espeak-ng" in disabled[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


def test_failing_players_cascade_to_silence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # espeak-ng exits 0 but complains on stderr when there is no sound device
    say, say_log = fake_player(
        tmp_path,
        "espeak-ng",
        "echo 'ALSA lib pcm.c: Unknown PCM default' >&2; echo 'error: No such file' >&2",
    )
    play, play_log = fake_player(tmp_path, "aplay", "echo 'aplay: audio open error' >&2; exit 1")
    sink = AudioSink([SpeechBackend("espeak-ng", [str(say)]), ToneBackend("aplay", [str(play)])])
    with caplog.at_level(logging.WARNING, logger="imu.live.audio"):
        cues = Cues(sink)
        cues.rep(1, t_s=1.0)
        assert sink.wait_idle(5.0)
        assert sink.active == []
        cues.rep(2, t_s=2.0)
        cues.warning("momentum", t_s=2.0)
        sink.close()
    assert lines(say_log) == ["1"]
    assert len(lines(play_log)) == 1 and lines(play_log)[0].endswith("rep.wav")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("disabled" in m for m in messages) == 2
    assert sum("silent" in m for m in messages) == 1


def test_emit_never_waits_for_a_slow_player(tmp_path: Path) -> None:
    slow, _ = fake_player(tmp_path, "slow-speech", "sleep 0.5")
    sink = AudioSink([SpeechBackend("slow", [str(slow)])], drain_s=0)
    cues = Cues(sink)
    t0 = time.perf_counter()
    for i in range(1, 50):
        cues.rep(i, t_s=float(i))
        cues.warning("momentum", t_s=float(i))
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    sink.close()  # stops the utterance in flight
    assert elapsed < 0.2
    assert time.perf_counter() - t0 < 3.0


def test_no_backlog_newest_count_replaces_pending(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    script, log = fake_player(tmp_path, "speech", gated(gate))
    # a frozen clock: nothing goes stale however slow the machine is
    speech = SpeechBackend("speech", [str(script)], clock=lambda: 0.0)
    sink = AudioSink([speech])
    cues = Cues(sink)
    try:
        cues.rep(1, t_s=1.0)
        assert wait_for(lambda: lines(log) == ["1"])  # "one" is being spoken
        for n in (2, 3, 4):
            cues.rep(n, t_s=float(n))
        cues.warning("above_hip_line", t_s=4.1)
        cues.set_end(4, "3-0-2-1", t_s=9.0)
        gate.touch()
        assert sink.wait_idle(5.0)
    finally:
        sink.close()
    # warnings are most urgent, then the newest count; 2 and 3 were never spoken
    assert lines(log) == ["1", "Too high", "4", "Set done. 4 reps. Tempo 3 0 2 1."]
    assert speech.played == 4


def test_cue_that_waited_too_long_is_dropped(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    script, log = fake_player(tmp_path, "speech", gated(gate))
    now = [100.0]
    speech = SpeechBackend("speech", [str(script)], clock=lambda: now[0])
    sink = AudioSink([speech])
    cues = Cues(sink)
    try:
        cues.rep(1, t_s=1.0)
        assert wait_for(lambda: lines(log) == ["1"])
        cues.rep(2, t_s=2.0)
        now[0] += 5.0  # "two" waited 5 s: stale
        gate.touch()
        assert sink.wait_idle(5.0)
    finally:
        sink.close()
    assert lines(log) == ["1"]
    assert speech.dropped_stale == 1


def test_tone_player_gets_a_wav_file_and_metronome_prefers_tones(tmp_path: Path) -> None:
    play, play_log = fake_player(
        tmp_path, "player", f"head -c 4 \"$last\" >> '{tmp_path / 'player.magic'}'"
    )
    say, say_log = fake_player(tmp_path, "speech")
    tone = ToneBackend("player", [str(play)])
    sink = AudioSink([SpeechBackend("speech", [str(say)]), tone])
    try:
        m = Metronome(parse_tempo("3-0-2-1"), sink=sink)
        m.start(0.0)
        m.tick(0.0)
        Cues(sink).rep(1, t_s=0.5)
        assert sink.wait_idle(5.0)
    finally:
        sink.close()
    assert lines(say_log) == ["1"]
    assert [Path(p).name for p in lines(play_log)] == ["lift.wav"]
    assert (tmp_path / "player.magic").read_bytes() == b"RIFF"
    assert not Path(lines(play_log)[0]).exists()  # the tone cache is removed on close


def test_speech_only_machine_speaks_the_metronome() -> None:
    rec = RecordingSink()
    m = Metronome(parse_tempo("2-0-1-1"), sink=rec)
    m.start(0.0)
    for t in (0.0, 1.0, 2.0):
        m.tick(t)
    assert [(c.name, c.text) for c in rec.cues] == [
        ("lift", "up"),
        ("top", "hold"),
        ("lower", "down"),
    ]


# --- metronome ---------------------------------------------------------------------------------


def run_metronome(m: Metronome, times: np.ndarray) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for t in times:
        out += [(round(c.t_s, 6), c.name) for c in m.tick(float(t))]
    return out


def test_metronome_3_0_2_1_phase_cues_at_the_expected_recording_times() -> None:
    rec = RecordingSink()
    m = Metronome(parse_tempo("3-0-2-1"), sink=rec)
    assert m.cycle_s == 6.0
    assert m.tick(5.0) == []  # not started
    m.start(10.0)
    got = run_metronome(m, np.arange(10.0, 22.5, 0.01))
    assert got == [
        (10.0, "lift"),  # concentric 2 s
        (12.0, "top"),  # top hold 1 s
        (13.0, "lower"),  # eccentric 3 s, bottom 0 s: no bottom cue
        (16.0, "lift"),
        (18.0, "top"),
        (19.0, "lower"),
        (22.0, "lift"),
    ]
    assert [c.t_s for c in rec.cues] == [t for t, _ in got]
    assert {c.kind for c in rec.cues} == {"metronome"}
    tones = {c.name: c.tone for c in rec.cues}
    assert len(set(tones.values())) == 3 and all(t in TONES for t in tones.values())


def test_metronome_output_does_not_depend_on_tick_rate() -> None:
    tempo = parse_tempo("3-1-2-1")
    fine = Metronome(tempo)
    fine.start(0.0)
    coarse = Metronome(tempo)
    coarse.start(0.0)
    rng = np.random.default_rng(1)
    irregular = np.cumsum(rng.uniform(0.05, 0.9, size=200))
    irregular = irregular[irregular < 40.0]
    a = run_metronome(fine, np.arange(0.0, 40.0, 0.01))
    b = run_metronome(coarse, np.append(irregular, 40.0 - 0.01))
    assert a == b
    assert a[:5] == [(0.0, "lift"), (2.0, "top"), (3.0, "lower"), (6.0, "bottom"), (7.0, "lift")]


def test_metronome_second_ticks_and_restart() -> None:
    m = Metronome(parse_tempo("3-0-2-1"), second_ticks=True)
    m.start(0.0)
    got = run_metronome(m, np.arange(0.0, 6.0, 0.05))
    assert got == [
        (0.0, "lift"),
        (1.0, "second"),
        (2.0, "top"),
        (3.0, "lower"),
        (4.0, "second"),
        (5.0, "second"),
    ]
    m.start(100.0)  # re-sync to a new lift
    assert [c.name for c in m.tick(100.0)] == ["lift"]
    m.stop()
    assert m.tick(200.0) == [] and not m.running


def test_metronome_skips_cues_after_a_gap_instead_of_bursting() -> None:
    m = Metronome(parse_tempo("3-0-2-1"), max_late_s=1.0)
    m.start(0.0)
    assert [c.name for c in m.tick(0.0)] == ["lift"]
    late = m.tick(3600.5)  # an hour without data
    assert [(c.t_s, c.name) for c in late] == [(3600.0, "lift")]
    assert [c.name for c in m.tick(3602.0)] == ["top"]


def test_metronome_rejects_an_empty_cycle() -> None:
    with pytest.raises(ConfigError):
        Metronome(parse_tempo("0-0-0-0"))


def test_bell_sink_rings_for_events_not_for_every_beat() -> None:
    bell = io.StringIO()
    sink = BellSink(bell)
    cues = Cues(sink)
    cues.rep(1, t_s=0.0)
    m = cues.metronome(parse_tempo("3-0-2-1"))
    m.start(0.0)
    for t in range(7):
        m.tick(float(t))  # lift, top, lower, lift
    assert bell.getvalue() == "\a" * 3


def test_module_does_not_print(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sink = AudioSink([SpeechBackend("x", [str(tmp_path / "nope")])], drain_s=0)
    Cues(sink).rep(1, t_s=0.0)
    sink.wait_idle(5.0)
    sink.close()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.skipif(
    not os.environ.get("IMU_TEST_REAL_AUDIO"),
    reason="set IMU_TEST_REAL_AUDIO=1 to use real players",
)
def test_real_backends_never_raise() -> None:  # pragma: no cover - depends on the machine
    sink = open_sink("auto", drain_s=5.0)
    cues = Cues(sink)
    cues.rep(1, t_s=0.0)
    cues.set_end(1, "3-0-2-1", t_s=1.0)
    sink.close()


# --- withdrawn and late reps --------------------------------------------------------------------


def test_a_withdrawn_rep_says_so_with_the_new_count_and_its_own_tone() -> None:
    sink = RecordingSink()
    cues = Cues(sink)
    cues.rep(8, t_s=40.0)
    cue = cues.rep_cancelled(7, t_s=41.0, kind="rebound")
    cues.rep(5, t_s=42.0, late=True)
    cues.rep_cancelled(None, t_s=43.0)
    assert sink.entries[1:] == [
        (41.0, "rep_cancelled", "That one didn't count, 7"),
        (42.0, "rep", "That one counts, 5"),
        (43.0, "rep_cancelled", "That one didn't count"),
    ]
    assert cue.name == "rebound" and cue.tone == "rep_cancelled"
    others = [spec for name, spec in TONES.items() if name != "rep_cancelled"]
    assert TONES["rep_cancelled"] not in others
    # it takes the rep count's place in the queue: the newest says the count as it stands
    assert cue.slot == "rep"


def test_no_stale_count_waits_behind_a_withdrawal(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    say, say_log = fake_player(tmp_path, "speech", gated(gate))
    sink = AudioSink([SpeechBackend("speech", [str(say)])])
    try:
        cues = Cues(sink)
        cues.rep(1, t_s=0.0)  # playing, held by the gate
        assert wait_for(lambda: lines(say_log) == ["1"])
        cues.rep(2, t_s=1.0)  # waits …
        cues.rep_cancelled(1, t_s=1.1, kind="getting_on")  # … and is replaced
        gate.touch()
        assert sink.wait_idle(5.0)
    finally:
        sink.close()
    assert lines(say_log) == ["1", "That one didn't count, 1"]


class ScriptedDetector:
    """Stands in for the session's LiveDetector: each update returns the next scripted events
    and state."""

    def __init__(self, script: list[tuple[list[LiveEvent], DetectorState]]) -> None:
        self.script = script
        self.state = DetectorState()

    def update(self, *_: object) -> list[LiveEvent]:
        events, self.state = self.script.pop(0)
        return events

    def finish(self) -> list[LiveEvent]:
        return []


def test_the_session_cues_and_shows_a_withdrawal_and_a_late_rep(tmp_path: Path) -> None:
    reason = "getting on: started 84° from the set's bottom"
    withdrawn = f"rep 1 did not count: {reason}"
    busy = DetectorStatus(starting=False)
    script = [
        (
            [LiveEvent("set_start", 10.0, set_index=1)]
            + [LiveEvent("rep", 10.0 + k, set_index=1, rep_index=k) for k in (1, 2, 3)],
            DetectorState(ready=True, set_index=1, rep_count=3, in_set=True, status=busy),
        ),
        (
            [
                LiveEvent(
                    "rep_cancelled",
                    14.0,
                    set_index=1,
                    rep_index=1,
                    rep_count=2,
                    kind="getting_on",
                    detail=reason,
                )
            ],
            DetectorState(
                ready=True, set_index=1, rep_count=2, in_set=True, status=busy, withdrawn=withdrawn
            ),
        ),
        (
            [LiveEvent("rep", 15.0, set_index=1, rep_index=3, late=True)],
            DetectorState(ready=True, set_index=1, rep_count=3, in_set=True, status=busy),
        ),
    ]
    sink, out = RecordingSink(), io.StringIO()
    view = LiveView(console=Console(file=out, width=120), mode="plain")
    session = LiveSession(Settings(), sampling_rate_hz=100.0, cues=Cues(sink), view=view)
    session.detector = ScriptedDetector(script)  # type: ignore[assignment]
    block = (np.zeros(1), np.zeros((1, 3)), np.zeros((1, 3)))
    with session:
        for _ in range(3):
            session.feed(*block)
    spoken = [(kind, text) for _, kind, text in sink.entries if kind != "connection"]
    assert spoken == [
        ("set_start", "Set 1"),
        ("rep", "1"),
        ("rep", "2"),
        ("rep", "3"),
        ("rep_cancelled", "That one didn't count, 2"),
        ("rep", "That one counts, 3"),
    ]
    written = out.getvalue()
    assert f"set 1: {withdrawn} — now 2" in written
    assert "set 1 rep 3 counted late — now 3" in written
    assert view.state.late_rep == 3 and view.state.withdrawn is None


def test_a_real_withdrawal_is_spoken_and_shown(shared_dir: Path) -> None:
    """The independent simulator's session 3002: the detector withdraws a swing while getting
    on that it had counted; the cue and the view say so with the count that stands."""
    rec = read_recording(shared_dir / "datasets" / "sim-independent" / "indep_3002.csv")
    sink, out = RecordingSink(), io.StringIO()
    view = LiveView(console=Console(file=out, width=200), mode="plain")
    session = LiveSession(
        Settings(), sampling_rate_hz=rec.sample_rate_hz, cues=Cues(sink), view=view
    )
    with session:
        for i in range(0, rec.time_s.shape[0], 25):
            j = i + 25
            session.feed(rec.time_s[i:j], rec.acc_g[i:j], rec.gyro_dps[i:j])
    cancelled = [c for c in sink.cues if c.kind == "rep_cancelled"]
    assert cancelled, "the detector withdraws reps in this session"
    assert session.event_counts.get("rep_cancelled") == len(cancelled)
    assert all(
        c.tone == "rep_cancelled" and c.text.startswith("That one didn't count, ")
        for c in cancelled
    )
    shown = [line for line in out.getvalue().splitlines() if "did not count" in line]
    assert len(shown) == len(cancelled)
    for line, cue in zip(shown, cancelled, strict=True):
        assert line.endswith(f"— now {cue.text.rsplit(' ', 1)[1]}")
