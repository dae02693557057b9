"""``thingy52``: Nordic Thingy:52, motion service, raw-data characteristic.

Sources: ``firmware_notes/thingy52.md`` (Nordic-Thingy52-FW ``m_motion.c``, ``ble_tms.h``). The
raw-data characteristic notifies 18 bytes: acc, gyro, compass xyz as int16 LE, which the firmware
derives from the motion library's Q16 values by shifting right 6, 11 and 12 bits — so acc is
Q10 (÷ 1024 → g), gyro Q5 (÷ 32 → °/s), compass Q4 (÷ 16 → µT). The 9-byte config characteristic
(``u16 pedo_ms, u16 temp_ms, u16 compass_ms, u16 motion_freq_hz, u8 wake_on_motion``) sets the
rate (1…200 Hz accepted by the firmware; the MPU-9250 library does 4…1000). The raw data carry
no time stamp: times come from the configured rate anchored to arrival, as for WitMotion.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.sensors._common import ArrivalClock, as_samples, check_chunk, make_block
from imu.sensors.base import Decoder, GattWrite, SampleBlock, SensorProfile

__all__ = [
    "CONFIG_UUID",
    "RAW_UUID",
    "SERVICE_UUID",
    "Thingy52Decoder",
    "Thingy52Profile",
    "encode_config",
    "encode_raw",
]

_BASE = "-9b35-4933-9b10-52ffa9740042"
SERVICE_UUID = "ef680400" + _BASE
CONFIG_UUID = "ef680401" + _BASE
RAW_UUID = "ef680406" + _BASE

RAW_SIZE = 18
ACC_LSB_PER_G = 1 << 10  # Q10
GYRO_LSB_PER_DPS = 1 << 5  # Q5
COMPASS_LSB_PER_UT = 1 << 4  # Q4
CONFIG = struct.Struct("<HHHHB")
FREQ_MIN_HZ, FREQ_MAX_HZ = 1, 200


def encode_config(
    motion_freq_hz: int,
    *,
    pedo_interval_ms: int = 1000,
    temp_interval_ms: int = 500,
    compass_interval_ms: int = 100,
    wake_on_motion: bool = False,
) -> bytes:
    """The 9-byte motion config (the firmware rejects out-of-range fields with a GATT error)."""
    if not FREQ_MIN_HZ <= motion_freq_hz <= FREQ_MAX_HZ:
        raise ConfigError(f"Thingy:52 motion rate must be 1…200 Hz, got {motion_freq_hz}")
    for name, ms in (
        ("pedometer", pedo_interval_ms),
        ("temperature", temp_interval_ms),
        ("compass", compass_interval_ms),
    ):
        if not 100 <= ms <= 5000:
            raise ConfigError(f"Thingy:52 {name} interval must be 100…5000 ms, got {ms}")
    return CONFIG.pack(
        pedo_interval_ms, temp_interval_ms, compass_interval_ms, motion_freq_hz, int(wake_on_motion)
    )


def encode_raw(
    acc_g: npt.ArrayLike, gyro_dps: npt.ArrayLike, compass_ut: npt.ArrayLike | None = None
) -> list[bytes]:
    """Raw-data notifications (one sample each) as the Thingy:52 firmware sends them,
    saturating like it does (acc to ±31 g, gyro to ±1023 °/s, compass to ±2047 µT)."""
    acc = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
    gyro = np.asarray(gyro_dps, dtype=np.float64).reshape(-1, 3)
    n = acc.shape[0]
    mag = np.zeros((n, 3)) if compass_ut is None else np.asarray(compass_ut, np.float64)
    mag = mag.reshape(-1, 3)
    if gyro.shape[0] != n or mag.shape[0] != n:
        raise ConfigError("acc_g, gyro_dps and compass_ut need the same number of rows")
    counts = np.empty((n, 9), dtype="<i2")
    for cols, values, lsb, int_bits in (
        (slice(0, 3), acc, ACC_LSB_PER_G, 6),
        (slice(3, 6), gyro, GYRO_LSB_PER_DPS, 11),
        (slice(6, 9), mag, COMPASS_LSB_PER_UT, 12),
    ):
        limit = 1 << (int_bits - 1)
        counts[:, cols] = np.floor(np.clip(values, -limit, limit - 1) * lsb)
    return [row.tobytes() for row in counts]


class Thingy52Decoder(Decoder):
    """Decodes Thingy:52 raw-data notifications."""

    def __init__(self, rate_hz: float, *, jitter_s: float = 0.03) -> None:
        super().__init__()
        if rate_hz <= 0:
            raise ConfigError(f"rate must be positive, got {rate_hz}")
        self.clock = ArrivalClock(1.0 / rate_hz, jitter_s=jitter_s)
        #: last compass reading, µT (not part of SampleBlock)
        self.last_compass_ut: tuple[float, float, float] | None = None

    def reset_link(self) -> None:
        self.clock.reset()

    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        if char_uuid and char_uuid.lower() != RAW_UUID:
            return []
        self.stats.notifications += 1
        if len(payload) != RAW_SIZE:
            self.stats.error(f"Thingy:52 raw data of {len(payload)} bytes, expected {RAW_SIZE}")
            return []
        counts = np.frombuffer(payload, dtype="<i2").astype(np.float64)
        mag = counts[6:9] / COMPASS_LSB_PER_UT
        self.last_compass_ut = (float(mag[0]), float(mag[1]), float(mag[2]))
        times, lost = self.clock.place(1, arrival_s, self.stats)
        self.stats.samples += 1
        return [
            make_block(
                times,
                counts[0:3] / ACC_LSB_PER_G,
                counts[3:6] / GYRO_LSB_PER_DPS,
                lost_before=lost,
            )
        ]


@dataclass(frozen=True)
class Thingy52Profile(SensorProfile):
    """Nordic Thingy:52 (motion service raw data)."""

    key: str = "thingy52"
    model: str = "Nordic Thingy:52 (motion service, raw data)"
    service_uuid: str = SERVICE_UUID
    notify_uuid: str = RAW_UUID
    write_uuid: str | None = CONFIG_UUID
    name_prefixes: tuple[str, ...] = ("Thingy",)
    rates_hz: tuple[float, ...] = (5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0)
    jitter_s: float = 0.03

    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        rate = round(self.nearest_rate_hz(rate_hz))
        return [GattWrite(CONFIG_UUID, encode_config(rate), True, f"motion rate {rate} Hz")]

    def new_decoder(self, rate_hz: float) -> Thingy52Decoder:
        return Thingy52Decoder(self.nearest_rate_hz(rate_hz), jitter_s=self.jitter_s)

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        """One sample per notification whatever ``samples_per_notification`` says: the
        firmware has no batching."""
        check_chunk(samples_per_notification)
        _, acc, gyro = as_samples(time_s, acc_g, gyro_dps)
        return encode_raw(acc, gyro)
