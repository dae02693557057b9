"""Audio cues for someone lying face down: spoken counts and warnings, metronome tones.

Nobody on a reverse-hyper bench reads a screen, so the live path talks. Three layers:

* :class:`Cues` turns coaching events (a rep, a warning, the end of a set, …) into :class:`Cue`
  objects — what to say, which tone to play, how urgent, how soon it goes stale — stamped with the
  **recording time** (``t_s``) they were issued at. :class:`Metronome` does the same for a target
  tempo, driven by the recording time passed to :meth:`Metronome.tick`, never by wall-clock sleeps,
  so replays at any speed and tests are deterministic.
* A :class:`Sink` receives the cues: :class:`NullSink` (``--quiet``), :class:`RecordingSink`
  (in memory, for tests and ``--speed 0`` replays), :class:`BellSink` (terminal bell) or
  :class:`AudioSink`, which routes every cue to the first working back-end.
* Back-ends: speech through ``espeak-ng``/``espeak``/``say``, tones synthesised with numpy
  (:func:`synth_wav`) and played through ``pw-play``/``paplay``/``aplay``/``afplay``, the terminal
  bell last. Each external back-end runs its commands on its own worker thread, so :meth:`Sink.emit`
  never waits for audio; at most one cue per *slot* (a rep count, each warning kind, the metronome)
  waits behind the one playing — a newer rep count replaces a pending one, and a cue that waited
  longer than its ``max_delay_s`` is dropped: a backlog of stale counts is worse than silence.

A back-end that cannot start, exits with an error or reports an audio error (no sound device) is
marked unavailable once, with a ``logging`` warning, and its cues go to the next back-end. Nothing
here raises because audio failed.

:func:`open_sink` picks the back-ends present on this machine (``mode="auto"``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Protocol

import numpy as np

from imu.errors import ConfigError
from imu.settings import Tempo
from imu.vocabulary import Connection, FlagName

__all__ = [
    "METRONOME_PHASES",
    "TONES",
    "AudioSink",
    "BellSink",
    "Cue",
    "Cues",
    "Metronome",
    "NullSink",
    "RecordingSink",
    "Sink",
    "SpeechBackend",
    "TeeSink",
    "ToneBackend",
    "ToneSpec",
    "find_backends",
    "open_sink",
    "synth_wav",
]

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ: Final = 22050

# ---------------------------------------------------------------------------------------------
# Cues


@dataclass(frozen=True)
class Cue:
    """One thing to say or play, stamped with the recording time it was issued at."""

    t_s: float  #: recording time (``time_s`` base) when the cue was issued, s
    #: ``rep``, ``rep_cancelled``, ``warning``, ``set_start``, ``set_end``, ``connection``,
    #: ``metronome``
    kind: str
    text: str  #: words to speak ("" = nothing to say)
    name: str = ""  #: warning kind, connection state or metronome phase
    tone: str = ""  #: key into :data:`TONES` for tone back-ends ("" = no tone)
    priority: int = 0  #: higher plays first when several cues wait
    #: drop the cue if it waited longer than this (wall clock) before playing, s; None = never
    max_delay_s: float | None = None

    @property
    def slot(self) -> str:
        """At most one cue per slot waits for playback; a newer one replaces it. A withdrawal
        shares the rep count's slot: whichever is newer says the count as it stands."""
        if self.kind == "warning":
            return f"warning:{self.name}"
        return "rep" if self.kind == "rep_cancelled" else self.kind


#: spoken text of each warning kind (unknown kinds are spoken with spaces for underscores)
WARNING_TEXT: Final[dict[FlagName, str]] = {
    "above_hip_line": "Too high",
    "momentum": "No swinging",
    "drop": "Lower slowly",
    "no_hold": "Hold the top",
    "partial": "Lift higher",
    "rest_at_bottom": "Keep going",
}

CONNECTION_TEXT: Final[dict[Connection, str]] = {
    "searching": "Looking for the sensor",
    "connecting": "Connecting",
    "connected": "Sensor connected",
    "reconnecting": "Sensor lost, reconnecting",
    "disconnected": "Sensor disconnected",
}

_PRIORITY: Final[dict[str, int]] = {
    "metronome": 50,
    "warning": 40,
    "rep_cancelled": 30,
    "rep": 30,
    "set_end": 20,
    "set_start": 15,
    "connection": 10,
}

_MAX_DELAY_S: Final[dict[str, float | None]] = {
    "metronome": 0.25,
    "warning": 1.5,
    "rep": 1.5,
    "rep_cancelled": 2.5,
    "set_start": 3.0,
    "set_end": 10.0,
    "connection": 5.0,
}


def _cue(t_s: float, kind: str, text: str, *, name: str = "", tone: str = "") -> Cue:
    return Cue(
        t_s=float(t_s),
        kind=kind,
        text=text,
        name=name,
        tone=tone,
        priority=_PRIORITY.get(kind, 0),
        max_delay_s=_MAX_DELAY_S.get(kind),
    )


class Sink(Protocol):
    """Where cues go. ``emit`` never blocks on audio and never raises because audio failed."""

    def emit(self, cue: Cue) -> None: ...

    def close(self) -> None: ...


class Cues:
    """Coaching events → cues on a sink. Every method takes the recording time ``t_s``.

    Returns the cue it emitted, or ``None`` when it stayed silent on purpose (a warning repeated
    within ``warning_repeat_s`` of recording time, an unchanged connection state).
    """

    def __init__(self, sink: Sink | None = None, *, warning_repeat_s: float = 2.0) -> None:
        self.sink: Sink = NullSink() if sink is None else sink
        #: the same warning kind within this much recording time is not repeated, s (0 = always)
        self.warning_repeat_s = warning_repeat_s
        self._last_warning_s: dict[FlagName, float] = {}
        self._connection: Connection | None = None

    def _emit(self, cue: Cue) -> Cue:
        self.sink.emit(cue)
        return cue

    def set_start(self, *, t_s: float, set_index: int | None = None) -> Cue:
        text = "Go" if set_index is None else f"Set {set_index}"
        return self._emit(_cue(t_s, "set_start", text, tone="set_start"))

    def rep(self, count: int, *, t_s: float, late: bool = False) -> Cue:
        """The rep count, spoken as a number (counted at the top of the rep). ``late``: a rep
        counted after its top, once its set showed it was one — "That one counts, 5"."""
        n = int(count)
        text = f"That one counts, {n}" if late else str(n)
        return self._emit(_cue(t_s, "rep", text, name=str(n), tone="rep"))

    def rep_cancelled(self, count: int | None, *, t_s: float, kind: str = "") -> Cue:
        """A counted rep was withdrawn (``kind``: why, e.g. ``rebound``); says the set's count
        after it — "That one didn't count, 7" — with a tone of its own."""
        text = "That one didn't count" + ("" if count is None else f", {int(count)}")
        return self._emit(_cue(t_s, "rep_cancelled", text, name=kind, tone="rep_cancelled"))

    def warning(self, kind: FlagName, *, t_s: float) -> Cue | None:
        """A form warning: ``above_hip_line``, ``momentum``, ``drop``, ``no_hold``, …"""
        last = self._last_warning_s.get(kind)
        if last is not None and self.warning_repeat_s > 0 and t_s - last < self.warning_repeat_s:
            return None
        self._last_warning_s[kind] = t_s
        text = WARNING_TEXT.get(kind, kind.replace("_", " ").capitalize())
        return self._emit(_cue(t_s, "warning", text, name=kind, tone="warning"))

    def set_end(
        self, rep_count: int, tempo: str | Tempo | None, *, t_s: float, set_index: int | None = None
    ) -> Cue:
        """The set's summary: rep count and tempo (``"3-0-2-1"`` is said "three zero two one")."""
        n = int(rep_count)
        words = [f"Set {set_index} done." if set_index is not None else "Set done."]
        words.append(f"{n} rep." if n == 1 else f"{n} reps.")
        tempo_text = str(tempo).strip() if tempo is not None else ""
        if tempo_text:
            words.append("Tempo " + " ".join(tempo_text.replace(":", "-").split("-")) + ".")
        return self._emit(_cue(t_s, "set_end", " ".join(words), name=str(n), tone="set_end"))

    def connection(self, state: Connection, *, t_s: float) -> Cue | None:
        """Sensor connection state; only changes are announced."""
        if state == self._connection:
            return None
        self._connection = state
        text = CONNECTION_TEXT.get(state, f"Sensor {state.replace('_', ' ')}")
        tone = "connected" if state == "connected" else "disconnected"
        return self._emit(_cue(t_s, "connection", text, name=state, tone=tone))

    def metronome(self, tempo: Tempo, *, second_ticks: bool = False) -> Metronome:
        """A :class:`Metronome` emitting on the same sink."""
        return Metronome(tempo, sink=self.sink, second_ticks=second_ticks)

    def close(self) -> None:
        self.sink.close()

    def __enter__(self) -> Cues:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# Metronome

#: a rep's phases in the order they happen, with the spoken fallback for each phase's tone
METRONOME_PHASES: Final[tuple[tuple[str, str], ...]] = (
    ("lift", "up"),  # concentric starts: high beep
    ("top", "hold"),  # top hold starts: double mid beep
    ("lower", "down"),  # eccentric starts: low tone
    ("bottom", "pause"),  # bottom pause starts: very low click
)
_WORDS: Final = dict(METRONOME_PHASES)


class Metronome:
    """Paces a target tempo with a distinct cue at the start of each phase.

    A cycle is lift (concentric) → top hold → lower (eccentric) → bottom pause, starting with the
    lift at :meth:`start`'s ``t_s``. Phases of 0 s get no cue of their own, except the lift, which
    always sounds. With ``second_ticks`` a soft tick marks every whole second inside a phase.

    :meth:`tick` emits every cue scheduled at or before the recording time it is given; each cue's
    ``t_s`` is its *scheduled* time, so the output does not depend on how often ``tick`` is called.
    Cues more than ``max_late_s`` behind the tick time (after a data gap) are skipped, not played in
    a burst (0 = never skip).
    """

    def __init__(
        self,
        tempo: Tempo,
        *,
        sink: Sink | None = None,
        second_ticks: bool = False,
        max_late_s: float = 1.0,
    ) -> None:
        durations = tempo.as_tuple()
        if any(not math.isfinite(d) or d < 0 for d in durations) or sum(durations) <= 0:
            raise ConfigError(f"tempo {tempo}: a metronome needs a cycle longer than 0 s")
        self.tempo = tempo
        self.sink = sink
        self.second_ticks = second_ticks
        self.max_late_s = max_late_s
        self._start_s: float | None = None
        self._cycle = 0
        self._index = 0

    @property
    def cycle_s(self) -> float:
        """Length of one rep at the target tempo, s."""
        return float(sum(self.tempo.as_tuple()))

    @property
    def running(self) -> bool:
        return self._start_s is not None

    def offsets(self) -> list[tuple[float, str]]:
        """The cues of one cycle: ``(offset_s from the lift, name)``, sorted."""
        t = self.tempo
        phases = (
            ("lift", t.concentric_s),
            ("top", t.top_hold_s),
            ("lower", t.eccentric_s),
            ("bottom", t.bottom_pause_s),
        )
        out: list[tuple[float, str]] = []
        start = 0.0
        for name, duration in phases:
            if duration > 0 or name == "lift":
                out.append((start, name))
            if self.second_ticks:
                k = 1
                while k < duration - 1e-9:
                    out.append((start + k, "second"))
                    k += 1
            start += duration
        return out

    def start(self, t_s: float) -> None:
        """Start (or restart) the cycle with a lift cue at recording time ``t_s``."""
        self._start_s = float(t_s)
        self._cycle = 0
        self._index = 0

    def stop(self) -> None:
        self._start_s = None

    def _time_of(self, cycle: int, index: int, offsets: Sequence[tuple[float, str]]) -> float:
        assert self._start_s is not None
        return self._start_s + cycle * self.cycle_s + offsets[index][0]

    def tick(self, t_s: float) -> list[Cue]:
        """Emit (and return) the cues due by recording time ``t_s``."""
        if self._start_s is None:
            return []
        offsets = self.offsets()
        cycle_s = self.cycle_s
        if self.max_late_s > 0:
            # jump over whole cycles that are entirely too late (a long gap in the data)
            skip_to = math.floor((t_s - self.max_late_s - self._start_s) / cycle_s)
            if skip_to > self._cycle:
                self._cycle, self._index = skip_to, 0
        out: list[Cue] = []
        while self._time_of(self._cycle, self._index, offsets) <= t_s + 1e-9:
            when = self._time_of(self._cycle, self._index, offsets)
            name = offsets[self._index][1]
            self._index += 1
            if self._index == len(offsets):
                self._cycle, self._index = self._cycle + 1, 0
            if self.max_late_s > 0 and t_s - when > self.max_late_s:
                continue
            cue = _cue(when, "metronome", _WORDS.get(name, ""), name=name, tone=name)
            out.append(cue)
            if self.sink is not None:
                self.sink.emit(cue)
        return out


# ---------------------------------------------------------------------------------------------
# Tones


@dataclass(frozen=True)
class ToneSpec:
    """A short tone pattern: ``(frequency_hz, duration_s)`` segments (0 Hz = silence)."""

    segments: tuple[tuple[float, float], ...]
    #: relative amplitudes of the 1st, 2nd, 3rd … harmonic (a buzz has odd harmonics)
    harmonics: tuple[float, ...] = (1.0,)

    @property
    def duration_s(self) -> float:
        return float(sum(d for _, d in self.segments))


TONES: Final[dict[str, ToneSpec]] = {
    # metronome: high beep to lift, double mid beep at the top, low tone to lower, low click
    "lift": ToneSpec(((1320.0, 0.12),)),
    "top": ToneSpec(((880.0, 0.07), (0.0, 0.05), (880.0, 0.07))),
    "lower": ToneSpec(((392.0, 0.25),)),
    "bottom": ToneSpec(((262.0, 0.08),)),
    "second": ToneSpec(((1760.0, 0.015),)),
    # events, when there is no speech
    "rep": ToneSpec(((988.0, 0.07), (1319.0, 0.12))),
    # a rep withdrawn: "uh-oh", a falling fourth, low and softly buzzing
    "rep_cancelled": ToneSpec(((659.0, 0.1), (0.0, 0.04), (494.0, 0.24)), (1.0, 0.0, 0.3)),
    "warning": ToneSpec(((196.0, 0.14), (0.0, 0.05), (196.0, 0.14)), (1.0, 0.0, 0.4, 0.0, 0.2)),
    "set_start": ToneSpec(((523.0, 0.08), (659.0, 0.08), (784.0, 0.14))),
    "set_end": ToneSpec(((784.0, 0.08), (659.0, 0.08), (523.0, 0.2))),
    "connected": ToneSpec(((659.0, 0.06), (988.0, 0.1))),
    "disconnected": ToneSpec(((988.0, 0.06), (659.0, 0.1))),
}


def synth_wav(
    spec: ToneSpec,
    *,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    volume: float = 0.4,
    fade_s: float = 0.004,
) -> bytes:
    """A mono 16-bit PCM WAV file (as bytes) of the tone pattern, with short fades (no clicks)."""
    if sample_rate_hz <= 0:
        raise ValueError("sample_rate_hz must be positive")
    harmonics = np.asarray(spec.harmonics, dtype=np.float64)
    norm = float(np.abs(harmonics).sum()) or 1.0
    parts: list[np.ndarray] = []
    for freq_hz, duration_s in spec.segments:
        n = max(0, round(duration_s * sample_rate_hz))
        if freq_hz <= 0 or n == 0:
            parts.append(np.zeros(n))
            continue
        t = np.arange(n) / sample_rate_hz
        k = np.arange(1, harmonics.size + 1)[:, None]
        wave_ = (harmonics[:, None] * np.sin(2 * np.pi * freq_hz * k * t)).sum(axis=0) / norm
        n_fade = min(round(fade_s * sample_rate_hz), n // 2)
        if n_fade > 0:
            ramp = np.linspace(0.0, 1.0, n_fade, endpoint=False)
            wave_[:n_fade] *= ramp
            wave_[n - n_fade :] *= ramp[::-1]
        parts.append(wave_)
    samples = np.concatenate(parts) if parts else np.zeros(0)
    pcm = np.round(np.clip(samples * volume, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Sinks without external processes


class NullSink:
    """Does nothing (``--quiet``)."""

    name = "null"

    def emit(self, cue: Cue) -> None:
        pass

    def close(self) -> None:
        pass


class RecordingSink:
    """Keeps every cue in memory, in order (tests, ``--speed 0`` replays)."""

    name = "recording"

    def __init__(self) -> None:
        self.cues: list[Cue] = []

    def emit(self, cue: Cue) -> None:
        self.cues.append(cue)

    @property
    def entries(self) -> list[tuple[float, str, str]]:
        """``(t_s, kind, text)`` for every cue."""
        return [(c.t_s, c.kind, c.text) for c in self.cues]

    def close(self) -> None:
        pass


class TeeSink:
    """Sends every cue to several sinks (e.g. audio and a :class:`RecordingSink`)."""

    name = "tee"

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def emit(self, cue: Cue) -> None:
        for s in self.sinks:
            s.emit(cue)

    def close(self) -> None:
        for s in self.sinks:
            s.close()


class BellSink:
    """The terminal bell: one ``BEL`` per event cue (metronome: only the lift). Last resort."""

    name = "bell"
    role = "bell"

    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream
        self.on_failure: Callable[[Cue], None] | None = None
        self._available = stream is not None

    @property
    def available(self) -> bool:
        return self._available

    def accepts(self, cue: Cue) -> bool:
        return cue.kind != "metronome" or cue.name == "lift"

    def submit(self, cue: Cue) -> None:
        if not self._available or self.stream is None or not self.accepts(cue):
            return
        try:
            self.stream.write("\a")
            self.stream.flush()
        except (OSError, ValueError) as exc:
            self._available = False
            log.warning("audio: terminal bell disabled (%s)", exc)

    emit = submit

    def wait_idle(self, timeout_s: float) -> bool:
        return True

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Back-ends running an external command per cue


class Backend(Protocol):
    """One way to make a cue audible; :class:`AudioSink` chains several."""

    name: str
    role: str  #: ``speech``, ``tone`` or ``bell``
    on_failure: Callable[[Cue], None] | None

    @property
    def available(self) -> bool: ...

    def accepts(self, cue: Cue) -> bool: ...

    def submit(self, cue: Cue) -> None: ...

    def wait_idle(self, timeout_s: float) -> bool: ...

    def close(self) -> None: ...


class _ProcessBackend:
    """Runs one external command per cue on a lazily started worker thread.

    At most one cue per slot waits while a command runs; the highest priority plays next. A command
    that cannot start, fails or times out disables the back-end (logged once) and hands its waiting
    cues to ``on_failure``.
    """

    role = "process"

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.timeout_s = timeout_s
        self.on_failure: Callable[[Cue], None] | None = None
        self.played: int = 0  #: commands that ran to completion
        self.dropped_stale: int = 0  #: cues dropped because they waited too long
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[Cue, float]] = {}
        self._available = True
        self._closing = False
        self._busy = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    # subclasses
    def accepts(self, cue: Cue) -> bool:
        raise NotImplementedError

    def _command(self, cue: Cue) -> list[str]:
        raise NotImplementedError

    def _output_failed(self, returncode: int, stderr: str) -> bool:
        return returncode != 0

    def _cleanup(self) -> None:
        pass

    @property
    def available(self) -> bool:
        return self._available

    def submit(self, cue: Cue) -> None:
        """Queue the cue (replacing a pending cue of the same slot); never blocks on audio."""
        with self._cond:
            if not self._available or self._closing:
                return
            self._pending[cue.slot] = (cue, self._clock())
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"imu-audio-{self.name}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing plays or waits (tests, end of a session). True if idle."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        """Stop now: drop waiting cues, stop the command playing, end the worker."""
        with self._cond:
            self._closing = True
            self._pending.clear()
            proc = self._proc
            self._cond.notify_all()
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._cleanup()

    def _next(self) -> tuple[Cue, float] | None:
        with self._cond:
            while not self._pending and not self._closing and self._available:
                self._cond.wait()
            if self._closing or not self._available:
                return None
            slot = max(
                self._pending,
                key=lambda s: (self._pending[s][0].priority, -self._pending[s][1]),
            )
            self._busy = True
            return self._pending.pop(slot)

    def _run(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            cue, queued_at = item
            try:
                waited = self._clock() - queued_at
                if cue.max_delay_s is not None and waited > cue.max_delay_s:
                    self.dropped_stale += 1
                    log.debug(
                        "audio: %s dropped stale %s cue (%.2f s late)", self.name, cue.kind, waited
                    )
                else:
                    self._play(cue)
            except Exception as exc:  # never let audio kill anything
                self._fail(f"unexpected error: {exc}", cue)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _play(self, cue: Cue) -> None:
        try:
            argv = self._command(cue)
        except OSError as exc:
            self._fail(f"could not prepare the sound: {exc}", cue)
            return
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except (OSError, ValueError) as exc:
            self._fail(f"could not start {argv[0]}: {exc}", cue)
            return
        with self._cond:
            self._proc = proc
            closing = self._closing
        if closing:
            proc.kill()
        try:
            _, err_bytes = proc.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self._fail(f"{argv[0]} did not finish within {self.timeout_s:g} s", cue)
            return
        finally:
            with self._cond:
                self._proc = None
                closing = self._closing
        if closing:
            return
        err = err_bytes.decode("utf-8", "replace").strip()
        if self._output_failed(proc.returncode, err):
            last = err.splitlines()[-1] if err else ""
            status = f"exit status {proc.returncode}" if proc.returncode else "reported"
            self._fail(f"{argv[0]} failed ({status}{': ' + last if last else ''})", cue)
            return
        self.played += 1

    def _fail(self, reason: str, cue: Cue) -> None:
        with self._cond:
            if not self._available:
                return
            self._available = False
            handed_over = [cue, *(c for c, _ in self._pending.values())]
            self._pending.clear()
            self._cond.notify_all()
        log.warning("audio: %s disabled (%s); falling back", self.name, reason)
        if self.on_failure is not None:
            for c in handed_over:
                try:
                    self.on_failure(c)
                except Exception:  # pragma: no cover - a fallback must not kill the worker
                    log.debug("audio: fallback failed", exc_info=True)


class SpeechBackend(_ProcessBackend):
    """Speaks ``cue.text`` with a text-to-speech command (``espeak-ng``, ``espeak``, ``say``)."""

    role = "speech"

    def accepts(self, cue: Cue) -> bool:
        return bool(cue.text)

    def _command(self, cue: Cue) -> list[str]:
        return [*self.argv, cue.text]

    def _output_failed(self, returncode: int, stderr: str) -> bool:
        # espeak-ng exits 0 when it cannot open the sound device but prints ALSA/PCM errors
        return returncode != 0 or "error" in stderr.lower()


class ToneBackend(_ProcessBackend):
    """Plays the cue's tone, synthesised into a cached WAV file, with a sound player command."""

    role = "tone"

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        volume: float = 0.4,
    ) -> None:
        super().__init__(name, argv, timeout_s=timeout_s, clock=clock)
        self.volume = volume
        self._dir: Path | None = None
        self._files: dict[str, Path] = {}

    def accepts(self, cue: Cue) -> bool:
        return cue.tone in TONES

    def _command(self, cue: Cue) -> list[str]:
        return [*self.argv, str(self._tone_file(cue.tone))]

    def _tone_file(self, tone: str) -> Path:
        path = self._files.get(tone)
        if path is None:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="imu-tones-"))
            path = self._dir / f"{tone}.wav"
            path.write_bytes(synth_wav(TONES[tone], volume=self.volume))
            self._files[tone] = path
        return path

    def _cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._files.clear()


# ---------------------------------------------------------------------------------------------
# Routing and selection


class AudioSink:
    """Routes each cue to the first available back-end that can render it.

    Metronome cues prefer tones (then speech, then the bell); everything else prefers speech (then
    a tone pattern, then the bell). When a back-end fails, the cues it held are routed again.
    """

    name = "audio"

    def __init__(self, backends: Sequence[Backend], *, drain_s: float = 3.0) -> None:
        self.backends = tuple(backends)
        #: on close, wait this long for the last cue (e.g. the set summary) to finish, s
        self.drain_s = drain_s
        self._silent_logged = False
        for b in self.backends:
            b.on_failure = self.emit

    @property
    def active(self) -> list[str]:
        """Names of the back-ends still available."""
        return [b.name for b in self.backends if b.available]

    def _order(self, cue: Cue) -> list[Backend]:
        roles = (
            ("tone", "speech", "bell") if cue.kind == "metronome" else ("speech", "tone", "bell")
        )
        return [b for role in roles for b in self.backends if b.role == role]

    def emit(self, cue: Cue) -> None:
        for b in self._order(cue):
            if b.available and b.accepts(cue):
                b.submit(cue)
                return
        if not self._silent_logged and not any(b.available for b in self.backends):
            self._silent_logged = True
            log.warning("audio: no working sound output left; cues are silent")

    def wait_idle(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        return all(b.wait_idle(max(0.0, deadline - time.monotonic())) for b in self.backends)

    def close(self) -> None:
        if self.drain_s > 0:
            self.wait_idle(self.drain_s)
        for b in self.backends:
            b.close()


#: text-to-speech commands, best first: (executable, arguments before the text)
SPEECH_COMMANDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("espeak-ng", ("-s", "175")),
    ("espeak", ("-s", "175")),
    ("say", ()),
)
#: sound players, best first: (executable, arguments before the WAV file)
PLAYER_COMMANDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("pw-play", ()),
    ("paplay", ()),
    ("aplay", ("-q",)),
    ("afplay", ()),
)

MODES: Final = ("auto", "quiet", "speech", "tones", "bell")


def find_backends(
    *,
    speech: bool = True,
    tones: bool = True,
    bell_stream: IO[str] | None = None,
    which: Callable[[str], str | None] | None = None,
) -> list[Backend]:
    """The back-ends this machine has: the first speech command, every sound player, the bell.

    Nothing is started; a back-end that turns out not to work disables itself on first use.
    """
    which_ = shutil.which if which is None else which
    found: list[Backend] = []
    if speech:
        for exe, args in SPEECH_COMMANDS:
            path = which_(exe)
            if path:
                found.append(SpeechBackend(exe, [path, *args]))
                break
    if tones:
        for exe, args in PLAYER_COMMANDS:
            path = which_(exe)
            if path:
                found.append(ToneBackend(exe, [path, *args]))
    if bell_stream is not None:
        found.append(BellSink(bell_stream))
    return found


def _terminal_stderr() -> IO[str] | None:
    stream = sys.__stderr__
    try:
        return stream if stream is not None and stream.isatty() else None
    except (OSError, ValueError):
        return None


def open_sink(
    mode: str = "auto",
    *,
    bell_stream: IO[str] | None = None,
    which: Callable[[str], str | None] | None = None,
    drain_s: float = 3.0,
) -> Sink:
    """The sink for ``mode``: ``auto`` (speech, tones, bell — whatever works), ``speech``,
    ``tones``, ``bell`` or ``quiet``. Degrades to a :class:`NullSink`, never raises for lack of
    sound. ``bell_stream`` defaults to the process's stderr when it is a terminal.
    """
    if mode not in MODES:
        raise ConfigError(f"audio mode {mode!r}: choose one of {', '.join(MODES)}")
    if mode == "quiet":
        return NullSink()
    bell = bell_stream if bell_stream is not None else _terminal_stderr()
    if mode == "bell":
        return BellSink(bell) if bell is not None else NullSink()
    backends = find_backends(
        speech=mode in ("auto", "speech"),
        tones=mode in ("auto", "tones"),
        bell_stream=bell,
        which=which,
    )
    if not backends:
        log.info(
            "audio: no speech command (%s), sound player (%s) or terminal; cues are silent",
            "/".join(e for e, _ in SPEECH_COMMANDS),
            "/".join(e for e, _ in PLAYER_COMMANDS),
        )
        return NullSink()
    log.debug("audio: back-ends %s", ", ".join(b.name for b in backends))
    return AudioSink(backends, drain_s=drain_s)
