"""Sample sources for ``imu record`` and the loop that records them live.

A *source* delivers :class:`~imu.sensors.base.SampleBlock`\\ s (device-clock times, g, °/s, with
sequence numbers where the protocol has them) and reports its connection as
:class:`~imu.ble.LinkStatus` events (``on_status``):

* :class:`BleSource` — a real sensor through :class:`imu.ble.SensorLink` (reconnects with backoff,
  reports gaps; bleak is imported there, not here);
* :class:`VirtualSource` — a built-in virtual sensor for ``--simulate``: samples (a simulated
  session, :func:`simulated_session`) are encoded into notifications by a sensor profile's own
  encoder and fed back through that profile's decoder at ``speed`` × real time, so everything
  after the radio runs exactly as with hardware.

Both are async context managers: entering returns once samples flow (or raises
:class:`~imu.errors.SensorError` after a bounded wait); :meth:`blocks` yields until the source
ends or :meth:`stop` was called and everything already delivered has been yielded.

:class:`LiveRecorder` is the loop: each block goes **first** to the
:class:`~imu.recording.RecordingWriter` (flushed and fsynced at least every ``flush_s`` of wall
time, so a killed process loses at most that much), then to the
:class:`~imu.live.session.LiveSession` (detector, view, cues), which writes ``events.jsonl``: its
events plus, through :meth:`~imu.live.session.LiveSession.note`, one ``gap`` line per stretch of
missing samples, in the order they fired. Link statuses become the session's
:class:`~imu.live.session.SourceStatus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from imu.ble import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_RECONNECT_TIMEOUT_S,
    FoundDevice,
    LinkState,
    LinkStats,
    LinkStatus,
    SensorLink,
)
from imu.errors import ConfigError, SensorError
from imu.live.audio import Cues
from imu.live.detector import LiveEvent
from imu.live.session import LiveSession, SourceStatus
from imu.live.view import LiveState, LiveView
from imu.recording import Gap, Recording, RecordingWriter
from imu.sensors.base import Decoder, SampleBlock, SensorProfile
from imu.settings import Settings
from imu.vocabulary import Connection

if TYPE_CHECKING:
    from imu.simulate import Setup

__all__ = [
    "BleSource",
    "LiveRecorder",
    "RecordOutcome",
    "SampleSource",
    "VirtualSource",
    "connection_of",
    "gap_event",
    "simulated_session",
]

StatusCallback = Callable[[LinkStatus], None]

log = logging.getLogger(__name__)

#: LinkState → :attr:`imu.live.view.LiveState.connection` (None: keep the current one)
_CONNECTION: dict[LinkState, Connection | None] = {
    LinkState.SEARCHING: "searching",
    LinkState.CONFIGURING: "connecting",
    LinkState.STREAMING: "connected",
    LinkState.GAP: None,
    LinkState.DISCONNECTED: "disconnected",
    LinkState.RECONNECTING: "reconnecting",
    LinkState.GAVE_UP: "disconnected",
    LinkState.CLOSED: None,
}


def connection_of(state: LinkState) -> Connection | None:
    """The live view's connection word for a link state (``None``: unchanged)."""
    return _CONNECTION[state]


class SampleSource(Protocol):
    """What :class:`LiveRecorder` needs from a source (see the module docstring)."""

    @property
    def device(self) -> FoundDevice | None:
        """The device streaming (known once entered)."""

    @property
    def profile(self) -> SensorProfile | None:
        """Its profile (known once entered)."""

    @property
    def rate_hz(self) -> float:
        """The sample rate it was set to (known once entered), Hz."""

    @property
    def speed(self) -> float:
        """Recording seconds per wall-clock second (1 for a sensor; 0: as fast as possible)."""

    @property
    def stats(self) -> LinkStats:
        """Counters right now."""

    async def __aenter__(self) -> SampleSource: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def blocks(self) -> AsyncIterator[SampleBlock]: ...

    async def stop(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# A real sensor


class BleSource:
    """A BLE sensor through :class:`imu.ble.SensorLink` (see there for reconnects and gaps)."""

    speed = 1.0

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float,
        profile_key: str | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        reconnect_timeout_s: float = DEFAULT_RECONNECT_TIMEOUT_S,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.link = SensorLink(
            device,
            rate_hz=rate_hz,
            profile_key=profile_key,
            connect_timeout_s=connect_timeout_s,
            reconnect_timeout_s=reconnect_timeout_s,
            on_status=on_status,
        )

    @property
    def device(self) -> FoundDevice | None:
        return self.link.found

    @property
    def profile(self) -> SensorProfile | None:
        return self.link.profile

    @property
    def rate_hz(self) -> float:
        return self.link.rate_hz

    @property
    def stats(self) -> LinkStats:
        return self.link.stats

    async def __aenter__(self) -> BleSource:
        await self.link.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.link.__aexit__(exc_type, exc, tb)

    def blocks(self) -> AsyncIterator[SampleBlock]:
        return self.link.blocks()

    async def stop(self) -> None:
        await self.link.aclose()


# ---------------------------------------------------------------------------------------------
# The virtual sensor


@dataclass(frozen=True)
class _Packet:
    payload: bytes
    due_s: float  #: device-clock time of its last sample


class VirtualSource:
    """A virtual sensor: ``recording``'s samples, encoded as ``profile``'s notifications and
    decoded back, released at ``speed`` × real time by their device clock (0: no waiting).

    Status events as a :class:`~imu.ble.SensorLink` sends them: ``connecting`` → ``connected``
    → ``streaming`` … ``closed``.
    """

    def __init__(
        self,
        recording: Recording,
        *,
        profile: SensorProfile,
        rate_hz: float,
        speed: float,
        samples_per_notification: int = 4,
        name: str = "IMU-REF virtual",
        address: str = "virtual",
        on_status: StatusCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(speed) and speed >= 0):
            raise ConfigError(f"speed must be 0 (as fast as possible) or positive, got {speed}")
        self.recording = recording
        self.profile: SensorProfile | None = profile
        self.rate_hz = profile.nearest_rate_hz(rate_hz)
        self.speed = float(speed)
        self.samples_per_notification = samples_per_notification
        self.device: FoundDevice | None = FoundDevice(
            address=address,
            name=name,
            rssi_dbm=0,
            service_uuids=(profile.service_uuid,),
            profile_key=profile.key,
            model=profile.model,
        )
        self._on_status = on_status
        self._clock = clock
        self._decoder: Decoder | None = None
        self._packets: list[_Packet] = []
        self._stop = asyncio.Event()
        self._notifications = 0
        self._samples = 0

    @property
    def stats(self) -> LinkStats:
        d = self._decoder.stats if self._decoder is not None else None
        return LinkStats(
            notifications=self._notifications,
            samples=self._samples,
            lost_samples=d.lost_samples if d else 0,
            malformed=d.malformed if d else 0,
            last_error=d.last_error if d else "",
        )

    def _emit(self, state: LinkState, message: str) -> None:
        if self._on_status is not None:
            self._on_status(LinkStatus(state, message, self.device, self.stats))

    async def __aenter__(self) -> VirtualSource:
        profile = self.profile
        assert profile is not None
        self._emit(LinkState.SEARCHING, "starting the virtual sensor")
        rec = self.recording
        spn = max(1, self.samples_per_notification)
        payloads = profile.encode_notifications(
            rec.time_s, rec.acc_g, rec.gyro_dps, samples_per_notification=spn
        )
        if len(payloads) * spn < len(rec) or len(payloads) > len(rec):
            raise SensorError(f"{profile.key}: the virtual sensor needs one payload per chunk")
        last = np.minimum(np.arange(len(payloads)) * spn + spn - 1, len(rec) - 1)
        self._packets = [
            _Packet(p, float(t)) for p, t in zip(payloads, rec.time_s[last], strict=True)
        ]
        self._decoder = profile.new_decoder(self.rate_hz)
        for uuid, value in profile.read_values(self.rate_hz).items():
            self._decoder.configure(uuid, value)
        self._emit(LinkState.CONFIGURING, f"virtual {profile.key} sensor; configuring")
        self._emit(LinkState.STREAMING, f"streaming from the virtual sensor at {self.rate_hz:g} Hz")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._emit(LinkState.CLOSED, "stopped the virtual sensor")

    async def _wait(self, delay_s: float) -> None:
        """Sleep ``delay_s`` unless stopped first."""
        if delay_s <= 0:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=delay_s)

    async def blocks(self) -> AsyncIterator[SampleBlock]:
        decoder = self._decoder
        if decoder is None:
            raise SensorError("the virtual sensor is not started (use `async with`)")
        profile = self.profile
        assert profile is not None
        if not self._packets:
            return
        wall0 = self._clock()
        t0 = float(self.recording.time_s[0])
        for packet in self._packets:
            if self._stop.is_set():
                break
            if self.speed > 0:
                await self._wait(wall0 + (packet.due_s - t0) / self.speed - self._clock())
                if self._stop.is_set():
                    break
            else:
                await asyncio.sleep(0)  # let the view, the watcher and signal handlers run
            self._notifications += 1
            arrival_s = self._clock()
            for block in decoder.feed(
                packet.payload, arrival_s=arrival_s, char_uuid=profile.notify_uuid
            ):
                if len(block):
                    self._samples += len(block)
                    yield block
        await self.stop()


def simulated_session(
    *, seed: int, rate_hz: float, setup: Setup = "bench", sets: int = 2
) -> tuple[Recording, dict[str, str]]:
    """A short simulated session for ``--simulate``: ``sets`` sets on ``setup`` with short rests,
    from a sensor whose own clock is exact (no timestamp jitter, no dropped packets: a virtual
    sensor's link loses nothing unless told to). Returns the samples and metadata (``leg``,
    ``exercise``, ``seed``)."""
    from imu.simulate import random_spec, simulate_session

    rng = np.random.default_rng(seed)
    spec = random_spec(rng, setup=setup)
    n = int(rng.integers(6, 11))
    spec = dataclasses.replace(
        spec,
        rate_hz=float(rate_hz),
        reps_per_set=(n,) * sets,
        rest_range_s=(20.0, 35.0),
        lead_in_s=8.0,
        lead_out_s=6.0,
        sensor=dataclasses.replace(spec.sensor, jitter_s=0.0, drop_runs_per_min=0.0),
    )
    session = simulate_session(spec, seed=seed)
    meta = {"leg": spec.leg, "exercise": spec.exercise, "simulated_seed": str(seed)}
    return session.recording, meta


# ---------------------------------------------------------------------------------------------
# The recording loop


def gap_event(gap: Gap) -> dict[str, Any]:
    """A gap as a line of ``events.jsonl``: it fires (``t_s``) when its first sample after
    arrives."""
    return {
        "event": "gap",
        "t_s": round(gap.end_s, 6),
        "start_s": round(gap.start_s, 6),
        "end_s": round(gap.end_s, 6),
        "missing_samples": gap.missing_samples,
        "reconnect": gap.reconnect,
    }


@dataclass
class RecordOutcome:
    """What a :meth:`LiveRecorder.run` did."""

    csv_path: Path | None = None  #: None: no sample arrived, nothing written
    rows: int = 0
    first_time_s: float | None = None
    last_time_s: float | None = None
    gaps: list[Gap] = field(default_factory=list)
    events_written: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    stats: LinkStats | None = None
    device: FoundDevice | None = None
    rate_hz: float | None = None
    #: the link gave up mid-recording (what arrived before is recorded)
    error: SensorError | None = None
    #: stopped by a request (Ctrl-C, --max-duration-s) rather than the source ending
    stopped: bool = False
    #: the live path (detector, view, cues) failed and was switched off; the recording went on
    live_error: str | None = None

    @property
    def duration_s(self) -> float:
        if self.first_time_s is None or self.last_time_s is None:
            return 0.0
        return self.last_time_s - self.first_time_s


class LiveRecorder:
    """Source → CSV → live session (see the module docstring).

    ``source_factory(on_status)`` makes the source with this recorder's status callback.
    ``metadata`` are extra ``# key: value`` lines for the CSV (sample rate, sensor, device and
    ``started_at`` are added). ``max_duration_s``: stop after this much recording (or, for a
    real-time source, wall-clock) time; 0 = no limit. Call :meth:`request_stop` (e.g. from a
    signal handler) to end the recording cleanly.
    """

    def __init__(
        self,
        source_factory: Callable[[StatusCallback], SampleSource],
        *,
        settings: Settings,
        csv_path: str | Path,
        events_path: str | Path,
        view: LiveView | None = None,
        cues: Cues | None = None,
        metadata: Mapping[str, str] | None = None,
        max_duration_s: float = 0.0,
        flush_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(max_duration_s) and max_duration_s >= 0):
            raise ConfigError(f"max duration must be 0 (no limit) or positive: {max_duration_s}")
        self.settings = settings
        self.csv_path = Path(csv_path)
        self.events_path = Path(events_path)
        self.view = view
        self.cues = cues
        self.metadata = dict(metadata or {})
        self.max_duration_s = max_duration_s
        self.flush_s = flush_s
        self._clock = clock
        self.source = source_factory(self._on_status)
        self.session: LiveSession | None = None
        self.outcome = RecordOutcome()
        self._writer: RecordingWriter | None = None
        self._pending_gaps: list[Gap] = []
        self._status = SourceStatus(connection="disconnected", output_path=str(self.csv_path))
        self._stop = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None
        self._streaming_since: float | None = None
        self._rows_synced = 0

    # -- control -----------------------------------------------------------------------------
    def request_stop(self) -> None:
        """End the recording: the source stops, what it already delivered is still recorded."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.outcome.stopped = True
        self._message("stopping…")

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> RecordOutcome:
        """Open the source (unless stopped first), record until it ends or a stop is requested,
        close everything. SensorError if the source cannot be opened; a link that gives up
        mid-recording ends the recording and is reported in :attr:`RecordOutcome.error`."""
        outcome = self.outcome
        try:
            if not await self._open():
                return outcome
            outcome.device = self.source.device
            outcome.rate_hz = self.source.rate_hz
            self._streaming_since = self._clock()
            watcher = asyncio.create_task(self._watch(), name="imu-record-watch")
            try:
                async for block in self.source.blocks():
                    self._take(block)
            except SensorError as exc:
                outcome.error = exc
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                if self._stop_task is not None:
                    await self._stop_task
                await self.source.__aexit__(None, None, None)
            if self.session is not None:
                self._live(self.session.finish)
                self._close_session()
            outcome.stats = self.source.stats
            self._update_status(self.source.stats, message="recording stopped")
        finally:
            self._close()
        return outcome

    # -- internals ---------------------------------------------------------------------------
    async def _open(self) -> bool:
        """Enter the source, unless a stop is requested first (then False)."""
        opening = asyncio.ensure_future(self.source.__aenter__())
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({opening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, SensorError):
                await opening
            return False
        opening.result()  # SensorError: the sensor was not found or never answered
        if self._stop.is_set():
            await self.source.__aexit__(None, None, None)
            return False
        return True

    async def _watch(self) -> None:
        """Wall-clock duties: fsync at least every ``flush_s``, the duration limit, stopping."""
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                await asyncio.wait({stopping}, timeout=self.flush_s)
                self._sync()
                if self._stop.is_set():
                    break
                since = self._streaming_since
                speed = self.source.speed
                if (
                    self.max_duration_s > 0
                    and since is not None
                    and speed > 0
                    and (self._clock() - since) * speed >= self.max_duration_s
                ):
                    self.request_stop()
                    break
            self._stop_task = asyncio.create_task(self.source.stop(), name="imu-record-stop")
            while True:  # keep the file fresh while the source drains
                await asyncio.sleep(self.flush_s)
                self._sync()
        finally:
            stopping.cancel()

    def _sync(self) -> None:
        writer = self._writer
        if writer is not None and writer.rows_written != self._rows_synced:
            writer.flush()
            self._rows_synced = writer.rows_written

    def _session(self) -> LiveSession:
        if self.session is None:
            self.session = LiveSession(
                self.settings,
                sampling_rate_hz=self.source.rate_hz,
                view=self.view,
                cues=self.cues,
                events_path=self.events_path,
                status=self._status,
            )
        return self.session

    def _open_writer(self, block: SampleBlock) -> RecordingWriter:
        device = self.source.device
        profile = self.source.profile
        meta: dict[str, str] = {"sample_rate_hz": f"{self.source.rate_hz:g}"}
        if profile is not None:
            meta["sensor"] = profile.model
            meta["profile"] = profile.key
        if device is not None:
            if device.name:
                meta["device"] = device.name
            meta["device_address"] = device.address
        meta["exercise"] = self.settings.exercise
        meta["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        for key, value in self.metadata.items():
            meta[key] = value
        extra = ("seq",) if block.seq is not None else ()
        self.outcome.csv_path = self.csv_path
        return RecordingWriter(
            self.csv_path, metadata=meta, extra_columns=extra, flush_s=self.flush_s
        )

    def _take(self, block: SampleBlock) -> None:
        n = len(block)
        if n == 0:
            return
        if self._writer is None:
            self._writer = self._open_writer(block)
        writer = self._writer
        extra: dict[str, npt.ArrayLike] | None = None
        if block.seq is not None and writer.extra_columns:
            extra = {"seq": block.seq}
        writer.append(block.time_s, block.acc_g, block.gyro_dps, extra)
        outcome = self.outcome
        outcome.rows += n
        if outcome.first_time_s is None:
            outcome.first_time_s = float(block.time_s[0])
        outcome.last_time_s = float(block.time_s[-1])
        session = self._session()
        for gap in self._pending_gaps:
            outcome.gaps.append(gap)
            session.note(gap_event(gap))
        self._pending_gaps.clear()
        self._live(lambda: session.feed(block.time_s, block.acc_g, block.gyro_dps))
        if (
            self.max_duration_s > 0
            and not self._stop.is_set()
            and outcome.duration_s >= self.max_duration_s
        ):
            self.request_stop()

    def _live(self, step: Callable[[], list[LiveEvent]]) -> None:
        """One step of the live path (detector, view, cues). The recording matters more than the
        coaching: if the live path fails, it is switched off and the recording goes on."""
        if self.outcome.live_error is not None:
            return
        try:
            step()  # the session writes its events to events.jsonl
        except Exception as exc:
            log.debug("live path failed", exc_info=True)
            t = self.outcome.last_time_s
            where = f" at {t:.2f} s" if t is not None else ""
            self.outcome.live_error = f"the live path failed{where} ({type(exc).__name__}: {exc})"
            self._message("live coaching stopped after an internal error; still recording")
            return

    def _on_status(self, status: LinkStatus) -> None:
        connection = connection_of(status.state)
        if status.state is LinkState.GAP and status.gap is not None:
            self._pending_gaps.append(status.gap)
        if connection is not None and self.session is None and self.cues is not None:
            self.cues.connection(connection, t_s=0.0)
        self._update_status(status.stats, connection=connection, message=status.message)

    def _update_status(
        self, stats: LinkStats, *, connection: Connection | None = None, message: str = ""
    ) -> None:
        device = self.source.device
        profile = self.source.profile
        self._status = SourceStatus(
            connection=connection or self._status.connection,
            device=device.describe() if device is not None else "",
            profile=profile.key if profile is not None else "",
            samples_lost=stats.lost_samples,
            malformed=stats.malformed,
            reconnects=stats.reconnects,
            message=message,
            output_path=str(self.csv_path),
        )
        if self.session is not None:
            self.session.on_status(self._status)
        elif self.view is not None:
            s = self._status
            self.view.update(
                LiveState(
                    connection=s.connection,
                    device=s.device,
                    profile=s.profile,
                    exercise=self.settings.exercise,
                    tolerance_deg=self.settings.tolerance_deg,
                    target_tempo=self.settings.tempo,
                    output_path=s.output_path,
                    message=s.message,
                )
            )

    def _message(self, message: str) -> None:
        self._update_status(self.source.stats, message=message)

    def _close_session(self) -> None:
        """Close the session's events.jsonl (even if the live path failed) and keep its counts."""
        session = self.session
        if session is None:
            return
        with contextlib.suppress(Exception):
            session.close()
        self.outcome.events_written = session.events_written
        self.outcome.event_counts = dict(session.event_counts)

    def _close(self) -> None:
        """Close the files (also after an error: the CSV always ends on a whole row)."""
        self._close_session()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
