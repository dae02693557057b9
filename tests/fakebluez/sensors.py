"""Virtual sensors for the fake BlueZ: any :class:`~imu.sensors.base.SensorProfile` with an encoder.

A :class:`VirtualSensor` advertises like the real model (name, service UUID), exposes the
profile's GATT characteristics, answers the profile's config reads, and once the central has
written the profile's start commands (or, for a profile without any, subscribed) it samples a
synthetic leg motion at ``rate_hz`` on its own clock and notifies the payloads the profile's pure
encoder (:meth:`SensorProfile.encode_notifications`) produces — re-encoded from the current sample
on every start, as firmware restarts its stream.

Every notification actually sent is logged in :attr:`VirtualSensor.delivered` (first sample index,
sample count), so a test can check that each delivered sample arrived, in order, with its
device-clock time. :class:`Faults` injects what a radio and a body do: dropped notifications,
garbage or truncated notifications, an unexpected disconnect mid-stream (the sensor keeps sampling
while away — a real gap — then re-advertises and accepts a reconnect), a ``Connect`` that never
answers, and a sensor that connects but never streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from imu.sensors.base import SensorProfile

from .bluez import CharSpec, Link, Peripheral, ServiceSpec

__all__ = ["Faults", "VirtualSensor", "leg_motion"]

FloatArray = npt.NDArray[np.float64]


def leg_motion(time_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A slow reverse-hyper-like swing: leg angle −90°…−35° every 4 s; returns (acc_g, gyro_dps)."""
    t = np.asarray(time_s, dtype=np.float64)
    period_s = 4.0
    w = 2.0 * math.pi / period_s
    theta_deg = -90.0 + 27.5 * (1.0 - np.cos(w * t))
    theta = np.radians(theta_deg)
    gyro = np.zeros((t.shape[0], 3))
    gyro[:, 0] = 27.5 * w * np.sin(w * t)  # d theta / dt in deg/s
    acc = np.zeros((t.shape[0], 3))
    acc[:, 1] = np.cos(theta)
    acc[:, 2] = -np.sin(theta)
    acc[:, 0] = 0.01 * np.sin(3.0 * w * t)
    return acc, gyro


@dataclass
class Faults:
    """What goes wrong. Counts are in notifications since the (last) start of the stream."""

    #: drop every n-th notification (never sent: its samples are lost)
    drop_every: int = 0
    #: before every n-th notification, send an extra one that is garbage (truncated header)
    garbage_every: int = 0
    #: replace every n-th notification by a truncated copy (malformed, and its samples lost)
    truncate_every: int = 0
    #: drop the link this long after streaming first started (once)
    disconnect_after_s: float | None = None
    #: stay away (no adverts, connects fail) this long after that disconnect
    away_s: float = 0.5
    #: ``Connect`` never answers
    connect_hangs: bool = False
    #: connects and takes the start commands, but never notifies
    silent: bool = False
    #: stop notifying (still connected) this long after streaming first started, for ``mute_s``
    mute_after_s: float | None = None
    mute_s: float = 1.0


@dataclass
class VirtualSensor(Peripheral):
    """A sensor of ``profile``'s model (see the module docstring)."""

    profile: SensorProfile | None = None
    rate_hz: float = 100.0
    samples_per_notification: int = 1
    device_t0_s: float = 12.5  #: device clock at sample 0 (time since the sensor booted)
    faults: Faults = field(default_factory=Faults)
    #: advertise the profile's service UUID (False: recognisable by name only, or not at all)
    advertise_service: bool = True
    #: (first sample index, samples) of every data notification sent
    delivered: list[tuple[int, int]] = field(default_factory=list)
    starts: int = 0  #: start commands taken
    disconnects: int = 0  #: unexpected disconnects injected
    garbage_sent: int = 0
    truncated_sent: int = 0
    dropped: int = 0

    def __post_init__(self) -> None:
        p = self._profile
        flags: dict[str, list[str]] = {}
        for u in (p.notify_uuid, *p.extra_notify_uuids):
            flags.setdefault(u.lower(), []).append("notify")
        if p.write_uuid is not None:
            flags.setdefault(p.write_uuid.lower(), []).extend(["write", "write-without-response"])
        for u in p.read_uuids:
            flags.setdefault(u.lower(), []).append("read")
        chars = [CharSpec(u, tuple(f)) for u, f in flags.items()]
        self.services = (ServiceSpec(p.service_uuid, tuple(chars)),)
        if not self.advertised_uuids and self.advertise_service:
            self.advertised_uuids = (p.service_uuid,)
        self.connect_hangs = self.faults.connect_hangs
        self._expected = [w.data for w in p.start_commands(self.rate_hz)]
        self._pending = list(self._expected)
        self._stop_data = [w.data for w in p.stop_commands()]
        self._running = False
        self._sample0_loop_s = 0.0  # loop time of sample 0
        self._next = 0  # next sample index to notify
        self._packets: list[bytes] = []
        self._packet_k0 = 0  # sample index of self._packets[0]
        self._restart_stream = False
        # firmware quirks: Thingy:52 cannot batch; Polar sends an acc and a gyro frame per chunk
        if p.key == "thingy52":
            self.samples_per_notification = 1
        self._spp = self.samples_per_notification  # samples per chunk
        self._group = 2 if p.key == "polar" else 1  # notifications per chunk
        self._packet_i = 0  # notifications sent since the last start
        self._first_start_loop_s: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._away_task: asyncio.Task[None] | None = None

    @property
    def _profile(self) -> SensorProfile:
        assert self.profile is not None, "VirtualSensor needs a profile"
        return self.profile

    # --- what was sent --------------------------------------------------------------------
    def sample_time_s(self, index: npt.ArrayLike) -> FloatArray:
        """Device-clock time of sample ``index``."""
        return self.device_t0_s + np.asarray(index, dtype=np.float64) / self.rate_hz

    def delivered_indices(self) -> npt.NDArray[np.int64]:
        if not self.delivered:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(k, k + n) for k, n in self.delivered]).astype(np.int64)

    # --- peripheral hooks -----------------------------------------------------------------
    def on_connected(self, link: Link) -> None:
        self._pending = list(self._expected)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._stream_loop())

    def on_disconnected(self, *, by_central: bool) -> None:
        if by_central and self._task is not None:
            # a clean disconnect: the firmware stops its stream and idles
            self._task.cancel()
            self._task = None
            self._running = False

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        if enabled and not self._expected and char_uuid.lower() == self._profile.notify_uuid:
            self._start()

    def on_write(self, char_uuid: str, data: bytes, *, with_response: bool) -> None:
        self._answer_control(char_uuid, data)
        if data in self._stop_data:
            self._running = False
            return
        if self._pending and data == self._pending[0]:
            self._pending.pop(0)
            if not self._pending:
                self._start()

    def _answer_control(self, char_uuid: str, data: bytes) -> None:
        """Control-point responses some firmware sends (Polar PMD: the start response carries
        the scale factor the decoder needs)."""
        p = self._profile
        if p.key == "polar" and self.link is not None and data[:1] == b"\x02":
            from imu.sensors import polar

            measurement = data[1]
            response = polar.encode_start_response(measurement, polar.DEFAULT_FACTORS[measurement])
            self.link.notify(char_uuid, response)

    def on_read(self, char_uuid: str) -> bytes | None:
        return self._profile.read_values(self.rate_hz).get(char_uuid.lower())

    # --- the firmware -----------------------------------------------------------------------
    def _start(self) -> None:
        """Start (or restart) the stream. The sample clock runs from the first start on: a
        restart after a stop or a reconnect resumes with the sample being taken now."""
        self.starts += 1
        loop_now = asyncio.get_running_loop().time()
        self._running = True
        if self._first_start_loop_s is None:
            self._first_start_loop_s = loop_now
            self._sample0_loop_s = loop_now
            self._next = 0
        else:
            self._next = max(self._next, int((loop_now - self._sample0_loop_s) * self.rate_hz))
        # the stream (sequence numbers, start flag) restarts with the first packet sent
        self._restart_stream = True

    def _encode_from(self, k0: int, horizon_s: float = 30.0) -> None:
        n = int(horizon_s * self.rate_hz)
        n -= n % self.samples_per_notification
        idx = np.arange(k0, k0 + n)
        t = self.sample_time_s(idx)
        acc, gyro = leg_motion(t - self.device_t0_s)
        self._packets = self._profile.encode_notifications(
            t, acc, gyro, samples_per_notification=self.samples_per_notification
        )
        assert len(self._packets) == self._group * n // self._spp, "unexpected packet layout"
        self._packet_k0 = k0
        self._packet_i = 0

    async def _stream_loop(self) -> None:
        loop = asyncio.get_running_loop()
        tick_s = min(0.01, self.samples_per_notification / self.rate_hz)
        while True:
            await asyncio.sleep(tick_s)
            if not self._running:
                continue
            now = loop.time()
            due = int((now - self._sample0_loop_s) * self.rate_hz)  # samples taken so far
            while self._next + self._spp <= due:
                self._emit(self._next)
                self._next += self._spp
            f = self.faults
            if (
                f.disconnect_after_s is not None
                and self.disconnects == 0
                and self._first_start_loop_s is not None
                and now - self._first_start_loop_s >= f.disconnect_after_s
                and self.link is not None
            ):
                self._drop_link()

    def _emit(self, k: int) -> None:
        link = self.link
        if link is None or not link.is_notifying(self._profile.notify_uuid) or self._muted():
            return  # sampled but nobody hears it: a real gap
        j = (k - self._packet_k0) // self._spp * self._group
        if self._restart_stream or j >= len(self._packets):
            self._restart_stream = False
            self._encode_from(k)
            j = 0
        chunk = self._packets[j : j + self._group]
        self._packet_i += 1
        i = self._packet_i
        f = self.faults
        uuid = self._profile.notify_uuid
        if f.garbage_every and i % f.garbage_every == 0:
            link.notify(uuid, chunk[0][:3])
            self.garbage_sent += 1
        if f.drop_every and i % f.drop_every == 0:
            self.dropped += 1
            return
        if f.truncate_every and i % f.truncate_every == 0:
            link.notify(uuid, chunk[0][: max(1, len(chunk[0]) // 2 - 1)])
            self.truncated_sent += 1
            return
        if all([link.notify(uuid, payload) for payload in chunk]):
            self.delivered.append((k, self._spp))

    def _muted(self) -> bool:
        f = self.faults
        if f.silent:
            return True
        if f.mute_after_s is None or self._first_start_loop_s is None:
            return False
        since = asyncio.get_running_loop().time() - self._first_start_loop_s - f.mute_after_s
        return 0.0 <= since < f.mute_s

    def _drop_link(self) -> None:
        self.disconnects += 1
        self.present = False
        assert self.link is not None
        self.link.drop()
        self._away_task = asyncio.get_running_loop().create_task(self._come_back())

    async def _come_back(self) -> None:
        await asyncio.sleep(self.faults.away_s)
        self.present = True

    async def shutdown(self) -> None:
        for task in (self._task, self._away_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._away_task = None
