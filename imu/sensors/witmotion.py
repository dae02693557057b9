"""``witmotion``: WitMotion BLE 5.0 sensors (WT901BLECL, BWT901BLE, WT9011DCL).

Sources: ``firmware_notes/witmotion.md``. The sensor streams once notifications are on: 20-byte
frames ``55 61`` + 9 × int16 LE (acc × 16/32768 g, gyro × 2000/32768 °/s, roll/pitch/yaw ×
180/32768 °). Frames carry no time stamp or counter, and a notification may hold part of a frame
or several, so the decoder treats notifications as one byte stream and resynchronises on
``55 61``. Register replies (``55 71``) are parsed for the rate read-back and otherwise skipped.

Times: the sensor has no clock we can see, so samples are spaced at the configured rate and
anchored to host arrival times (:class:`imu.sensors._common.ArrivalClock`); a notification that
arrives more than 1.5 periods (plus BLE batching jitter) later than the time line predicts counts
the missing samples as lost.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.sensors._common import ArrivalClock, as_samples, check_chunk, make_block, quantise_i16
from imu.sensors.base import Decoder, GattWrite, SampleBlock, SensorProfile

__all__ = [
    "NOTIFY_UUID",
    "RATE_CODES",
    "SERVICE_UUID",
    "WRITE_UUID",
    "WitMotionDecoder",
    "WitMotionProfile",
    "encode_frames",
    "encode_register_reply",
    "rate_command",
    "read_register_command",
]

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

FRAME_SIZE = 20
HEADER = 0x55
FLAG_DATA = 0x61
FLAG_REGISTERS = 0x71
ACC_RANGE_G = 16.0
GYRO_RANGE_DPS = 2000.0
ANGLE_RANGE_DEG = 180.0
REG_RATE = 0x03

#: return-rate register (0x03) codes, from WitMotion's BLE 5.0 Android SDK (``SetRRate``) and
#: the serial protocol table; 0x0A is 125 Hz on serial sensors but 200 Hz in one BLE manual,
#: so it is not used (200 Hz is 0x0B in WitMotion's own BLE 5.0 SDK)
RATE_CODES: dict[float, int] = {
    0.2: 0x01,
    0.5: 0x02,
    1.0: 0x03,
    2.0: 0x04,
    5.0: 0x05,
    10.0: 0x06,
    20.0: 0x07,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0B,
}
_CODE_RATES = {code: rate for rate, code in RATE_CODES.items()}

UNLOCK = bytes.fromhex("ffaa6988b5")
SAVE = bytes.fromhex("ffaa000000")


def rate_command(rate_hz: float) -> bytes:
    """``FF AA 03 <code> 00``: set the return rate (needs the unlock first)."""
    try:
        code = RATE_CODES[float(rate_hz)]
    except KeyError:
        valid = ", ".join(f"{r:g}" for r in RATE_CODES)
        raise ConfigError(
            f"WitMotion rate {rate_hz:g} Hz unsupported; use one of {valid}"
        ) from None
    return bytes([0xFF, 0xAA, REG_RATE, code, 0x00])


def read_register_command(register: int) -> bytes:
    """``FF AA 27 <reg> 00``: the sensor answers with a ``55 71`` frame of 8 registers."""
    return bytes([0xFF, 0xAA, 0x27, register & 0xFF, 0x00])


def encode_frames(
    acc_g: npt.ArrayLike, gyro_dps: npt.ArrayLike, angles_deg: npt.ArrayLike | None = None
) -> bytes:
    """The byte stream a WitMotion sensor sends for these samples (``55 61`` frames, one per
    sample). Split it into notifications any way you like: the decoder does not care."""
    acc = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
    gyro = np.asarray(gyro_dps, dtype=np.float64).reshape(-1, 3)
    n = acc.shape[0]
    ang = (
        np.zeros((n, 3))
        if angles_deg is None
        else np.asarray(angles_deg, np.float64).reshape(-1, 3)
    )
    if gyro.shape[0] != n or ang.shape[0] != n:
        raise ConfigError("acc_g, gyro_dps and angles_deg need the same number of rows")
    frames = np.zeros((n, FRAME_SIZE), dtype=np.uint8)
    frames[:, 0], frames[:, 1] = HEADER, FLAG_DATA
    counts = np.empty((n, 9), dtype="<i2")
    counts[:, 0:3] = quantise_i16(acc, ACC_RANGE_G)
    counts[:, 3:6] = quantise_i16(gyro, GYRO_RANGE_DPS)
    counts[:, 6:9] = quantise_i16(ang, ANGLE_RANGE_DEG)
    frames[:, 2:] = counts.view(np.uint8).reshape(n, 18)
    return frames.tobytes()


def encode_register_reply(start_register: int, values: list[int]) -> bytes:
    """A ``55 71`` register reply: start register, then 8 registers (zero-padded)."""
    regs = (list(values) + [0] * 8)[:8]
    return bytes([HEADER, FLAG_REGISTERS]) + struct.pack("<H8h", start_register, *regs)


class WitMotionDecoder(Decoder):
    """Byte-stream decoder for WitMotion BLE 5.0 notifications."""

    def __init__(self, rate_hz: float, *, jitter_s: float = 0.03) -> None:
        super().__init__()
        if rate_hz <= 0:
            raise ConfigError(f"rate must be positive, got {rate_hz}")
        self.rate_hz = rate_hz
        #: the rate the sensor reported in a ``55 71`` reply to a register-0x03 read, if any
        self.reported_rate_hz: float | None = None
        #: last roll, pitch, yaw (°) the sensor's own filter sent (not part of SampleBlock)
        self.last_angles_deg: tuple[float, float, float] | None = None
        self.clock = ArrivalClock(1.0 / rate_hz, jitter_s=jitter_s)
        self._buf = bytearray()
        self._in_junk = False

    def reset_link(self) -> None:
        self._buf.clear()
        self._in_junk = False
        self.clock.reset()

    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        if char_uuid and char_uuid.lower() != NOTIFY_UUID:
            return []
        self.stats.notifications += 1
        self._buf += payload
        frames = self._take_frames()
        if not frames:
            return []
        counts = np.frombuffer(b"".join(frames), dtype="<i2").reshape(len(frames), 9)
        angles = counts[-1, 6:9] * (ANGLE_RANGE_DEG / 32768.0)
        self.last_angles_deg = (float(angles[0]), float(angles[1]), float(angles[2]))
        times, lost = self.clock.place(len(frames), arrival_s, self.stats)
        self.stats.samples += len(frames)
        return [
            make_block(
                times,
                counts[:, 0:3] * (ACC_RANGE_G / 32768.0),
                counts[:, 3:6] * (GYRO_RANGE_DPS / 32768.0),
                lost_before=lost,
            )
        ]

    def _take_frames(self) -> list[bytes]:
        """Complete ``55 61`` frame bodies (18 bytes each) from the front of the buffer."""
        buf = self._buf
        frames: list[bytes] = []
        i = 0
        while len(buf) - i >= 2:
            if buf[i] == HEADER and buf[i + 1] in (FLAG_DATA, FLAG_REGISTERS):
                if len(buf) - i < FRAME_SIZE:
                    break  # wait for the rest of the frame
                frame = bytes(buf[i : i + FRAME_SIZE])
                if frame[1] == FLAG_DATA:
                    frames.append(frame[2:])
                else:
                    self._register_reply(frame)
                self._in_junk = False
                i += FRAME_SIZE
            else:
                if not self._in_junk:
                    self.stats.error("WitMotion stream out of step; resynchronising on 55 61")
                    self._in_junk = True
                i += 1
        del buf[:i]
        return frames

    def _register_reply(self, frame: bytes) -> None:
        self.stats.responses += 1
        start, *regs = struct.unpack_from("<H8h", frame, 2)
        if start == REG_RATE:
            rate = _CODE_RATES.get(regs[0] & 0xFF)
            if rate is None:
                self.stats.last_error = f"WitMotion reports unknown rate code {regs[0]:#04x}"
                return
            self.reported_rate_hz = rate
            if rate != self.rate_hz:
                self.stats.last_error = (
                    f"WitMotion runs at {rate:g} Hz, not the requested {self.rate_hz:g} Hz; "
                    "timing samples at the reported rate"
                )
                self.rate_hz = rate
                self.clock.period_s = 1.0 / rate


@dataclass(frozen=True)
class WitMotionProfile(SensorProfile):
    """WitMotion BLE 5.0 (WT901BLECL, BWT901BLE, WT9011DCL)."""

    key: str = "witmotion"
    model: str = "WitMotion BLE 5.0 (WT901BLECL, BWT901BLE, WT9011DCL)"
    service_uuid: str = SERVICE_UUID
    notify_uuid: str = NOTIFY_UUID
    write_uuid: str | None = WRITE_UUID
    name_prefixes: tuple[str, ...] = ("WT901", "BWT901", "WT9011")
    rates_hz: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
    #: allowance for BLE batching when detecting lost samples from arrival times, s
    jitter_s: float = 0.03

    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        rate = self.nearest_rate_hz(rate_hz)
        return [
            GattWrite(WRITE_UUID, UNLOCK, False, "unlock registers (10 s)", 0.1),
            GattWrite(WRITE_UUID, rate_command(rate), False, f"return rate {rate:g} Hz", 0.1),
            GattWrite(WRITE_UUID, SAVE, False, "save registers", 0.1),
            GattWrite(WRITE_UUID, read_register_command(REG_RATE), False, "read rate back"),
        ]

    def new_decoder(self, rate_hz: float) -> WitMotionDecoder:
        return WitMotionDecoder(self.nearest_rate_hz(rate_hz), jitter_s=self.jitter_s)

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        check_chunk(samples_per_notification)
        _, acc, gyro = as_samples(time_s, acc_g, gyro_dps)
        stream = encode_frames(acc, gyro)
        step = FRAME_SIZE * samples_per_notification
        return [stream[i : i + step] for i in range(0, len(stream), step)]
