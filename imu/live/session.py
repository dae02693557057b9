"""The live loop shared by ``imu replay`` and ``imu record``: blocks of samples in; the view, the
audio cues and ``events.jsonl`` out.

A *source* is any iterator — synchronous or ``async`` — of blocks ``(time_s, acc_g, gyro_dps)``
(shapes ``(n,)``, ``(n, 3)``, ``(n, 3)``; seconds, g, °/s, sensor axes). :meth:`LiveSession.run`
feeds each block to one :class:`~imu.live.detector.LiveDetector`, turns its events into cues
(:class:`~imu.live.audio.Cues`) and view snapshots (:class:`~imu.live.view.LiveView`), and writes
every event as one JSON line (contracts §4) as soon as it fires. A source that knows more than
samples — a BLE link's connection state, lost and malformed packets — calls
:meth:`LiveSession.on_status` whenever that changes.

:func:`replay_blocks` is the source for a recording: blocks of ``chunk_samples`` paced at
``speed`` × real time by the recording's own clock (``speed = 0``: as fast as possible). The
detector's events depend on neither.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from imu.live.audio import Cues, Metronome
from imu.live.detector import LiveDetector, LiveEvent
from imu.live.view import LiveState, LiveView, PhaseTimes, WarningNote
from imu.recording import Recording, find_gaps
from imu.settings import Settings
from imu.vocabulary import Connection, is_warning

__all__ = ["Block", "BlockSource", "LiveSession", "SourceStatus", "replay_blocks"]

FloatArray = npt.NDArray[np.float64]
#: one block of samples: ``(time_s, acc_g, gyro_dps)``
Block = tuple[FloatArray, FloatArray, FloatArray]
BlockSource = Iterable[Block] | AsyncIterable[Block]

#: the view keeps this many recent warnings
_MAX_WARNINGS = 20
#: the measured sample rate is averaged over this much recording time, s
_RATE_WINDOW_S = 5.0


@dataclass(frozen=True)
class SourceStatus:
    """What a source knows beyond the samples (a BLE link; a replay is always ``replay``)."""

    connection: Connection = "replay"  #: as :attr:`imu.live.view.LiveState.connection`
    device: str = ""
    profile: str = ""
    samples_lost: int = 0  #: lost samples the source counted (sequence numbers), if it can
    malformed: int = 0
    reconnects: int = 0
    message: str = ""
    output_path: str | None = None  #: where the recording is being written


class LiveSession:
    """One live run: a detector, its view and cues, and the ``events.jsonl`` it writes.

    Use as a context manager (or call :meth:`close`); ``view`` and ``cues`` are optional, and
    so is ``events_path``. The session does not enter or close the view or the cues' sink: the
    caller owns them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sampling_rate_hz: float,
        view: LiveView | None = None,
        cues: Cues | None = None,
        events_path: str | os.PathLike[str] | None = None,
        status: SourceStatus | None = None,
    ) -> None:
        settings.check_sampling_rate(sampling_rate_hz)
        self.settings = settings
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.detector = LiveDetector(settings, sampling_rate_hz=sampling_rate_hz)
        self.view = view
        self.cues = cues
        self.status = status if status is not None else SourceStatus()
        self.events_path = None if events_path is None else Path(events_path)
        self._file: IO[str] | None = None
        if self.events_path is not None:
            self.events_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.events_path.open("w", encoding="utf-8")
        self.events_written = 0
        self.event_counts: dict[str, int] = {}
        self._metronome: Metronome | None = None
        tempo = settings.tempo
        if cues is not None and tempo is not None and sum(tempo.as_tuple()) > 0:
            self._metronome = cues.metronome(tempo)
        self._warnings: deque[WarningNote] = deque(maxlen=_MAX_WARNINGS)
        self._late_rep: int | None = None  # the last rep, when it was counted late
        self._withdrawals: tuple[tuple[int, str, int], ...] = ()  # those of the last block
        self._recent: deque[tuple[float, int]] = deque()  # (last time of a block, its samples)
        self._lost = 0
        self._last_t: float | None = None
        self._t0: float | None = None
        self._finished = False
        self._closed = False
        if self.cues is not None:
            self.cues.connection(self.status.connection, t_s=0.0)
        self._show()

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray) -> list[LiveEvent]:
        """One block of samples: detect, speak, show, write. Returns the events."""
        t = np.asarray(time_s, dtype=np.float64).reshape(-1)
        if t.shape[0] == 0:
            return []
        self._count_samples(t)
        events = self.detector.update(t, acc_g, gyro_dps)
        self._handle(events)
        if self._metronome is not None:
            self._metronome.tick(float(t[-1]))
        self._show()
        self._withdrawals = ()  # shown once
        return events

    def note(self, record: Mapping[str, Any]) -> None:
        """Write one more line to ``events.jsonl`` in firing order, beside the detector's events
        — e.g. a ``gap`` the source reports (``record`` needs an ``event`` key)."""
        self._count_event(str(record.get("event", "")))
        if self._file is not None:
            self._file.write(json.dumps(dict(record), ensure_ascii=False) + "\n")
            self.events_written += 1
            self._file.flush()

    def on_status(self, status: SourceStatus) -> None:
        """The source's connection state or counters changed."""
        self.status = status
        if self.cues is not None:
            self.cues.connection(status.connection, t_s=self._last_t or 0.0)
        self._show()

    def finish(self) -> list[LiveEvent]:
        """The source ended: announce what is still open (once)."""
        if self._finished:
            return []
        self._finished = True
        events = self.detector.finish()
        self._handle(events)
        self._show()
        return events

    async def run(self, source: BlockSource) -> None:
        """Feed every block of ``source`` (sync or async), then :meth:`finish`."""
        if isinstance(source, AsyncIterable):
            async for block in source:
                self.feed(*block)
        else:
            for block in source:
                self.feed(*block)
                await asyncio.sleep(0)  # let other tasks (the view, the BLE link) run
        self.finish()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.finish()
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _count_samples(self, t: FloatArray) -> None:
        joined = t if self._last_t is None else np.concatenate(([self._last_t], t))
        gaps = find_gaps(joined, sampling_rate_hz=self.sampling_rate_hz)
        self._lost += sum(g.missing_samples for g in gaps)
        if self._t0 is None:
            self._t0 = float(t[0])
        self._last_t = float(t[-1])
        self._recent.append((self._last_t, t.shape[0]))
        while len(self._recent) > 2 and self._recent[1][0] < self._last_t - _RATE_WINDOW_S:
            self._recent.popleft()

    def _measured_rate(self) -> float | None:
        if len(self._recent) < 2:
            return None
        span = self._recent[-1][0] - self._recent[0][0]
        samples = sum(n for _, n in list(self._recent)[1:])
        return samples / span if span > 0 else None

    def _count_event(self, name: str) -> None:
        self.event_counts[name] = self.event_counts.get(name, 0) + 1

    def _handle(self, events: list[LiveEvent]) -> None:
        self._withdrawals = tuple(
            (e.set_index or 0, e.withdrawal, e.rep_count or 0)
            for e in events
            if e.event == "rep_cancelled"
        )
        for e in events:
            self._count_event(e.event)
            if self._file is not None:
                self._file.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
                self.events_written += 1
            if is_warning(e.event):
                self._warnings.append(WarningNote(e.t_s, e.event, _warning_detail(e)))
            self._speak(e)
        if events and self._file is not None:
            self._file.flush()

    def _speak(self, e: LiveEvent) -> None:
        metronome = self._metronome
        if e.event in ("set_start", "set_resumed") and metronome is not None:
            metronome.start(e.t_s)
        elif e.event in ("set_end", "set_cancelled") and metronome is not None:
            metronome.stop()
        if e.event in ("rep", "set_start"):
            self._late_rep = e.rep_index if e.late else None
        if self.cues is not None:
            _cue(self.cues, e)

    def _show(self) -> None:
        if self.view is None:
            return
        d = self.detector.state
        status = self.status
        last = d.last_rep
        phases = None
        if last is not None:
            phases = PhaseTimes(
                last.concentric_s, last.top_hold_s, last.eccentric_s, last.bottom_pause_s
            )
        elapsed = 0.0 if self._t0 is None or self._last_t is None else self._last_t - self._t0
        state = LiveState(
            connection=status.connection,
            device=status.device,
            profile=status.profile,
            exercise=self.settings.exercise,
            sample_rate_hz=self._measured_rate(),
            samples_received=d.samples,
            samples_lost=max(status.samples_lost, self._lost),
            malformed=status.malformed,
            reconnects=status.reconnects,
            theta_deg=d.theta_deg,
            tolerance_deg=self.settings.tolerance_deg,
            set_index=d.set_index,
            rep_count=d.rep_count,
            in_set=d.in_set,
            last_rep=phases,
            last_rep_peak_deg=None if last is None else last.peak_angle_deg,
            target_tempo=self.settings.tempo,
            tempo_tolerance_s=self.settings.tempo_tolerance_s,
            warnings=tuple(self._warnings),
            elapsed_s=elapsed,
            output_path=status.output_path,
            message=status.message,
            sensor_problems=d.status.sensor_problems,
            starting=d.status.starting,
            in_gap=d.status.in_gap,
            clipping=d.status.clipping,
            withdrawn=d.withdrawn,
            withdrawals=self._withdrawals,
            late_rep=self._late_rep,
        )
        self.view.update(state)


def _cue(cues: Cues, e: LiveEvent) -> None:
    """The cue of one event (none for events that are not spoken)."""
    if e.event == "set_start":
        cues.set_start(t_s=e.t_s, set_index=e.set_index)
    elif e.event == "rep" and e.rep_index is not None:
        cues.rep(e.rep_index, t_s=e.t_s, late=bool(e.late))
    elif e.event == "rep_cancelled":
        cues.rep_cancelled(e.rep_count, t_s=e.t_s, kind=e.kind or "")
    elif is_warning(e.event):
        cues.warning(e.event, t_s=e.t_s)
    elif e.event == "set_end":
        cues.set_end(e.rep_count or 0, e.tempo, t_s=e.t_s, set_index=e.set_index)


def _warning_detail(e: LiveEvent) -> str:
    if e.event == "above_hip_line" and e.theta_deg is not None:
        return f"{e.theta_deg:+.1f}°"
    if e.detail:
        return e.detail
    return ""


async def replay_blocks(
    recording: Recording,
    *,
    speed: float,
    chunk_samples: int,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[Block]:
    """The recording as blocks of ``chunk_samples``, each released when the recording's clock
    (scaled by ``speed``) says its last sample was taken; ``speed = 0``: no waiting."""
    if not (math.isfinite(speed) and speed >= 0):
        raise ValueError(f"speed must be 0 (as fast as possible) or positive, got {speed}")
    chunk = max(1, int(chunk_samples))
    t, acc, gyro = recording.time_s, recording.acc_g, recording.gyro_dps
    n = t.shape[0]
    if n == 0:
        return
    wall0, t0 = clock(), float(t[0])
    for i in range(0, n, chunk):
        j = min(n, i + chunk)
        if speed > 0:
            due = wall0 + (float(t[j - 1]) - t0) / speed
            delay = due - clock()
            if delay > 0:
                await sleep(delay)
        else:
            await sleep(0)
        yield t[i:j], acc[i:j], gyro[i:j]
