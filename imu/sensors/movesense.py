"""``movesense``: Movesense sensors running the GATT SensorData protocol firmware.

Sources: ``firmware_notes/movesense.md`` (Movesense device library ``gatt_sensordata_app``
sample and the ``meas/imu.yaml`` API). Commands go to ``34800001-…``: ``01 <ref> <path>``
subscribes (path ASCII, e.g. ``/Meas/IMU6/104``), ``02 <ref>`` unsubscribes. Everything comes
back on ``34800002-…``: ``01 <ref> <u16 BE status>`` answers a command, ``02 <ref> <data>``
carries a subscription's notification, serialised in the order of the resource's definition —
for IMU6 ``u32 Timestamp`` (ms, local clock, time of the *first* sample) then N acc vectors then
N gyro vectors, each 3 × float32 LE (m/s², °/s).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.recording import GRAVITY_MPS2
from imu.sensors._common import DeviceClock, as_samples, check_chunk, make_block
from imu.sensors.base import Decoder, GattWrite, SampleBlock, SensorProfile

__all__ = [
    "COMMAND_UUID",
    "DATA_UUID",
    "SERVICE_UUID",
    "MovesenseDecoder",
    "MovesenseProfile",
    "encode_imu6",
    "subscribe_command",
    "unsubscribe_command",
]

_BASE = "-7185-4d5d-b431-630e7050e8f0"
SERVICE_UUID = "34802252" + _BASE
COMMAND_UUID = "34800001" + _BASE
DATA_UUID = "34800002" + _BASE

CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
MSG_RESULT = 0x01
MSG_DATA = 0x02
DEFAULT_REF = 0x63  # the client reference the vendor's example uses; any non-zero byte works
SAMPLE_BYTES = 24  # acc + gyro, 3 × float32 each
_U32 = 1 << 32


def subscribe_command(rate_hz: int, *, ref: int = DEFAULT_REF) -> bytes:
    if not 1 <= ref <= 255:
        raise ConfigError("Movesense client reference must be 1…255")
    return bytes([CMD_SUBSCRIBE, ref]) + f"/Meas/IMU6/{rate_hz}".encode("ascii")


def unsubscribe_command(*, ref: int = DEFAULT_REF) -> bytes:
    return bytes([CMD_UNSUBSCRIBE, ref])


def encode_imu6(
    time_s: npt.ArrayLike,
    acc_g: npt.ArrayLike,
    gyro_dps: npt.ArrayLike,
    *,
    samples_per_notification: int,
    ref: int = DEFAULT_REF,
) -> list[bytes]:
    """Data notifications as Movesense's GATT SensorData firmware sends them for
    ``/Meas/IMU6/<rate>``: ``02 <ref> <u32 ms of the first sample>`` + acc block + gyro block."""
    check_chunk(samples_per_notification)
    t, acc, gyro = as_samples(time_s, acc_g, gyro_dps)
    ms = np.rint(t * 1e3).astype(np.int64) % _U32
    acc_mps2 = (acc * GRAVITY_MPS2).astype("<f4")
    gyro_f = gyro.astype("<f4")
    out = []
    for i in range(0, t.shape[0], samples_per_notification):
        j = i + samples_per_notification
        header = struct.pack("<BBI", MSG_DATA, ref, int(ms[i]))
        out.append(header + acc_mps2[i:j].tobytes() + gyro_f[i:j].tobytes())
    return out


class MovesenseDecoder(Decoder):
    """Decodes ``/Meas/IMU6`` notifications of the GATT SensorData protocol."""

    def __init__(self, rate_hz: float, *, ref: int = DEFAULT_REF) -> None:
        super().__init__()
        if rate_hz <= 0:
            raise ConfigError(f"rate must be positive, got {rate_hz}")
        self.ref = ref
        self.clock = DeviceClock(1.0 / rate_hz, tick_s=1e-3, wrap=_U32, anchor_last=False)
        #: HTTP-style status of the last command response (200 = OK)
        self.last_status: int | None = None

    def reset_link(self) -> None:
        self.clock.new_stream()

    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        if char_uuid and char_uuid.lower() != DATA_UUID:
            return []
        self.stats.notifications += 1
        if len(payload) < 2:
            self.stats.error(f"Movesense message of {len(payload)} bytes")
            return []
        kind, ref = payload[0], payload[1]
        if kind == MSG_RESULT:
            self.stats.responses += 1
            if len(payload) >= 4:
                (self.last_status,) = struct.unpack_from(">H", payload, 2)
                if self.last_status >= 400:
                    self.stats.last_error = f"Movesense command failed: {self.last_status}"
            return []
        if kind != MSG_DATA:
            self.stats.error(f"Movesense message type {kind} unknown")
            return []
        if ref != self.ref:
            self.stats.error(f"Movesense data for reference {ref}, not ours ({self.ref})")
            return []
        body = len(payload) - 6
        if body <= 0 or body % SAMPLE_BYTES:
            self.stats.error(f"Movesense IMU6 message of {len(payload)} bytes is not 6 + N×24")
            return []
        n = body // SAMPLE_BYTES
        (raw_ms,) = struct.unpack_from("<I", payload, 2)
        values = np.frombuffer(payload, dtype="<f4", offset=6).astype(np.float64)
        if not np.all(np.isfinite(values)):
            self.stats.error("Movesense IMU6 message holds NaN or infinite values")
            return []
        acc = values[: 3 * n].reshape(n, 3) / GRAVITY_MPS2
        gyro = values[3 * n :].reshape(n, 3)
        times, lost = self.clock.place(raw_ms, n, self.stats)
        self.stats.samples += n
        return [make_block(times, acc, gyro, lost_before=lost)]


@dataclass(frozen=True)
class MovesenseProfile(SensorProfile):
    """Movesense with the GATT SensorData protocol firmware (``/Meas/IMU6``)."""

    key: str = "movesense"
    model: str = "Movesense (GATT SensorData protocol firmware)"
    service_uuid: str = SERVICE_UUID
    notify_uuid: str = DATA_UUID
    write_uuid: str | None = COMMAND_UUID
    name_prefixes: tuple[str, ...] = ("Movesense",)
    rates_hz: tuple[float, ...] = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
    ref: int = DEFAULT_REF

    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        rate = round(self.nearest_rate_hz(rate_hz))
        data = subscribe_command(rate, ref=self.ref)
        return [GattWrite(COMMAND_UUID, data, True, f"subscribe /Meas/IMU6/{rate}")]

    def stop_commands(self) -> list[GattWrite]:
        return [GattWrite(COMMAND_UUID, unsubscribe_command(ref=self.ref), True, "unsubscribe")]

    def new_decoder(self, rate_hz: float) -> MovesenseDecoder:
        return MovesenseDecoder(self.nearest_rate_hz(rate_hz), ref=self.ref)

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        return encode_imu6(
            time_s, acc_g, gyro_dps, samples_per_notification=samples_per_notification, ref=self.ref
        )
