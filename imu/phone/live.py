"""Live phone sources for ``imu record --phone``: Sensor Logger's HTTP push and phyphox's remote
access, both :class:`~imu.live.acquire.SampleSource`\\ s, so everything after them (the CSV, the
view, the cues, ``events.jsonl``, the analysis on Ctrl-C) is the BLE path's.

* :class:`SensorLoggerSource` runs a small HTTP server (aiohttp, on the recorder's own event
  loop). The app POSTs batches to ``http://HOST:PORT/push/TOKEN``; it listens on 127.0.0.1
  unless told another address, answers only requests carrying the session's token (403),
  refuses bodies over :data:`MAX_BODY_BYTES` (413), malformed JSON or a body that is not a push
  batch (400) and a batch with no motion sensor in it (422), each counted (the view's
  "malformed" counter and message). A handler never raises and does nothing slow.
* :class:`PhyphoxSource` polls the phone's ``/get`` with the time of the last value it has
  (phyphox returns the values after it), learns the buffer names from ``/config`` and starts the
  measurement with ``/control?cmd=start`` if it is not running.

Both feed a :class:`StreamMerger`: batches that arrive late, twice or out of order are merged by
their sample times (a sample already held is not taken again; a reorder window of
``reorder_s`` waits for stragglers before samples are released, merged onto the gyroscope's
instants by :func:`imu.phone.streams.merge_onto`, the import's own rule). A phone that goes
quiet is reported (``disconnected`` … ``reconnecting``) and waited for up to
``reconnect_timeout_s``, as a BLE link is; the gap is reported when data resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from imu.ble import FoundDevice, LinkState, LinkStats, LinkStatus
from imu.dsp import measured_rate_hz
from imu.errors import SensorError
from imu.phone import phyphox, sensorlogger
from imu.phone.streams import Convention, StreamKind, merge_onto
from imu.recording import Gap, find_gaps
from imu.sensors.base import SampleBlock, SensorProfile

__all__ = [
    "MAX_BODY_BYTES",
    "MergerStats",
    "PhyphoxSource",
    "SensorLoggerSource",
    "StreamMerger",
    "lan_addresses",
]

FloatArray = npt.NDArray[np.float64]
StatusCallback = Callable[[LinkStatus], None]

#: a push batch larger than this is refused (Sensor Logger's batches are tens of KB), bytes
MAX_BODY_BYTES = 2 << 20
#: samples are held this long after the newest one before release (late batches), s
DEFAULT_REORDER_S = 1.5
#: no new sample for this long (wall clock) and the phone counts as quiet, s
DEFAULT_QUIET_S = 3.0
#: samples before the rate is known (the first ones are held until it is)
_RATE_SAMPLES = 20


@dataclass
class MergerStats:
    received: int = 0  #: samples taken (all kinds)
    duplicates: int = 0  #: samples received again (same sensor, same time): skipped
    late: int = 0  #: samples older than what was already released: skipped, counted
    released: int = 0  #: merged samples handed on
    unmatched: int = 0  #: gyroscope samples with no accelerometer sample near them


#: the times of samples already taken are remembered this long, to tell a resent batch from
#: a late one, s
_SEEN_S = 120.0


@dataclass
class _Buffer:
    """One sensor's pending samples, keyed by time; the times taken in the last
    :data:`_SEEN_S` are remembered so that a sample received again is skipped as a duplicate."""

    times: dict[float, tuple[float, float, float]] = field(default_factory=dict)
    seen: set[float] = field(default_factory=set)
    latest: float = -math.inf

    def add(self, t: FloatArray, v: FloatArray, floor: float, stats: MergerStats) -> None:
        for ti, vi in zip(t.tolist(), v.tolist(), strict=True):
            if ti in self.times or ti in self.seen:
                stats.duplicates += 1
            elif ti <= floor:
                stats.late += 1  # after its place in the stream was released: lost, counted
            else:
                self.times[ti] = (vi[0], vi[1], vi[2])
                self.seen.add(ti)
                stats.received += 1
                self.latest = max(self.latest, ti)
        if len(self.seen) > 4 * len(self.times) + 10_000:
            self.seen = {x for x in self.seen if x > self.latest - _SEEN_S}

    def arrays(self) -> tuple[FloatArray, FloatArray]:
        if not self.times:
            return np.zeros(0), np.zeros((0, 3))
        t = np.array(sorted(self.times))
        v = np.array([self.times[x] for x in t.tolist()], dtype=np.float64)
        return t, v

    def drop_before(self, t0: float) -> None:
        for t in [t for t in self.times if t < t0]:
            del self.times[t]


class StreamMerger:
    """Samples of the phone's sensors in, merged blocks out, in sample time order.

    ``add(kind, time_s, xyz)`` with times on the phone's clock (seconds) and values in the app's
    units; :meth:`release` returns the block of every gyroscope sample older than the newest
    sample of each needed stream minus ``reorder_s`` (all of them with ``final=True``), with
    the specific force merged onto its instants. Times in the blocks count from the first
    gyroscope sample.
    """

    def __init__(
        self,
        *,
        convention: Convention,
        gravity_separate: bool,
        reorder_s: float = DEFAULT_REORDER_S,
        max_interp_periods: float = 3.0,
    ) -> None:
        self.convention = convention
        self.gravity_separate = gravity_separate
        self.reorder_s = reorder_s
        self.max_interp_periods = max_interp_periods
        self.stats = MergerStats()
        self.rate_hz: float | None = None
        self.t0: float | None = None
        self.gaps: list[Gap] = []
        self._bufs: dict[StreamKind, _Buffer] = {}
        self._released_to = -math.inf  # gyroscope time of the last released sample
        self._last_out: float | None = None

    def add(self, kind: StreamKind, time_s: FloatArray, xyz: FloatArray) -> None:
        buf = self._bufs.setdefault(kind, _Buffer())
        floor = self._released_to if kind == "gyro" else -math.inf
        buf.add(np.asarray(time_s, dtype=np.float64), np.asarray(xyz, dtype=np.float64),
                floor, self.stats)  # fmt: skip

    @property
    def newest_s(self) -> float:
        return max((b.latest for b in self._bufs.values()), default=-math.inf)

    def _needed(self) -> list[StreamKind]:
        acc: list[StreamKind] = ["acc_linear", "gravity"] if self.gravity_separate else []
        if not self.gravity_separate:
            acc = ["acc_total"] if "acc_total" in self._bufs else ["acc_linear", "gravity"]
        return ["gyro", *acc]

    def release(self, *, final: bool = False) -> SampleBlock | None:
        gyro = self._bufs.get("gyro")
        if gyro is None or not gyro.times:
            return None
        needed = self._needed()
        if not final and any(k not in self._bufs or not self._bufs[k].times for k in needed):
            return None
        g_t, g_v = gyro.arrays()
        if self.rate_hz is None:
            if g_t.shape[0] < _RATE_SAMPLES and not final:
                return None
            measured = measured_rate_hz(g_t)
            self.rate_hz = measured if math.isfinite(measured) else 100.0
            self.t0 = float(g_t[0])
        frontier = math.inf if final else min(self._bufs[k].latest for k in needed) - self.reorder_s
        sel = g_t <= frontier
        if not sel.any():
            return None
        t, w = g_t[sel], g_v[sel]
        acc_t, acc_v = self._specific_force()
        period = 1.0 / float(self.rate_hz)
        acc_rate = measured_rate_hz(acc_t)
        acc_period = 1.0 / acc_rate if math.isfinite(acc_rate) else period
        values, has, _ = merge_onto(
            t, acc_t, acc_v, max_gap_s=self.max_interp_periods * max(acc_period, period)
        )
        self.stats.unmatched += int(np.count_nonzero(~has))
        self._released_to = float(t[-1])
        gyro.drop_before(math.nextafter(self._released_to, math.inf))
        keep_from = self._released_to - self.max_interp_periods * max(acc_period, period) - 1.0
        for k in needed[1:]:
            self._bufs[k].drop_before(keep_from)
        t, w, values = t[has], w[has], values[has]
        if t.shape[0] == 0:
            return None
        assert self.t0 is not None
        time_s = t - self.t0
        self._note_gaps(time_s, period)
        self.stats.released += int(time_s.shape[0])
        acc_g = values * self.convention.acc_sign / self.convention.g_mps2
        return SampleBlock(time_s, acc_g, np.degrees(w))

    def _specific_force(self) -> tuple[FloatArray, FloatArray]:
        total = self._bufs.get("acc_total")
        if total is not None and total.times:
            return total.arrays()
        lin_t, lin_v = self._bufs.get("acc_linear", _Buffer()).arrays()
        g_t, g_v = self._bufs.get("gravity", _Buffer()).arrays()
        if lin_t.shape[0] == 0 or g_t.shape[0] == 0:
            return np.zeros(0), np.zeros((0, 3))
        gravity, has, _ = merge_onto(lin_t, g_t, g_v, max_gap_s=0.2)
        return lin_t[has], lin_v[has] + gravity[has]

    def _note_gaps(self, time_s: FloatArray, period: float) -> None:
        joined = time_s if self._last_out is None else np.concatenate(([self._last_out], time_s))
        self.gaps.extend(find_gaps(joined, sampling_rate_hz=1.0 / period))
        self._last_out = float(time_s[-1])


class _PhoneSourceBase:
    """What both phone sources share: the merger, the status events, the quiet-phone watch,
    the block stream."""

    speed = 1.0
    profile: SensorProfile | None = None

    def __init__(
        self,
        *,
        name: str,
        address: str,
        convention: Convention,
        gravity_separate: bool,
        connect_timeout_s: float,
        reconnect_timeout_s: float,
        on_status: StatusCallback | None,
        reorder_s: float = DEFAULT_REORDER_S,
        quiet_s: float = DEFAULT_QUIET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.merger = StreamMerger(
            convention=convention, gravity_separate=gravity_separate, reorder_s=reorder_s
        )
        self.device: FoundDevice | None = FoundDevice(address, name, 0, ())
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self.quiet_s = quiet_s
        self._on_status = on_status
        self._clock = clock
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._last_data: float | None = None
        self._quiet_since: float | None = None
        self._quiet_reported = False
        self._requests = 0
        self.rejected = 0
        self.last_error = ""
        self.reconnects = 0
        self._pending: SampleBlock | None = None
        self._gaps_seen = 0

    # -- SampleSource ------------------------------------------------------------------------
    @property
    def rate_hz(self) -> float:
        return float(self.merger.rate_hz or 0.0)

    @property
    def stats(self) -> LinkStats:
        m = self.merger.stats
        lost = sum(g.missing_samples for g in self.merger.gaps) + m.late
        return LinkStats(
            notifications=self._requests,
            samples=m.released,
            lost_samples=lost,
            malformed=self.rejected,
            reconnects=self.reconnects,
            gaps=len(self.merger.gaps),
            last_error=self.last_error,
        )

    def _emit(self, state: LinkState, message: str, gap: Gap | None = None) -> None:
        if self._on_status is not None:
            self._on_status(LinkStatus(state, message, self.device, self.stats, gap=gap))

    def _data_arrived(self) -> None:
        now = self._clock()
        if self._quiet_reported:
            self.reconnects += 1
            self._emit(LinkState.STREAMING, "the phone is sending again")
        self._quiet_reported = False
        self._last_data = now
        self._wake.set()

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.last_error = reason
        self._wake.set()  # the view shows the counter

    async def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._wake.set()

    async def _wait_first(self) -> None:
        """Return once the first merged samples are ready; SensorError after the timeout."""
        deadline = self._clock() + self.connect_timeout_s
        while self._pending is None:
            if self._stop.is_set():
                return
            self._pending = self.merger.release()
            if self._pending is not None:
                break
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise SensorError(self._no_data_message())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(remaining, 0.25))
        self._emit(LinkState.STREAMING, f"streaming from the phone at {self.rate_hz:.4g} Hz")

    def _no_data_message(self) -> str:
        raise NotImplementedError

    async def _close(self) -> None:
        """Release the server or client (idempotent)."""

    async def _started(self) -> None:
        """The end of ``__aenter__``: wait for the first samples, closing on failure."""
        try:
            await self._wait_first()
        except BaseException:
            await self._close()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        await self._close()
        self._emit(LinkState.CLOSED, "stopped the phone source")

    async def blocks(self) -> AsyncIterator[SampleBlock]:
        first, self._pending = self._pending, None
        if first is not None:
            yield first
        block: SampleBlock | None
        while not self._stop.is_set():
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.25)
            block = self.merger.release()
            for gap in self._take_gaps():
                self._emit(LinkState.GAP, f"{gap.missing_samples} samples missing", gap)
            if block is not None:
                yield block
            self._check_quiet()
        block = self.merger.release(final=True)
        for gap in self._take_gaps():
            self._emit(LinkState.GAP, f"{gap.missing_samples} samples missing", gap)
        if block is not None:
            yield block

    def _take_gaps(self) -> list[Gap]:
        new = self.merger.gaps[self._gaps_seen :]
        self._gaps_seen = len(self.merger.gaps)
        return new

    def _check_quiet(self) -> None:
        if self._last_data is None:
            return
        silent = self._clock() - self._last_data
        if silent >= self.quiet_s and not self._quiet_reported:
            self._quiet_reported = True
            self._emit(LinkState.DISCONNECTED, f"the phone went quiet {silent:.0f} s ago")
            self._emit(LinkState.RECONNECTING, "waiting for the phone to send again")
        if self._quiet_reported and silent >= self.reconnect_timeout_s:
            self._emit(LinkState.GAVE_UP, f"no data from the phone for {silent:.0f} s")
            raise SensorError(
                f"the phone sent nothing for {silent:.0f} s (is the app still recording, the "
                "screen on, the Wi-Fi up?); what arrived before is recorded"
            )


# ---------------------------------------------------------------------------------------------
# Sensor Logger


class SensorLoggerSource(_PhoneSourceBase):
    """An HTTP endpoint for Sensor Logger's push batches (see the module docstring)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        connect_timeout_s: float = 60.0,
        reconnect_timeout_s: float = 30.0,
        on_status: StatusCallback | None = None,
        reorder_s: float = DEFAULT_REORDER_S,
        quiet_s: float = DEFAULT_QUIET_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        super().__init__(
            name="Sensor Logger",
            address=f"{host}:{port}",
            convention=Convention(description="Android convention (Sensor Logger push)"),
            gravity_separate=True,
            connect_timeout_s=connect_timeout_s,
            reconnect_timeout_s=reconnect_timeout_s,
            on_status=on_status,
            reorder_s=reorder_s,
            quiet_s=quiet_s,
        )
        self.host = host
        self.port = port
        self.token = token or secrets.token_urlsafe(9)
        self.max_body_bytes = max_body_bytes
        self.session_id: str | None = None
        self._runner: Any = None
        self._t0_ns: int | None = None

    @property
    def push_path(self) -> str:
        return f"/push/{self.token}"

    def urls(self) -> list[str]:
        """The URLs to type into the app (one per address this machine is reachable at)."""
        hosts = lan_addresses() if self.host in ("0.0.0.0", "::", "") else [self.host]
        return [f"http://{h}:{self.port}{self.push_path}" for h in hosts]

    def _no_data_message(self) -> str:
        return (
            f"no push batch from Sensor Logger within {self.connect_timeout_s:g} s; set its HTTP "
            f"push URL to {self.urls()[0]} and start a recording"
        )

    async def __aenter__(self) -> SensorLoggerSource:
        from aiohttp import web

        app = web.Application(client_max_size=self.max_body_bytes)
        app.router.add_post("/push/{token}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SensorError(
                f"cannot listen on {self.host}:{self.port} ({exc.strerror or exc}); "
                "choose another with --listen HOST:PORT"
            ) from None
        if self.port == 0:  # an ephemeral port (tests): find which
            addresses = runner.addresses
            self.port = int(addresses[0][1]) if addresses else 0
            self.device = FoundDevice(f"{self.host}:{self.port}", "Sensor Logger", 0, ())
        self._runner = runner
        self._emit(LinkState.SEARCHING, f"waiting for Sensor Logger: push URL {self.urls()[0]}")
        await self._started()
        return self

    async def _close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            with contextlib.suppress(Exception):
                await runner.cleanup()

    async def _not_found(self, request: Any) -> Any:
        from aiohttp import web

        self._requests += 1
        self._reject(f"{request.method} {request.path}: not the push URL")
        return web.Response(status=404, text="not found\n")

    async def _handle(self, request: Any) -> Any:
        """One push batch. Never raises: every failure is a 4xx and a counter."""
        from aiohttp import web

        self._requests += 1
        try:
            refused = self._refusal(request)
            if refused is not None:
                return refused
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                self._reject(f"a body over {self.max_body_bytes} bytes")
                return web.Response(status=413, text="body too large\n")
            return self._take_batch(raw)
        except Exception as exc:  # never crash the recording on a request
            self._reject(f"an internal error on a request ({type(exc).__name__})")
            return web.Response(status=500, text="error\n")

    def _refusal(self, request: Any) -> Any:
        """The answer to a request refused before its body is read (None: read it)."""
        from aiohttp import web

        if not secrets.compare_digest(str(request.match_info.get("token", "")), self.token):
            self._reject("a request without this session's token")
            return web.Response(status=403, text="wrong token\n")
        if (request.content_length or 0) > self.max_body_bytes:
            self._reject(f"a body of {request.content_length} bytes (limit {self.max_body_bytes})")
            return web.Response(status=413, text="body too large\n")
        return None

    def _take_batch(self, raw: bytes) -> Any:
        """Parse one batch, hand its samples to the merger; the answer to the request."""
        from aiohttp import web

        try:
            body = json.loads(raw)
            _message, session, batch, unknown = sensorlogger.push_records(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self._reject(f"a malformed batch ({str(exc)[:80]})")
            return web.Response(status=400, text="malformed batch\n")
        if not batch:
            self._reject(f"a batch with no motion sensor ({unknown} other readings)")
            return web.Response(status=422, text="no accelerometer, gravity or gyroscope\n")
        if self.session_id is None:
            self.session_id = session
        elif session != self.session_id:
            self._reject(f"a batch of another recording (session {session[:12]})")
            return web.Response(status=409, text="another session\n")
        for kind, (t_ns, xyz) in batch.items():
            if self._t0_ns is None:
                self._t0_ns = int(t_ns.min())
            self.merger.add(kind, (t_ns - self._t0_ns).astype(np.float64) / 1e9, xyz)
        self._data_arrived()
        return web.Response(status=200, text="ok\n")


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, from its host name (no traffic)."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addr = str(info[4][0])
            if not addr.startswith("127.") and addr not in found:
                found.append(addr)
    return found or ["127.0.0.1"]


# ---------------------------------------------------------------------------------------------
# phyphox


class PhyphoxSource(_PhoneSourceBase):
    """Polls phyphox's remote-access interface at ``url`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        poll_s: float = 0.1,
        connect_timeout_s: float = 20.0,
        reconnect_timeout_s: float = 30.0,
        on_status: StatusCallback | None = None,
        reorder_s: float = 0.3,
        quiet_s: float = DEFAULT_QUIET_S,
        request_timeout_s: float = 2.0,
    ) -> None:
        super().__init__(
            name="phyphox",
            address=url,
            convention=Convention(description="Android convention (phyphox remote access)"),
            gravity_separate=False,
            connect_timeout_s=connect_timeout_s,
            reconnect_timeout_s=reconnect_timeout_s,
            on_status=on_status,
            reorder_s=reorder_s,
            quiet_s=quiet_s,
        )
        self.url = url.rstrip("/")
        self.poll_s = poll_s
        self.request_timeout_s = request_timeout_s
        self._client: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._buffers: dict[str, dict[str, str]] = {}  # kind → {x, y, z, t: buffer name}
        self._since: dict[str, float] = {}

    def _no_data_message(self) -> str:
        return (
            f"no data from phyphox at {self.url} within {self.connect_timeout_s:g} s "
            f"({self.last_error or 'no answer'}); enable remote access and run an experiment "
            "with the accelerometer (with g) and the gyroscope"
        )

    async def __aenter__(self) -> PhyphoxSource:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.request_timeout_s)
        # phyphox's web server does not cope with kept-alive connections: close each
        self._client = aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)
        )
        self._emit(LinkState.SEARCHING, f"connecting to phyphox at {self.url}")
        self._poller = asyncio.create_task(self._poll(), name="imu-phyphox-poll")
        await self._started()
        return self

    async def _close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _get_json(self, path: str) -> Any:
        async with self._client.get(self.url + path) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status} for {path.split('?')[0]}")
            return json.loads(await response.read())

    async def _configure(self) -> None:
        config = await self._get_json("/config")
        inputs = config.get("inputs", []) if isinstance(config, dict) else []
        kinds = {"accelerometer": "acc_total", "gyroscope": "gyro"}
        for entry in inputs:
            kind = kinds.get(str(entry.get("source", "")))
            if kind is None:
                continue
            names: dict[str, str] = {}
            for output in entry.get("outputs", []):
                names.update({str(k): str(v) for k, v in output.items()})
            if {"x", "y", "z", "t"} <= set(names):
                self._buffers[kind] = names
        if set(self._buffers) != {"acc_total", "gyro"}:
            raise ValueError(
                "the running experiment lacks the accelerometer (with g) or the gyroscope"
            )

    def _query(self) -> str:
        """The ``/get`` query: each buffer in full the first time, then what is newer."""
        query = []
        for names in self._buffers.values():
            since = self._since.get(names["t"])
            after = "full" if since is None else repr(since)
            ref = "" if since is None else f"|{names['t']}"
            query.append(f"{names['t']}={after}")
            query += [f"{names[a]}={after}{ref}" for a in ("x", "y", "z")]
        return "&".join(query)

    def _take_poll(self, values: Mapping[str, Any]) -> bool:
        """Hand one poll's finite samples to the merger; whether any arrived."""
        got = False
        for kind, names in self._buffers.items():
            t = np.asarray(values.get(names["t"], []), dtype=np.float64)
            cols = [np.asarray(values.get(names[a], []), dtype=np.float64) for a in "xyz"]
            n = min(t.shape[0], *(c.shape[0] for c in cols))
            if n == 0:
                continue
            xyz = np.column_stack([c[:n] for c in cols])
            ok = np.isfinite(t[:n]) & np.all(np.isfinite(xyz), axis=1)
            if ok.any():
                self.merger.add(kind, t[:n][ok], xyz[ok])  # type: ignore[arg-type]
                self._since[names["t"]] = float(np.max(t[:n][ok]))
                got = True
        return got

    async def _poll(self) -> None:
        """Poll until stopped; every failure is counted, none ends the loop."""
        started = False
        while not self._stop.is_set():
            self._requests += 1
            try:
                if not self._buffers:
                    await self._configure()
                body = await self._get_json("/get?" + self._query())
                values, status = phyphox.remote_buffers(body)
                if not started and status.get("measuring") is False:
                    await self._get_json("/control?cmd=start")
                started = True
                if self._take_poll(values):
                    self._data_arrived()
            except (ValueError, KeyError, TypeError, OSError, TimeoutError) as exc:
                self._reject(f"{type(exc).__name__}: {str(exc)[:80]}")
            except Exception as exc:  # aiohttp's errors, anything else: counted, never fatal
                self._reject(f"{type(exc).__name__}: {str(exc)[:80]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_s)
