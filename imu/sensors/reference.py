"""``imu-ref``: our own reference protocol for DIY firmware (nRF52840, ESP32 + IMU, …).

The full specification, with worked byte examples, is ``firmware_notes/reference_protocol.md``.
In short:

* service ``7a1e0001-3c5e-4b9a-8f2d-6e1b0c7d9a54``, advertised name starting ``IMU-REF``;
* data (notify) ``7a1e0002-…``: ``u8 version=1, u8 flags, u16 sequence, u32 time of the first
  sample in µs`` then N × (acc x y z, gyro x y z) as int16, all little-endian;
* control (write) ``7a1e0003-…``: ``01 <u16 rate_hz>`` starts, ``02`` stops;
* config (read) ``7a1e0004-…``: ``u8 version=1, u8 samples_per_packet, u16 rate_hz,
  u16 acc_range_g, u16 gyro_range_dps``; counts × range / 32768 give g and °/s.

Times come from the device clock (u32 µs, unwrapped), losses from the u16 sequence number and
the device clock.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imu.errors import ConfigError
from imu.sensors._common import DeviceClock, as_samples, check_chunk, make_block, quantise_i16
from imu.sensors.base import Decoder, GattWrite, SampleBlock, SensorProfile

__all__ = [
    "CONFIG_UUID",
    "CONTROL_UUID",
    "DATA_UUID",
    "FLAG_OVERFLOW",
    "FLAG_STREAM_START",
    "HEADER_SIZE",
    "NAME_PREFIX",
    "SAMPLE_SIZE",
    "SERVICE_UUID",
    "ControlCommand",
    "ReferenceConfig",
    "ReferenceDecoder",
    "ReferenceProfile",
    "decode_config",
    "encode_config",
    "encode_packets",
    "encode_start",
    "encode_stop",
    "max_samples_per_packet",
    "parse_control",
]

_BASE = "-3c5e-4b9a-8f2d-6e1b0c7d9a54"
SERVICE_UUID = "7a1e0001" + _BASE
DATA_UUID = "7a1e0002" + _BASE
CONTROL_UUID = "7a1e0003" + _BASE
CONFIG_UUID = "7a1e0004" + _BASE
NAME_PREFIX = "IMU-REF"

VERSION = 1
HEADER = struct.Struct("<BBHI")
HEADER_SIZE = HEADER.size  # 8
SAMPLE_SIZE = 12  # 6 × int16
CONFIG = struct.Struct("<BBHHH")
CONFIG_SIZE = CONFIG.size  # 8

#: flags bit 0: first packet after a start command (sequence restarts at 0; not a loss)
FLAG_STREAM_START = 0x01
#: flags bit 1: the device dropped samples before this packet (FIFO or queue overflow)
FLAG_OVERFLOW = 0x02

CMD_START = 0x01
CMD_STOP = 0x02

DEFAULT_ACC_RANGE_G = 16
DEFAULT_GYRO_RANGE_DPS = 2000

_U32 = 1 << 32
_U16 = 1 << 16


@dataclass(frozen=True)
class ReferenceConfig:
    """Contents of the config characteristic."""

    samples_per_packet: int  #: samples the firmware aims to put in one notification
    rate_hz: int  #: output rate of the running (or next) stream, Hz
    acc_range_g: int  #: accelerometer full scale, g (counts × range / 32768 = g)
    gyro_range_dps: int  #: gyroscope full scale, °/s (counts × range / 32768 = °/s)
    version: int = VERSION


@dataclass(frozen=True)
class ControlCommand:
    """A parsed control write (for firmware emulators)."""

    op: str  #: ``"start"`` or ``"stop"``
    rate_hz: int | None = None


def encode_config(config: ReferenceConfig) -> bytes:
    return CONFIG.pack(
        config.version,
        config.samples_per_packet,
        config.rate_hz,
        config.acc_range_g,
        config.gyro_range_dps,
    )


def decode_config(value: bytes) -> ReferenceConfig:
    """Parse the config characteristic (trailing bytes from later versions are ignored)."""
    if len(value) < CONFIG_SIZE:
        raise ConfigError(f"imu-ref config is {len(value)} bytes, needs {CONFIG_SIZE}")
    version, spp, rate, acc_range, gyro_range = CONFIG.unpack_from(value)
    if version < 1 or acc_range == 0 or gyro_range == 0:
        raise ConfigError(f"imu-ref config is invalid: {value.hex(' ')}")
    return ReferenceConfig(spp, rate, acc_range, gyro_range, version)


def encode_start(rate_hz: float) -> bytes:
    rate = round(rate_hz)
    if not 1 <= rate <= 0xFFFF:
        raise ConfigError(f"imu-ref rate must be 1…65535 Hz, got {rate_hz}")
    return struct.pack("<BH", CMD_START, rate)


def encode_stop() -> bytes:
    return bytes([CMD_STOP])


def parse_control(data: bytes) -> ControlCommand:
    """Parse a control write as firmware would; raises ConfigError on anything else."""
    if len(data) == 3 and data[0] == CMD_START:
        (rate,) = struct.unpack_from("<H", data, 1)
        if rate == 0:
            raise ConfigError("imu-ref start with rate 0")
        return ControlCommand("start", rate)
    if data == bytes([CMD_STOP]):
        return ControlCommand("stop")
    raise ConfigError(f"imu-ref: unknown control write {data.hex(' ')}")


def max_samples_per_packet(att_mtu: int) -> int:
    """Most samples one notification can carry with this ATT MTU (payload = MTU − 3)."""
    return max(1, (att_mtu - 3 - HEADER_SIZE) // SAMPLE_SIZE)


def encode_packets(
    time_s: npt.ArrayLike,
    acc_g: npt.ArrayLike,
    gyro_dps: npt.ArrayLike,
    *,
    samples_per_packet: int,
    start_seq: int = 0,
    acc_range_g: int = DEFAULT_ACC_RANGE_G,
    gyro_range_dps: int = DEFAULT_GYRO_RANGE_DPS,
    stream_start: bool = True,
) -> list[bytes]:
    """Data notifications for these samples, as reference firmware would send them.

    ``time_s`` is the device clock (it wraps at 2³² µs); the first packet carries
    ``FLAG_STREAM_START`` when ``stream_start``; sequence numbers start at ``start_seq`` and wrap
    at 2¹⁶. The last packet may hold fewer samples.
    """
    check_chunk(samples_per_packet)
    t, acc, gyro = as_samples(time_s, acc_g, gyro_dps)
    counts = np.empty((t.shape[0], 6), dtype="<i2")
    counts[:, :3] = quantise_i16(acc, acc_range_g)
    counts[:, 3:] = quantise_i16(gyro, gyro_range_dps)
    t_us = np.rint(t * 1e6).astype(np.int64) % _U32
    packets = []
    for k, i in enumerate(range(0, t.shape[0], samples_per_packet)):
        flags = FLAG_STREAM_START if (stream_start and k == 0) else 0
        header = HEADER.pack(VERSION, flags, (start_seq + k) % _U16, int(t_us[i]))
        packets.append(header + counts[i : i + samples_per_packet].tobytes())
    return packets


class ReferenceDecoder(Decoder):
    """Decodes ``imu-ref`` data notifications (see the module docstring)."""

    def __init__(
        self,
        rate_hz: float,
        *,
        acc_range_g: float = DEFAULT_ACC_RANGE_G,
        gyro_range_dps: float = DEFAULT_GYRO_RANGE_DPS,
        data_uuid: str = DATA_UUID,
    ) -> None:
        super().__init__()
        if rate_hz <= 0:
            raise ConfigError(f"rate must be positive, got {rate_hz}")
        self.acc_scale = acc_range_g / 32768.0
        self.gyro_scale = gyro_range_dps / 32768.0
        #: True once the config characteristic was read (else the spec's default ranges apply)
        self.configured = False
        self.clock = DeviceClock(1.0 / rate_hz, tick_s=1e-6, wrap=_U32, anchor_last=False)
        self._data_uuid = data_uuid.lower()
        self._seq: int | None = None
        self._n = 0
        self._relinked = False  # reset_link() was called: the next sequence is a new baseline

    def configure(self, char_uuid: str, value: bytes) -> None:
        if char_uuid.lower() != CONFIG_UUID:
            return
        try:
            config = decode_config(value)
        except ConfigError as exc:
            self.stats.error(str(exc))
            return
        self.acc_scale = config.acc_range_g / 32768.0
        self.gyro_scale = config.gyro_range_dps / 32768.0
        self.configured = True

    def reset_link(self) -> None:
        # The firmware restarts its stream on the new connection (sequence 0, STREAM_START), but
        # that first packet may be lost: whatever sequence comes next is the new baseline (see
        # feed). The device clock, not the sequence, measures what the reconnect cost.
        self._relinked = True

    def feed(self, payload: bytes, *, arrival_s: float, char_uuid: str = "") -> list[SampleBlock]:
        if char_uuid and char_uuid.lower() != self._data_uuid:
            return []
        self.stats.notifications += 1
        size = len(payload)
        if size < HEADER_SIZE + SAMPLE_SIZE or (size - HEADER_SIZE) % SAMPLE_SIZE:
            self.stats.error(f"imu-ref packet of {size} bytes is not 8 + N×12 (N ≥ 1)")
            return []
        version, flags, seq, raw_t0 = HEADER.unpack_from(payload)
        if version != VERSION:
            self.stats.error(f"imu-ref packet version {version}, expected {VERSION}")
            return []
        n = (size - HEADER_SIZE) // SAMPLE_SIZE
        seq_gap = 0
        relinked, self._relinked = self._relinked, False
        #: packets of a restarted stream lost before this one (its STREAM_START packet was lost)
        restart_lost = 0
        if flags & FLAG_STREAM_START:
            self.clock.new_stream()
        elif relinked:
            # first packet after a reconnect, without the start flag: a new baseline, never "out
            # of order". The clock counts the loss below; if it restarted too (went backwards),
            # the sequence (counting from the restart at 0) says how many packets were lost.
            if self._seq is not None and seq != (self._seq + 1) % _U16:
                restart_lost = seq * n
        elif self._seq is not None:
            seq_gap = (seq - self._seq - 1) % _U16
            if seq_gap >= _U16 // 2:  # older than the last packet: a repeat or reordering
                self.stats.out_of_order += 1
                return []
        resyncs = self.stats.resyncs
        times, lost = self.clock.place(
            raw_t0,
            n,
            self.stats,
            known_gap=seq_gap > 0 or bool(flags & FLAG_OVERFLOW),
            fallback_lost=seq_gap * self._n,
        )
        if restart_lost and lost == 0 and self.stats.resyncs > resyncs:
            lost = restart_lost  # the device clock restarted: it cannot tell, the sequence can
            self.stats.lost_samples += lost
        counts = np.frombuffer(payload, dtype="<i2", offset=HEADER_SIZE).reshape(n, 6)
        self._seq, self._n = seq, n
        self.stats.samples += n
        return [
            make_block(
                times,
                counts[:, :3] * self.acc_scale,
                counts[:, 3:] * self.gyro_scale,
                lost_before=lost,
                seq=np.full(n, seq, dtype=np.int64),
            )
        ]


@dataclass(frozen=True)
class ReferenceProfile(SensorProfile):
    """Our reference protocol for DIY firmware."""

    key: str = "imu-ref"
    model: str = "imu reference protocol v1 (DIY firmware: nRF52840, ESP32, …)"
    service_uuid: str = SERVICE_UUID
    notify_uuid: str = DATA_UUID
    write_uuid: str | None = CONTROL_UUID
    name_prefixes: tuple[str, ...] = (NAME_PREFIX,)
    rates_hz: tuple[float, ...] = ()
    read_uuids: tuple[str, ...] = (CONFIG_UUID,)
    #: what virtual sensors report and use
    acc_range_g: int = DEFAULT_ACC_RANGE_G
    gyro_range_dps: int = DEFAULT_GYRO_RANGE_DPS

    def start_commands(self, rate_hz: float) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, encode_start(rate_hz), True, f"start at {rate_hz:g} Hz")]

    def stop_commands(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, encode_stop(), True, "stop")]

    def new_decoder(self, rate_hz: float) -> ReferenceDecoder:
        return ReferenceDecoder(
            rate_hz, acc_range_g=self.acc_range_g, gyro_range_dps=self.gyro_range_dps
        )

    def encode_notifications(
        self,
        time_s: npt.ArrayLike,
        acc_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike,
        *,
        samples_per_notification: int = 1,
    ) -> list[bytes]:
        return encode_packets(
            time_s,
            acc_g,
            gyro_dps,
            samples_per_packet=samples_per_notification,
            acc_range_g=self.acc_range_g,
            gyro_range_dps=self.gyro_range_dps,
        )

    def read_values(self, rate_hz: float) -> dict[str, bytes]:
        config = ReferenceConfig(4, round(rate_hz), self.acc_range_g, self.gyro_range_dps)
        return {CONFIG_UUID: encode_config(config)}
