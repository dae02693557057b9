"""The interface every sensor profile implements. Pure: no bleak, no I/O, no clocks.

A *profile* knows a sensor model's advertisement, its GATT UUIDs, the writes that configure and
start it, and makes a fresh *decoder* per connection. A decoder turns notification payloads into
blocks of samples with times from the device clock (or, where the protocol has none, from the
configured rate), detects lost samples, and counts malformed payloads instead of failing.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["Decoder", "DecoderStats", "GattWrite", "SampleBlock", "SensorProfile"]


@dataclass(frozen=True)
class SampleBlock:
    """Samples decoded from one or more notifications, in order."""

    time_s: npt.NDArray[np.float64]  #: device-clock time of each sample, s (monotonic)
    acc_g: npt.NDArray[np.float64]  #: (n, 3) specific force, g, sensor axes
    gyro_dps: npt.NDArray[np.float64]  #: (n, 3) angular rate, °/s, sensor axes
    #: samples known to be missing just before this block (sequence-number or clock jump)
    lost_before: int = 0
    #: per-sample sequence numbers where the protocol has them
    seq: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])


@dataclass(frozen=True)
class GattWrite:
    """One write to a characteristic, e.g. a start command."""

    char_uuid: str
    data: bytes
    response: bool = True
    description: str = ""
    #: wait this long after the write before the next one (some sensors need it)
    pause_after_s: float = 0.0


@dataclass
class DecoderStats:
    """Counters a decoder keeps for the live view and the run record."""

    notifications: int = 0
    samples: int = 0
    malformed: int = 0
    lost_samples: int = 0
    last_error: str = ""
    #: payloads that were well formed but out of order or repeated (skipped)
    out_of_order: int = 0
    #: times the decoder had to re-anchor its time line (reconnect, device restart, clock jump)
    resyncs: int = 0
    #: control / command responses seen (not sample data)
    responses: int = 0

    def error(self, message: str) -> None:
        """Count one malformed payload and remember why."""
        self.malformed += 1
        self.last_error = message


class Decoder(abc.ABC):
    """Stateful per-connection decoder. Never raises on bad payloads: counts and skips them."""

    def __init__(self) -> None:
        self.stats = DecoderStats()

    @abc.abstractmethod
    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        """Decode one notification (``arrival_s`` = host monotonic time, used only where the
        protocol carries no clock). Returns zero or more blocks."""

    def configure(self, char_uuid: str, value: bytes) -> None:  # noqa: B027 - optional hook
        """Value read from one of the profile's ``read_uuids`` (the transport reads them after
        subscribing and before the start writes). Bad values are counted, never raised."""

    def reset_link(self) -> None:  # noqa: B027 - optional hook
        """Called after a reconnect: the next payload may follow a gap of unknown length."""


@dataclass(frozen=True)
class SensorProfile(abc.ABC):
    """A supported sensor model."""

    key: str  #: short name for ``--profile``, e.g. ``witmotion``
    model: str  #: human name, e.g. ``WitMotion BLE 5.0 (WT901BLECL)``
    service_uuid: str  #: primary service, lower case
    notify_uuid: str  #: characteristic that streams samples
    write_uuid: str | None = None  #: characteristic that takes commands
    name_prefixes: tuple[str, ...] = ()  #: advertised names that identify the model
    rates_hz: tuple[float, ...] = ()  #: rates the sensor can be set to
    extra_notify_uuids: tuple[str, ...] = field(default=())  #: further streams to subscribe
    #: characteristics to read once connected (after subscribing, before the start writes);
    #: each value goes to :meth:`Decoder.configure`
    read_uuids: tuple[str, ...] = field(default=())

    def matches(self, name: str | None, service_uuids: Sequence[str]) -> bool:
        """Does an advertisement (local name, service UUIDs) belong to this model?"""
        uuids = {u.lower() for u in service_uuids}
        if self.service_uuid.lower() in uuids:
            return True
        if not name:
            return False
        return any(name.startswith(p) for p in self.name_prefixes)

    def nearest_rate_hz(self, rate_hz: float) -> float:
        """The supported rate closest to ``rate_hz`` (the request itself if any rate goes)."""
        if not self.rates_hz:
            return rate_hz
        return min(self.rates_hz, key=lambda r: (abs(r - rate_hz), -r))

    @abc.abstractmethod
    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        """Writes that configure ``rate_hz`` and start streaming (after notifications are on)."""

    def stop_commands(self) -> list[GattWrite]:
        """Writes that stop streaming before a clean disconnect."""
        return []

    @abc.abstractmethod
    def new_decoder(self, rate_hz: float) -> Decoder:
        """A fresh decoder for one recording at ``rate_hz``."""

    # --- virtual sensors (tests, the fake BlueZ peripheral, ``imu simulate``) -------------

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        """Payloads a real sensor of this model would notify on ``notify_uuid`` for these
        samples (``time_s`` on the device clock, ``acc_g`` and ``gyro_dps`` of shape (n, 3)).
        Decoding them with :meth:`new_decoder` gives the samples back within the protocol's
        quantisation."""
        raise NotImplementedError(f"{self.key}: no encoder for virtual sensors")

    def read_values(self, rate_hz: float) -> dict[str, bytes]:
        """What a virtual sensor returns when ``read_uuids`` are read (after starting at
        ``rate_hz``)."""
        return {}
