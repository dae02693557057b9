"""``polar``: Polar Verity Sense / OH1 through the PMD (Polar Measurement Data) service.

Sources: ``firmware_notes/polar.md`` (Polar's own ``polar-ble-sdk``). The control point
(``…5C81``, write + indicate) takes ``02 <type> <settings>`` to start a measurement and
``03 <type>`` to stop it; it answers ``F0 <op> <type> <status> <more> <parameters>``, where a
start's parameters carry the scale ``FACTOR`` (setting 5, float32). Data frames on ``…5C82``:
``u8 measurement type, u64 time stamp (ns, of the frame's LAST sample), u8 frame type`` (bit 7 =
delta-compressed) then the samples. A compressed frame is one reference sample (each channel a
signed little-endian integer of the resolution) followed by blocks ``u8 bit width, u8 count``
and ``count`` samples of signed deltas packed LSB first.

Accelerometer (type 2) and gyroscope (type 5) arrive as separate streams with their own time
stamps; the decoder times each from the device clock and pairs them sample by sample.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.sensors._common import DeviceClock, FloatArray, as_samples, check_chunk, make_block
from imu.sensors.base import Decoder, DecoderStats, GattWrite, SampleBlock, SensorProfile

__all__ = [
    "CONTROL_UUID",
    "DATA_UUID",
    "MEAS_ACC",
    "MEAS_GYRO",
    "SERVICE_UUID",
    "PolarDecoder",
    "PolarProfile",
    "decode_delta_frame",
    "encode_data_frame",
    "encode_delta_frame",
    "encode_start_response",
    "start_command",
    "stop_command",
]

_BASE = "-02e7-f387-1cad-8acd2d8df0c8"
SERVICE_UUID = "fb005c80" + _BASE
CONTROL_UUID = "fb005c81" + _BASE
DATA_UUID = "fb005c82" + _BASE

MEAS_ACC = 0x02
MEAS_GYRO = 0x05
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
DELTA_BIT = 0x80
# settings: type → value size in bytes (PmdSetting.typeToFieldSize)
SET_SAMPLE_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLI, SET_CHANNELS, SET_FACTOR = range(6)
_FIELD_SIZE = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}
HEADER = struct.Struct("<BQB")  # type, time stamp ns, frame type
ACC_RANGE_G = 8
GYRO_RANGE_DPS = 2000
#: factors a Verity Sense typically reports (full scale / 32768; acc in milli-g per count)
DEFAULT_FACTORS = {MEAS_ACC: ACC_RANGE_G * 1000 / 32768, MEAS_GYRO: GYRO_RANGE_DPS / 32768}


def start_command(
    measurement: int, rate_hz: int, *, resolution_bits: int = 16, full_scale: int
) -> bytes:
    """``02 <type>`` + settings (sample rate, resolution, range), as the SDK serialises them."""
    settings = [
        (SET_SAMPLE_RATE, rate_hz),
        (SET_RESOLUTION, resolution_bits),
        (SET_RANGE, full_scale),
    ]
    out = bytes([OP_START, measurement])
    for kind, value in settings:
        out += bytes([kind, 1]) + value.to_bytes(_FIELD_SIZE[kind], "little")
    return out


def stop_command(measurement: int) -> bytes:
    return bytes([OP_STOP, measurement])


def encode_start_response(measurement: int, factor: float, *, status: int = 0) -> bytes:
    """The control-point indication a Polar sensor sends after a start (for virtual sensors)."""
    head = bytes([RESPONSE, OP_START, measurement, status, 0])
    if status:
        return head[:4]
    return head + bytes([SET_FACTOR, 1]) + struct.pack("<f", factor)


def _parse_settings(data: bytes) -> dict[int, list[int]]:
    settings: dict[int, list[int]] = {}
    i = 0
    while i + 2 <= len(data):
        kind, count = data[i], data[i + 1]
        size = _FIELD_SIZE.get(kind)
        if size is None or i + 2 + count * size > len(data):
            break
        values = [
            int.from_bytes(data[i + 2 + k * size : i + 2 + (k + 1) * size], "little")
            for k in range(count)
        ]
        settings[kind] = values
        i += 2 + count * size
    return settings


def decode_delta_frame(
    content: bytes, *, channels: int, resolution_bits: int
) -> npt.NDArray[np.int64]:
    """Samples (n, channels) of a delta-compressed PMD frame body; ValueError if truncated."""
    ref_size = math.ceil(resolution_bits / 8)
    if len(content) < channels * ref_size:
        raise ValueError("truncated reference sample")
    current = np.array(
        [
            int.from_bytes(content[c * ref_size : (c + 1) * ref_size], "little", signed=True)
            for c in range(channels)
        ],
        dtype=np.int64,
    )
    samples = [current]
    offset = channels * ref_size
    while offset < len(content):
        if offset + 2 > len(content):
            raise ValueError("truncated delta block header")
        width, count = content[offset], content[offset + 1]
        offset += 2
        nbytes = math.ceil(width * count * channels / 8)
        if offset + nbytes > len(content):
            raise ValueError("truncated delta block")
        bits = np.unpackbits(np.frombuffer(content, np.uint8, nbytes, offset), bitorder="little")
        offset += nbytes
        if count == 0 or width == 0:  # Polar's SDK adds no samples for an empty block
            continue
        fields = bits[: width * count * channels].reshape(count * channels, width).astype(np.int64)
        deltas = fields @ (np.int64(1) << np.arange(width, dtype=np.int64))
        deltas = np.where(deltas >= 1 << (width - 1), deltas - (1 << width), deltas)
        steps = np.cumsum(deltas.reshape(count, channels), axis=0) + samples[-1]
        samples.extend(steps)
    return np.vstack(samples)


def encode_delta_frame(counts: npt.ArrayLike, *, resolution_bits: int = 16) -> bytes:
    """Delta-compress integer samples (n, channels): a reference sample, then one block."""
    values = np.asarray(counts, dtype=np.int64)
    n = values.shape[0]
    ref_size = math.ceil(resolution_bits / 8)
    out = b"".join(int(v).to_bytes(ref_size, "little", signed=True) for v in values[0])
    if n == 1:
        return out
    deltas = np.diff(values, axis=0)
    top, bottom = int(deltas.max()), int(deltas.min())
    width = max(top.bit_length(), (-bottom - 1).bit_length()) + 1  # two's complement
    unsigned = (deltas.reshape(-1) % (1 << width)).astype(np.int64)
    bits = ((unsigned[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
    return out + bytes([width, n - 1]) + np.packbits(bits, bitorder="little").tobytes()


def encode_data_frame(
    measurement: int, last_time_ns: int, counts: npt.ArrayLike, *, resolution_bits: int = 16
) -> bytes:
    """A compressed PMD data frame (frame type 0x80 for gyro, 0x81 for acc as a Verity Sense
    sends them) whose last sample was taken at ``last_time_ns``."""
    frame_type = DELTA_BIT | (1 if measurement == MEAS_ACC else 0)
    header = HEADER.pack(measurement, last_time_ns, frame_type)
    return header + encode_delta_frame(counts, resolution_bits=resolution_bits)


@dataclass
class _Stream:
    clock: DeviceClock
    factor: float
    times: deque[float]
    values: deque[FloatArray]
    lost: int = 0


class PolarDecoder(Decoder):
    """Decodes PMD accelerometer + gyroscope frames and pairs them into 6-axis samples."""

    def __init__(self, rate_hz: float) -> None:
        super().__init__()
        if rate_hz <= 0:
            raise ConfigError(f"rate must be positive, got {rate_hz}")
        self.period_s = 1.0 / rate_hz
        self.streams = {
            m: _Stream(
                DeviceClock(self.period_s, tick_s=1e-9, wrap=None, anchor_last=True),
                DEFAULT_FACTORS[m],
                deque(),
                deque(),
            )
            for m in (MEAS_ACC, MEAS_GYRO)
        }
        #: start-response status per measurement type (0 = success)
        self.start_status: dict[int, int] = {}

    def reset_link(self) -> None:
        for stream in self.streams.values():
            stream.clock.new_stream()
            stream.times.clear()
            stream.values.clear()

    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        uuid = char_uuid.lower()
        if uuid == CONTROL_UUID:
            self._control(payload)
            return []
        if uuid and uuid != DATA_UUID:
            return []
        self.stats.notifications += 1
        if len(payload) < HEADER.size:
            self.stats.error(f"Polar PMD frame of {len(payload)} bytes")
            return []
        measurement, stamp_ns, frame_type = HEADER.unpack_from(payload)
        stream = self.streams.get(measurement)
        if stream is None:
            self.stats.error(f"Polar PMD measurement type {measurement} not requested")
            return []
        values = self._values(measurement, frame_type, payload[HEADER.size :], stream.factor)
        if values is None:
            return []
        times, lost = stream.clock.place(stamp_ns, values.shape[0], DecoderStats())
        if measurement == MEAS_ACC:
            self.stats.lost_samples += lost
            stream.lost += lost
        stream.times.extend(times.tolist())
        stream.values.extend(values)
        return self._pair()

    def _control(self, payload: bytes) -> None:
        if len(payload) < 4 or payload[0] != RESPONSE:
            self.stats.error(f"Polar control response {payload.hex(' ')} not understood")
            return
        self.stats.responses += 1
        op, measurement, status = payload[1], payload[2], payload[3]
        if op != OP_START:
            return
        self.start_status[measurement] = status
        if status:
            self.stats.last_error = f"Polar refused to start measurement {measurement}: {status}"
            return
        factor = _parse_settings(payload[5:]).get(SET_FACTOR)
        stream = self.streams.get(measurement)
        if factor and stream is not None:
            stream.factor = struct.unpack("<f", factor[0].to_bytes(4, "little"))[0]

    def _values(
        self, measurement: int, frame_type: int, content: bytes, factor: float
    ) -> FloatArray | None:
        kind = frame_type & 0x7F
        try:
            if frame_type & DELTA_BIT:
                if measurement == MEAS_GYRO and kind == 1:  # float32 deltas: not used by Verity
                    raise ValueError("float gyro frames unsupported")
                if kind not in (0, 1):
                    raise ValueError(f"compressed frame type {kind} unsupported")
                counts = decode_delta_frame(content, channels=3, resolution_bits=16)
                scaled = counts.astype(np.float64) * float(factor)
                if measurement == MEAS_ACC:
                    return scaled if kind == 0 else scaled / 1000.0  # type 0 in g, 1 in mg
                return scaled
            if measurement != MEAS_ACC or kind > 2:
                raise ValueError(f"raw frame type {kind} unsupported")
            size = kind + 1  # raw acc: int8 / int16 / int24 milli-g per channel
            if not content or len(content) % (3 * size):
                raise ValueError("raw frame length is not a whole number of samples")
            raw = [
                int.from_bytes(content[i : i + size], "little", signed=True)
                for i in range(0, len(content), size)
            ]
            return np.asarray(raw, dtype=np.float64).reshape(-1, 3) / 1000.0
        except ValueError as exc:
            self.stats.error(f"Polar PMD frame: {exc}")
            return None

    def _pair(self) -> list[SampleBlock]:
        """Pair accelerometer and gyroscope samples taken within ¾ period of each other."""
        acc, gyro = self.streams[MEAS_ACC], self.streams[MEAS_GYRO]
        tol = 0.75 * self.period_s
        times: list[float] = []
        accs: list[FloatArray] = []
        gyros: list[FloatArray] = []
        dropped = 0
        while acc.times and gyro.times:
            ta, tg = acc.times[0], gyro.times[0]
            if abs(ta - tg) <= tol:
                times.append(acc.times.popleft())
                accs.append(acc.values.popleft())
                gyro.times.popleft()
                gyros.append(gyro.values.popleft())
            elif ta < tg:
                acc.times.popleft()
                acc.values.popleft()
                dropped += 1
            else:
                gyro.times.popleft()
                gyro.values.popleft()
                dropped += 1
        if dropped and self.stats.samples:
            self.stats.lost_samples += dropped
        else:
            dropped = 0  # unmatched samples before the first pair are start-up, not loss
        if not times:
            acc.lost += dropped
            return []
        lost, acc.lost = acc.lost + dropped, 0
        self.stats.samples += len(times)
        return [make_block(np.asarray(times), np.vstack(accs), np.vstack(gyros), lost_before=lost)]


@dataclass(frozen=True)
class PolarProfile(SensorProfile):
    """Polar Verity Sense / OH1 (PMD accelerometer + gyroscope)."""

    key: str = "polar"
    model: str = "Polar Verity Sense / OH1 (PMD service)"
    service_uuid: str = SERVICE_UUID
    notify_uuid: str = DATA_UUID
    write_uuid: str | None = CONTROL_UUID
    name_prefixes: tuple[str, ...] = ("Polar Sense", "Polar OH1")
    rates_hz: tuple[float, ...] = (26.0, 52.0, 104.0, 208.0)
    extra_notify_uuids: tuple[str, ...] = (CONTROL_UUID,)

    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        rate = round(self.nearest_rate_hz(rate_hz))
        return [
            GattWrite(
                CONTROL_UUID,
                start_command(MEAS_ACC, rate, full_scale=ACC_RANGE_G),
                True,
                f"start accelerometer {rate} Hz ±{ACC_RANGE_G} g",
                0.2,
            ),
            GattWrite(
                CONTROL_UUID,
                start_command(MEAS_GYRO, rate, full_scale=GYRO_RANGE_DPS),
                True,
                f"start gyroscope {rate} Hz ±{GYRO_RANGE_DPS} °/s",
                0.2,
            ),
        ]

    def stop_commands(self) -> list[GattWrite]:
        return [
            GattWrite(CONTROL_UUID, stop_command(MEAS_ACC), True, "stop accelerometer"),
            GattWrite(CONTROL_UUID, stop_command(MEAS_GYRO), True, "stop gyroscope"),
        ]

    def new_decoder(self, rate_hz: float) -> PolarDecoder:
        return PolarDecoder(self.nearest_rate_hz(rate_hz))

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        """Data frames only (acc then gyro per chunk), scaled by :data:`DEFAULT_FACTORS`; a
        virtual sensor answers each start write with :func:`encode_start_response` on the
        control point."""
        check_chunk(samples_per_notification)
        t, acc, gyro = as_samples(time_s, acc_g, gyro_dps)
        ns = np.rint(t * 1e9).astype(np.int64)
        acc_counts = np.rint(acc * 1000 / DEFAULT_FACTORS[MEAS_ACC]).astype(np.int64)
        gyro_counts = np.rint(gyro / DEFAULT_FACTORS[MEAS_GYRO]).astype(np.int64)
        acc_counts = np.clip(acc_counts, -32768, 32767)
        gyro_counts = np.clip(gyro_counts, -32768, 32767)
        out = []
        for i in range(0, t.shape[0], samples_per_notification):
            j = min(i + samples_per_notification, t.shape[0])
            out.append(encode_data_frame(MEAS_ACC, int(ns[j - 1]), acc_counts[i:j]))
            out.append(encode_data_frame(MEAS_GYRO, int(ns[j - 1]), gyro_counts[i:j]))
        return out
