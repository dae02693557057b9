"""BLE transport: find sensors and stream samples from one. The only module that imports bleak.

Everything here is ``async`` and meant to run under one ``asyncio.run`` at the top of a command;
nothing blocks the loop. bleak is imported inside the functions, so ``import imu`` (and
``import imu.ble``) stays cheap.

Scanning
--------
``await scan(timeout_s)`` listens for advertisements and returns one :class:`FoundDevice` per
address — name, address, RSSI, advertised service UUIDs and, if the tool can talk to it, the
matching profile (``profile_key``, ``model``; see :mod:`imu.sensors`). Supported devices come first,
then by signal strength.

Streaming
---------
``SensorLink`` is one sensor session::

    async with SensorLink("IMU-REF 01", rate_hz=100, on_status=show) as link:
        print(link.found.model, link.rate_hz)
        async for block in link.blocks():     # imu.sensors.SampleBlock, device-clock times
            ...                               # link.stats: counters for the live view

or, as a plain iterator, ``stream(device, profile_key=…, rate_hz=…, connect_timeout_s=…,
on_status=…)`` (wrap it in ``contextlib.aclosing`` if you may stop early).

* **Which device**: ``device`` is an address or an advertised name; ``None`` takes the first
  supported sensor heard. The profile comes from the advertisement (service UUID, then name
  prefix) unless ``profile_key`` overrides it; the rate is the profile's nearest supported rate.
* **Setup**, per connection, inside ``async with BleakClient(...)``: subscribe to the profile's
  notify characteristic(s), read its config characteristic(s), then write its start commands.
* **The notification callback only stamps and queues**: ``(time.monotonic(), bytes)`` go into an
  unbounded queue; :meth:`SensorLink.blocks` decodes them in order with the profile's
  :class:`~imu.sensors.base.Decoder` (one per recording), so a slow consumer never loses data and
  a malformed notification is only counted (``stats.malformed``), never fatal.
* **Entering** the ``async with`` returns once samples flow. A sensor that is not found, does not
  accept the connection, or connects but sends nothing raises :class:`~imu.errors.SensorError`
  after at most ``connect_timeout_s`` (transient failures are retried within that time).
* **Reconnects**: an unexpected disconnect (the body shadows an ankle sensor) or a link that goes
  silent for ``stall_timeout_s`` starts reconnect attempts with exponential backoff (0.25 s
  doubling to ``max_backoff_s``) for up to ``reconnect_timeout_s``; then ``gave_up`` and
  ``blocks()`` raises SensorError. Every notification that arrived before the disconnect is still
  decoded; the decoder gets ``reset_link()`` before the first notification of the new connection,
  and the missing stretch is reported as a :class:`imu.recording.Gap` (``gap`` status event)
  and counted in ``stats.lost_samples``.
* **Status events** go to ``on_status(LinkStatus)``, in this order for a normal session:
  ``searching`` → ``configuring`` → ``streaming``; after a drop ``disconnected`` →
  ``reconnecting`` (attempt *n*, repeated) → ``configuring`` → ``streaming`` and ``gap`` (the gap
  is known once the first new samples are decoded, so it may come just before or after
  ``streaming``); finally ``closed``, or ``gave_up``. ``gap`` is also sent when the decoder
  finds samples missing mid-stream (dropped notifications). Each event carries a
  :class:`LinkStats` snapshot.
* **Errors**: a missing D-Bus, no BlueZ, no or powered-off adapter, and bleak's own errors become
  one-line :class:`~imu.errors.SensorError`\\ s.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from imu.errors import SensorError
from imu.recording import Gap

if TYPE_CHECKING:
    from imu.sensors.base import Decoder, SampleBlock, SensorProfile

__all__ = [
    "FoundDevice",
    "LinkState",
    "LinkStats",
    "LinkStatus",
    "SensorLink",
    "scan",
    "stream",
]

DEFAULT_CONNECT_TIMEOUT_S = 20.0
DEFAULT_RECONNECT_TIMEOUT_S = 30.0
DEFAULT_STALL_TIMEOUT_S = 5.0
_FIRST_BACKOFF_S = 0.25
_RATE_WINDOW_S = 2.0


# --- public types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundDevice:
    """One advertising device heard by :func:`scan` (or picked by :class:`SensorLink`)."""

    address: str  #: Bluetooth address (a UUID on macOS)
    name: str | None  #: advertised local name, if any
    rssi_dbm: int  #: signal strength of the last advertisement, dBm
    service_uuids: tuple[str, ...]  #: advertised service UUIDs, lower case
    profile_key: str | None = None  #: matching sensor profile (``--profile``), None: unsupported
    model: str | None = None  #: human name of that profile's model

    @property
    def supported(self) -> bool:
        return self.profile_key is not None

    def describe(self) -> str:
        return f"{self.name} ({self.address})" if self.name else self.address


class LinkState(enum.StrEnum):
    """What a :class:`SensorLink` is doing (the ``state`` of a :class:`LinkStatus`)."""

    SEARCHING = "searching"  #: looking for the sensor and connecting to it (the first time)
    CONFIGURING = "configuring"  #: connected; subscribing, reading config, sending start writes
    STREAMING = "streaming"  #: the first notification of this connection arrived
    GAP = "gap"  #: samples are missing (after a reconnect, or dropped notifications)
    DISCONNECTED = "disconnected"  #: the link dropped unexpectedly (or went silent)
    RECONNECTING = "reconnecting"  #: reconnect attempt ``attempt`` under way
    GAVE_UP = "gave_up"  #: reconnecting failed for ``reconnect_timeout_s``; the stream ends
    CLOSED = "closed"  #: stopped on request


@dataclass(frozen=True)
class LinkStats:
    """Counters for the live view (a snapshot)."""

    notifications: int = 0  #: notifications received
    samples: int = 0  #: samples decoded
    lost_samples: int = 0  #: samples known to be missing (drops and reconnect gaps)
    malformed: int = 0  #: notifications the decoder could not use
    effective_rate_hz: float = 0.0  #: samples received per second over the last 2 s
    reconnects: int = 0  #: successful reconnects
    gaps: int = 0  #: gaps reported
    last_error: str = ""  #: the decoder's or the link's last complaint


@dataclass(frozen=True)
class LinkStatus:
    """One status event."""

    state: LinkState
    message: str  #: one line for a human
    device: FoundDevice | None
    stats: LinkStats
    attempt: int = 0  #: reconnect attempt number (``reconnecting``)
    gap: Gap | None = None  #: set on ``gap``


# --- queue items (all decoder work happens in the consumer, in arrival order) -----------------


@dataclass(frozen=True)
class _Notification:
    char_uuid: str
    arrival_s: float
    payload: bytes


@dataclass(frozen=True)
class _Configure:
    char_uuid: str
    value: bytes


@dataclass(frozen=True)
class _Relinked:
    """A new connection: everything queued after this comes from it."""


@dataclass(frozen=True)
class _Failed:
    error: SensorError


class _End(enum.Enum):
    STOPPED = "stopped"
    LOST = "lost"  #: unexpected disconnect
    STALLED = "stalled"  #: connected, but no data for stall_timeout_s


_QueueItem = _Notification | _Configure | _Relinked | _Failed | None  # None: end of stream


class _StopRequested(Exception):
    """Raised inside the connection task when the link is being closed."""


class _FatalSetup(SensorError):
    """A setup failure that retrying cannot fix (wrong profile, missing characteristic)."""


# --- errors and the BlueZ bus ---------------------------------------------------------------


def _bluetooth_error(exc: BaseException, doing: str) -> SensorError:
    """Turn bleak / D-Bus / OS errors into one readable SensorError."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

    if isinstance(exc, SensorError):
        return exc
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return SensorError(
            f"{doing}: cannot reach the system D-Bus ({exc.strerror or exc}); Bluetooth needs "
            "BlueZ (bluetoothd) and D-Bus running — on Linux check `systemctl status bluetooth`"
        )
    if isinstance(exc, BleakBluetoothNotAvailableError):
        detail = exc.args[0] if exc.args else str(exc)
        return SensorError(f"{doing}: Bluetooth is not available: {detail}")
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error == "org.freedesktop.DBus.Error.ServiceUnknown":
            return SensorError(
                f"{doing}: BlueZ is not running (no org.bluez on the system D-Bus); "
                "start it with `sudo systemctl start bluetooth`"
            )
        if exc.dbus_error == "org.bluez.Error.NotReady":
            return SensorError(f"{doing}: the Bluetooth adapter is not ready (powered off?)")
        return SensorError(f"{doing}: BlueZ error {exc.dbus_error}: {exc.dbus_error_details}")
    if isinstance(exc, BleakError):
        return SensorError(f"{doing}: {exc}")
    if isinstance(exc, TimeoutError):
        return SensorError(f"{doing}: timed out")
    if isinstance(exc, OSError):
        return SensorError(f"{doing}: {exc.strerror or exc}")
    return SensorError(f"{doing}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _translate_errors(doing: str) -> Iterator[None]:
    from bleak.exc import BleakError

    try:
        yield
    except (BleakError, OSError, EOFError) as exc:
        raise _bluetooth_error(exc, doing) from exc


_bluez_users: dict[asyncio.AbstractEventLoop, int] = {}


@contextlib.asynccontextmanager
async def _bluez_session() -> AsyncIterator[None]:
    """Share bleak's BlueZ manager bus while in use; close it when the last user leaves, so
    no D-Bus socket outlives the event loop."""
    loop = asyncio.get_running_loop()
    _bluez_users[loop] = _bluez_users.get(loop, 0) + 1
    try:
        yield
    finally:
        _bluez_users[loop] -= 1
        if _bluez_users[loop] == 0:
            del _bluez_users[loop]
            await _close_bluez_manager(loop)


async def _close_bluez_manager(loop: asyncio.AbstractEventLoop) -> None:
    if sys.platform != "linux":
        return
    from bleak.backends.bluezdbus import manager as bluez_manager

    instance = bluez_manager._global_instances.pop(loop, None)
    if instance is None:
        return
    # Stop bleak's bus watcher first (it would log "connection to BlueZ was lost"); cancelling
    # it also cancels the bus's disconnect future, so finalise the bus directly: that closes
    # its socket now rather than at garbage collection.
    watcher: asyncio.Task[None] | None = instance._bus_watcher_task
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
    bus = instance._bus
    if bus is not None:
        bus.disconnect()
        with contextlib.suppress(Exception):
            bus._finalize(None)


def _profile_for(
    name: str | None, service_uuids: list[str] | tuple[str, ...]
) -> SensorProfile | None:
    from imu.sensors import profile_for_advertisement

    return profile_for_advertisement(name, list(service_uuids))


def _found(device: Any, adv: Any, name: str | None, uuids: tuple[str, ...]) -> FoundDevice:
    profile = _profile_for(name, uuids)
    return FoundDevice(
        address=str(device.address),
        name=name,
        rssi_dbm=int(adv.rssi),
        service_uuids=uuids,
        profile_key=None if profile is None else profile.key,
        model=None if profile is None else profile.model,
    )


# --- scanning ---------------------------------------------------------------------------------


async def scan(timeout_s: float) -> list[FoundDevice]:
    """Listen for ``timeout_s`` seconds; every device heard, supported ones first, then by RSSI.

    Raises SensorError when there is no Bluetooth (no D-Bus, no BlueZ, no adapter, powered off).
    """
    from bleak import BleakScanner

    heard: dict[str, tuple[Any, Any]] = {}
    names: dict[str, str] = {}
    uuids: dict[str, set[str]] = {}

    def on_advertisement(device: Any, adv: Any) -> None:
        heard[device.address] = (device, adv)
        name = adv.local_name or device.name
        if name:
            names[device.address] = name
        uuids.setdefault(device.address, set()).update(u.lower() for u in adv.service_uuids)

    async with _bluez_session():
        with _translate_errors("cannot scan for Bluetooth devices"):
            async with BleakScanner(detection_callback=on_advertisement):
                await asyncio.sleep(timeout_s)

    found = [
        _found(device, adv, names.get(address), tuple(sorted(uuids.get(address, ()))))
        for address, (device, adv) in heard.items()
    ]
    found.sort(key=lambda d: (not d.supported, -d.rssi_dbm, d.address))
    return found


# --- streaming --------------------------------------------------------------------------------


class SensorLink:
    """A streaming session with one sensor (see the module docstring)."""

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float,
        profile_key: str | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        reconnect_timeout_s: float = DEFAULT_RECONNECT_TIMEOUT_S,
        stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
        max_backoff_s: float = 4.0,
        on_status: Callable[[LinkStatus], None] | None = None,
    ) -> None:
        if rate_hz <= 0:
            raise SensorError(f"the sample rate must be positive, got {rate_hz} Hz")
        self.requested_device = device
        self.requested_rate_hz = rate_hz
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.max_backoff_s = max_backoff_s
        self._on_status = on_status
        self._profile_override: SensorProfile | None = None
        if profile_key is not None:
            from imu.sensors import get_profile

            self._profile_override = get_profile(profile_key)
        #: the device in use (known once connected)
        self.found: FoundDevice | None = None
        #: its profile and the rate it was set to
        self.profile: SensorProfile | None = None
        self.rate_hz: float = rate_hz
        self.decoder: Decoder | None = None

        self._queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._runner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_rx_s = 0.0  # time.monotonic() of the latest notification
        self._phase = "looking for the sensor"
        self._session_cm: contextlib.AbstractAsyncContextManager[None] | None = None
        self._streamed = False  # the first connection has streamed
        # consumer-side counters
        self._notifications = 0
        self._samples = 0
        self._extra_lost = 0  # reconnect gaps the decoder did not count itself
        self._gaps = 0
        self._reconnects = 0
        self._last_error = ""
        self._last_time_s: float | None = None
        self._relinked = False
        self._recent: deque[tuple[float, int]] = deque()
        self._first_arrival_s: float | None = None

    # -- public ------------------------------------------------------------------------------
    @property
    def stats(self) -> LinkStats:
        """Counters right now."""
        d = self.decoder.stats if self.decoder is not None else None
        return LinkStats(
            notifications=self._notifications,
            samples=self._samples,
            lost_samples=(d.lost_samples if d else 0) + self._extra_lost,
            malformed=d.malformed if d else 0,
            effective_rate_hz=self._effective_rate_hz(time.monotonic()),
            reconnects=self._reconnects,
            gaps=self._gaps,
            last_error=self._last_error or (d.last_error if d else ""),
        )

    async def __aenter__(self) -> SensorLink:
        loop = asyncio.get_running_loop()
        self._session_cm = _bluez_session()
        await self._session_cm.__aenter__()
        self._ready = loop.create_future()
        self._runner = loop.create_task(self._run(), name="imu-ble-link")
        try:
            await asyncio.shield(self._ready)
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._shutdown()

    async def blocks(self) -> AsyncIterator[SampleBlock]:
        """Decoded sample blocks, in order, until the link is closed; SensorError if it gave up."""
        if self.decoder is None:
            raise SensorError("the sensor link is not open (use `async with SensorLink(...)`)")
        decoder = self.decoder
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, _Notification):
                self._notifications += 1
                for block in decoder.feed(
                    item.payload, arrival_s=item.arrival_s, char_uuid=item.char_uuid
                ):
                    if len(block) == 0:
                        continue
                    self._account(block, item.arrival_s)
                    yield block
            elif isinstance(item, _Configure):
                decoder.configure(item.char_uuid, item.value)
            elif isinstance(item, _Relinked):
                decoder.reset_link()
                self._relinked = self._last_time_s is not None
            else:
                raise item.error

    async def aclose(self) -> None:
        await self._shutdown()

    # -- consumer-side accounting ------------------------------------------------------------
    def _account(self, block: SampleBlock, arrival_s: float) -> None:
        n = len(block)
        first_t = float(block.time_s[0])
        gap: Gap | None = None
        if self._relinked:
            self._relinked = False
            assert self._last_time_s is not None
            by_clock = round((first_t - self._last_time_s) * self.rate_hz) - 1
            missing = max(block.lost_before, by_clock, 0)
            self._extra_lost += missing - block.lost_before
            gap = Gap(self._last_time_s, first_t, missing, reconnect=True)
        elif block.lost_before > 0 and self._last_time_s is not None:
            # (samples lost before the first one received are counted, but bound no stretch)
            gap = Gap(self._last_time_s, first_t, block.lost_before, reconnect=False)
        self._samples += n
        self._last_time_s = float(block.time_s[-1])
        if self._first_arrival_s is None:
            self._first_arrival_s = arrival_s
        self._recent.append((arrival_s, n))
        if gap is not None:
            self._gaps += 1
            why = "after the reconnect" if gap.reconnect else "dropped notifications"
            self._emit(
                LinkState.GAP,
                f"{gap.missing_samples} samples missing ({why})",
                gap=gap,
            )

    def _effective_rate_hz(self, now: float) -> float:
        recent = self._recent
        while recent and recent[0][0] < now - _RATE_WINDOW_S:
            recent.popleft()
        if not recent or self._first_arrival_s is None:
            return 0.0
        span = now - max(self._first_arrival_s, now - _RATE_WINDOW_S)
        if span < 0.25:
            return 0.0
        return sum(n for _, n in recent) / span

    # -- status ------------------------------------------------------------------------------
    def _emit(
        self,
        state: LinkState,
        message: str,
        *,
        attempt: int = 0,
        gap: Gap | None = None,
    ) -> None:
        if self._on_status is None:
            return
        status = LinkStatus(state, message, self.found, self.stats, attempt=attempt, gap=gap)
        self._on_status(status)

    def _who(self) -> str:
        return self.found.describe() if self.found else "the sensor"

    # -- the connection task -----------------------------------------------------------------
    async def _shutdown(self) -> None:
        self._stopping = True
        self._wake.set()
        runner, self._runner = self._runner, None
        if runner is not None and not self._streamed:
            runner.cancel()  # still connecting: nothing to stop on the sensor
        if runner is not None:
            try:
                await asyncio.wait_for(asyncio.shield(runner), timeout=10.0)
            except TimeoutError:
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await runner
            except Exception:
                pass  # the runner reports its own failures through the queue / ready future
        cm, self._session_cm = self._session_cm, None
        if cm is not None:
            await cm.__aexit__(None, None, None)

    def _fail(self, error: SensorError) -> None:
        self._last_error = str(error)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
        else:
            self._queue.put_nowait(_Failed(error))

    async def _run(self) -> None:
        try:
            await self._run_link()
        except SensorError as exc:
            self._fail(exc)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            self._fail(_bluetooth_error(exc, f"lost {self._who()}"))
        finally:
            if self._ready is not None and not self._ready.done():
                self._ready.cancel()  # closed before it streamed
            self._queue.put_nowait(None)

    async def _run_link(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        self._emit(LinkState.SEARCHING, "looking for the sensor")
        end = await self._connect_until(deadline, first=True)
        while end in (_End.LOST, _End.STALLED) and not self._stopping:
            why = "went silent" if end is _End.STALLED else "disconnected"
            self._emit(LinkState.DISCONNECTED, f"{self._who()} {why}; reconnecting")
            end = await self._connect_until(loop.time() + self.reconnect_timeout_s, first=False)
        self._emit(LinkState.CLOSED, f"closed the link to {self._who()}")

    async def _connect_until(self, deadline: float, *, first: bool) -> _End:
        """Find, connect and stream, retrying with backoff until ``deadline``; returns how the
        connection that streamed ended."""
        loop = asyncio.get_running_loop()
        backoff = _FIRST_BACKOFF_S
        attempt = 0
        last_error = ""
        while True:
            if self._stopping:
                return _End.STOPPED
            attempt += 1
            if not first:
                self._emit(
                    LinkState.RECONNECTING,
                    f"reconnecting to {self._who()} (attempt {attempt})",
                    attempt=attempt,
                )
            outcome = await self._attempt(deadline, first=first)
            if isinstance(outcome, _End):
                return outcome
            last_error = outcome or last_error
            if loop.time() + backoff >= deadline:
                break
            await self._sleep_unless_stopping(backoff)
            backoff = min(backoff * 2.0, self.max_backoff_s)
        if self._stop_requested():
            return _End.STOPPED
        self._give_up(attempt, last_error, first=first)

    async def _attempt(self, deadline: float, *, first: bool) -> _End | str:
        """One try to find, connect and stream: how the connection that streamed ended, or why
        the try failed ("" when it ran out of time)."""
        try:
            async with asyncio.timeout_at(deadline) as timer:
                ble_device = await self._locate(first=first)
                return await self._session(ble_device, timer, first=first)
        except _FatalSetup:
            raise
        except _StopRequested:
            return _End.STOPPED
        except TimeoutError:
            return ""
        except SensorError as exc:
            return str(exc)
        except Exception as exc:
            from bleak.exc import BleakError

            if not isinstance(exc, BleakError | OSError | EOFError):
                raise
            return str(_bluetooth_error(exc, self._phase))

    def _give_up(self, attempt: int, last_error: str, *, first: bool) -> NoReturn:
        """Connecting (``first``) or reconnecting ran out of time: say so and raise."""
        detail = f" (last error: {last_error})" if last_error else ""
        if first:
            raise SensorError(self._timeout_message() + detail)
        message = (
            f"gave up on {self._who()}: no reconnect within "
            f"{self.reconnect_timeout_s:g} s after {attempt} attempts{detail}"
        )
        self._emit(LinkState.GAVE_UP, message)
        raise SensorError(message)

    def _timeout_message(self) -> str:
        t = f"{self.connect_timeout_s:g} s"
        if self.found is None:
            if self.requested_device:
                return (
                    f"sensor {self.requested_device!r} not found within {t} "
                    "(is it on, charged, in range and not connected to another app? "
                    "try `imu scan`)"
                )
            return (
                f"no supported sensor found within {t} (is it on, charged and in range? "
                "`imu scan --all` lists what is around)"
            )
        if self._phase == "waiting for data":
            return f"{self._who()} connected but sent no data within {t}"
        return f"{self._who()} did not accept a connection within {t} ({self._phase})"

    def _stop_requested(self) -> bool:
        return self._stopping

    async def _sleep_unless_stopping(self, delay_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay_s)
        if not self._stopping:
            self._wake.clear()

    async def _locate(self, *, first: bool) -> Any:
        """Scan until the wanted device advertises; returns bleak's BLEDevice."""
        from bleak import BleakScanner

        self._phase = "looking for the sensor"
        loop = asyncio.get_running_loop()
        hit: asyncio.Future[tuple[Any, FoundDevice]] = loop.create_future()
        want = (self.found.address if self.found else self.requested_device) or None
        wrong: list[FoundDevice] = []

        def on_advertisement(device: Any, adv: Any) -> None:
            if hit.done():
                return
            found = self._advertised(device, adv, want)
            if found is None:
                return
            if found.supported:
                hit.set_result((device, found))
            elif want is not None and not wrong:
                wrong.append(found)

        with _translate_errors("cannot scan for Bluetooth devices"):
            async with BleakScanner(detection_callback=on_advertisement):
                while not (await asyncio.wait({hit}, timeout=0.5))[0]:
                    self._check_scan(wrong[0] if wrong and first else None)
        device, found = hit.result()
        if self.found is None:
            self.found = found
        return device

    def _advertised(self, device: Any, adv: Any, want: str | None) -> FoundDevice | None:
        """The device behind an advertisement, if it is the one wanted (``want``: its address or
        name; None: any), with ``--profile`` applied."""
        name = adv.local_name or device.name
        uuids = tuple(u.lower() for u in adv.service_uuids)
        if want is not None and want.lower() not in (
            str(device.address).lower(),
            (name or "").lower(),
        ):
            return None
        found = _found(device, adv, name, uuids)
        override = self._profile_override
        if override is not None and (want is not None or override.matches(name, uuids)):
            found = replace(found, profile_key=override.key, model=override.model)
        return found

    def _check_scan(self, wrong: FoundDevice | None) -> None:
        """While scanning: stop when asked to; give up on a wanted device of an unknown kind."""
        if self._stopping:
            raise _StopRequested
        if wrong is not None:
            raise _FatalSetup(
                f"{wrong.describe()} is not a sensor this tool knows (advertises "
                f"{', '.join(wrong.service_uuids) or 'no services'}); pass --profile "
                "to say which protocol it speaks"
            )

    def _setup_profile(self) -> tuple[SensorProfile, Decoder]:
        if self.profile is None or self.decoder is None:
            from imu.sensors import get_profile

            assert self.found is not None and self.found.profile_key is not None
            profile = self._profile_override or get_profile(self.found.profile_key)
            self.profile = profile
            self.rate_hz = profile.nearest_rate_hz(self.requested_rate_hz)
            self.decoder = profile.new_decoder(self.rate_hz)
        return self.profile, self.decoder

    def _on_notification(self, char_uuid: str) -> Callable[[Any, bytearray], None]:
        queue = self._queue

        def callback(_characteristic: Any, data: bytearray) -> None:
            arrival_s = time.monotonic()
            self._last_rx_s = arrival_s
            queue.put_nowait(_Notification(char_uuid, arrival_s, bytes(data)))

        return callback

    async def _session(self, ble_device: Any, timer: asyncio.Timeout, *, first: bool) -> _End:
        """One connection: connect, configure, wait for data, stream until it ends."""
        from bleak import BleakClient

        profile, _ = self._setup_profile()
        self._phase = "connecting"
        lost = asyncio.Event()

        def on_disconnect(_client: Any) -> None:
            lost.set()
            self._wake.set()

        loop = asyncio.get_running_loop()
        timeout_s = max(0.1, (timer.when() or loop.time()) - loop.time())
        async with BleakClient(
            ble_device, disconnected_callback=on_disconnect, timeout=timeout_s
        ) as client:
            self._phase = "configuring"
            self._emit(LinkState.CONFIGURING, f"connected to {self._who()}; configuring")
            if not first or self._streamed:
                self._queue.put_nowait(_Relinked())
            started_s = time.monotonic()
            await self._configure(client, profile)
            self._phase = "waiting for data"
            if not await self._first_data(started_s, lost):
                return _End.STOPPED
            timer.reschedule(None)  # streaming: no deadline from here on
            self._phase = "streaming"
            self._streamed = True
            if not first:
                self._reconnects += 1
            self._emit(LinkState.STREAMING, f"streaming from {self._who()} at {self.rate_hz:g} Hz")
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            end = await self._watch(lost)
            if end is _End.STOPPED and client.is_connected:
                await self._send_stop(client, profile)
                await self._until_quiet()
            return end

    async def _configure(self, client: Any, profile: SensorProfile) -> None:
        """Subscribe, read the configuration characteristics, send the start commands."""
        for uuid in (profile.notify_uuid, *profile.extra_notify_uuids):
            with _translate_errors(f"cannot subscribe to {uuid}"):
                if client.services.get_characteristic(uuid) is None:
                    raise _FatalSetup(
                        f"{self._who()} has no characteristic {uuid}: is it really a "
                        f"{profile.model}? (try another --profile)"
                    )
                await client.start_notify(uuid, self._on_notification(uuid.lower()))
        for uuid in profile.read_uuids:
            with _translate_errors(f"cannot read {uuid}"):
                value = await client.read_gatt_char(uuid)
            self._queue.put_nowait(_Configure(uuid.lower(), bytes(value)))
        for write in profile.start_commands(self.rate_hz):
            with _translate_errors(f"cannot send {write.description or 'a start command'}"):
                await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
            if write.pause_after_s > 0:
                await asyncio.sleep(write.pause_after_s)

    async def _first_data(self, started_s: float, lost: asyncio.Event) -> bool:
        """Wait for the first notification after ``started_s``; False: asked to stop first."""
        while self._last_rx_s < started_s:
            if lost.is_set():
                raise SensorError(f"{self._who()} disconnected while starting")
            if self._stopping:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _watch(self, lost: asyncio.Event) -> _End:
        """Wait until the link drops, goes silent, or we are asked to stop."""
        while True:
            if self._stopping:
                return _End.STOPPED
            if lost.is_set():
                return _End.LOST
            silent_s = time.monotonic() - self._last_rx_s
            if silent_s > self.stall_timeout_s:
                return _End.STALLED
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.25)
            if not self._stopping:
                self._wake.clear()

    async def _until_quiet(self, quiet_s: float = 0.1, max_s: float = 1.0) -> None:
        """Let notifications already on their way arrive before disconnecting."""
        give_up = time.monotonic() + max_s
        while time.monotonic() < give_up and time.monotonic() - self._last_rx_s < quiet_s:
            await asyncio.sleep(quiet_s / 4)

    async def _send_stop(self, client: Any, profile: SensorProfile) -> None:
        from bleak.exc import BleakError

        with contextlib.suppress(BleakError, OSError, EOFError, TimeoutError):
            async with asyncio.timeout(2.0):
                for write in profile.stop_commands():
                    await client.write_gatt_char(
                        write.char_uuid, write.data, response=write.response
                    )


async def stream(
    device: str | None,
    *,
    rate_hz: float,
    profile_key: str | None = None,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    reconnect_timeout_s: float = DEFAULT_RECONNECT_TIMEOUT_S,
    on_status: Callable[[LinkStatus], None] | None = None,
) -> AsyncIterator[SampleBlock]:
    """Sample blocks from one sensor until the consumer stops (see :class:`SensorLink`)."""
    async with SensorLink(
        device,
        rate_hz=rate_hz,
        profile_key=profile_key,
        connect_timeout_s=connect_timeout_s,
        reconnect_timeout_s=reconnect_timeout_s,
        on_status=on_status,
    ) as link:
        async for block in link.blocks():
            yield block
