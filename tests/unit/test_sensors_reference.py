"""imu-ref: the worked examples of firmware_notes/reference_protocol.md, wrap-around, losses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.errors import ConfigError
from imu.sensors import reference as ref

# Worked example 1 of the spec: stream start, seq 0, t0 = 1 000 000 µs, two samples.
EXAMPLE_1 = bytes.fromhex(
    "01 01 0000 40420f00"  # version 1, flags STREAM_START, seq 0, t0 = 1.000000 s
    "0000 0000 0008 1000 f0ff 0000"  # acc (0, 0, 2048) gyro (16, -16, 0)
    "00f8 0000 0008 0000 0000 0040"  # acc (-2048, 0, 2048) gyro (0, 0, 16384)
)
# Worked example 2: the config characteristic — v1, 4 per packet, 100 Hz, ±16 g, ±2000 °/s.
CONFIG_EXAMPLE = bytes.fromhex("01 04 6400 1000 d007")
# Worked example 3: the start and stop control writes (100 Hz).
START_100 = bytes.fromhex("01 6400")
STOP = bytes.fromhex("02")


def test_example_1_decodes_by_hand() -> None:
    decoder = ref.ReferenceDecoder(100.0)
    decoder.configure(ref.CONFIG_UUID, CONFIG_EXAMPLE)
    (block,) = decoder.feed(EXAMPLE_1, arrival_s=0.0, char_uuid=ref.DATA_UUID)
    np.testing.assert_array_equal(block.time_s, [1.00, 1.01])
    np.testing.assert_array_equal(block.acc_g, [[0, 0, 1.0], [-1.0, 0, 1.0]])
    np.testing.assert_array_equal(block.gyro_dps, [[0.9765625, -0.9765625, 0], [0, 0, 1000.0]])
    assert block.lost_before == 0
    assert block.seq is not None and list(block.seq) == [0, 0]


def test_config_and_control_examples() -> None:
    config = ref.decode_config(CONFIG_EXAMPLE)
    assert config == ref.ReferenceConfig(4, 100, 16, 2000)
    assert ref.encode_config(config) == CONFIG_EXAMPLE
    assert ref.encode_start(100) == START_100
    assert ref.encode_stop() == STOP
    assert ref.parse_control(START_100) == ref.ControlCommand("start", 100)
    assert ref.parse_control(STOP) == ref.ControlCommand("stop")
    with pytest.raises(ConfigError):
        ref.parse_control(b"\x07")
    assert ref.ReferenceProfile().start_commands(100)[0].data == START_100


def test_encoder_reproduces_example_1() -> None:
    acc = [[0, 0, 1.0], [-1.0, 0, 1.0]]
    gyro = [[0.9765625, -0.9765625, 0], [0, 0, 1000.0]]
    (packet,) = ref.encode_packets([1.0, 1.01], acc, gyro, samples_per_packet=2)
    assert packet == EXAMPLE_1


def test_config_scales_samples() -> None:
    decoder = ref.ReferenceDecoder(100.0)
    decoder.configure(ref.CONFIG_UUID, bytes.fromhex("01 04 6400 0400 f401"))  # ±4 g, ±500 °/s
    (block,) = decoder.feed(EXAMPLE_1, arrival_s=0.0)
    assert block.acc_g[0, 2] == 0.25
    assert block.gyro_dps[1, 2] == 250.0
    decoder.configure(ref.CONFIG_UUID, b"\x01\x02")  # truncated: counted, scale kept
    assert decoder.stats.malformed == 1


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x01", EXAMPLE_1[:8], EXAMPLE_1[:-1], EXAMPLE_1 + b"\x00", b"\x02" + EXAMPLE_1[1:]],
)
def test_malformed_counted_not_raised(payload: bytes) -> None:
    decoder = ref.ReferenceDecoder(100.0)
    assert decoder.feed(payload, arrival_s=0.0) == []
    assert decoder.stats.malformed == 1
    assert decoder.stats.last_error


def _stream(
    n: int, *, t0_s: float, rate: float = 100.0, per: int = 4, seq0: int = 0
) -> list[bytes]:
    t = t0_s + np.arange(n) / rate
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    gyro = np.zeros((n, 3))
    return ref.encode_packets(t, acc, gyro, samples_per_packet=per, start_seq=seq0)


def _decode(
    packets: list[bytes], rate: float = 100.0
) -> tuple[np.ndarray, list[int], ref.ReferenceDecoder]:
    decoder = ref.ReferenceDecoder(rate)
    blocks = [b for p in packets for b in decoder.feed(p, arrival_s=0.0)]
    return np.concatenate([b.time_s for b in blocks]), [b.lost_before for b in blocks], decoder


def test_clock_wrap_keeps_time_increasing() -> None:
    # the u32 µs clock wraps at 4294.967296 s, in the middle of this stream
    times, lost, decoder = _decode(_stream(400, t0_s=4294.0))
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-6)
    assert times[0] == pytest.approx(4294.0)
    assert times[-1] == pytest.approx(4294.0 + 3.99)
    assert sum(lost) == 0 and decoder.stats.resyncs == 0


def test_sequence_wrap_is_not_a_loss() -> None:
    times, lost, decoder = _decode(_stream(80, t0_s=1.0, seq0=65530))
    assert sum(lost) == 0
    assert decoder.stats.out_of_order == 0
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-6)


@given(
    start_seq=st.integers(0, 65535),
    t0_us=st.integers(0, 2**32 - 1),
    drop=st.sets(st.integers(1, 38), max_size=6),
    per=st.integers(1, 6),
)
@settings(max_examples=60, deadline=None)
def test_losses_counted_exactly(start_seq: int, t0_us: int, drop: set[int], per: int) -> None:
    n = 40 * per
    packets = _stream(n, t0_s=t0_us * 1e-6, per=per, seq0=start_seq)
    kept = [p for i, p in enumerate(packets) if i not in drop]
    times, lost, decoder = _decode(kept)
    assert sum(lost) == len(drop) * per == decoder.stats.lost_samples
    assert len(times) == n - len(drop) * per
    assert np.all(np.diff(times) > 0)
    # gaps in time match the reported losses
    gaps = np.round(np.diff(times) / 0.01).astype(int) - 1
    assert gaps.sum() == len(drop) * per


def test_repeated_packet_is_skipped() -> None:
    packets = _stream(12, t0_s=1.0)
    times, lost, decoder = _decode([packets[0], packets[1], packets[1], packets[2]])
    assert len(times) == 12 and sum(lost) == 0
    assert decoder.stats.out_of_order == 1


def test_device_overflow_flag_and_clock_jump() -> None:
    packets = _stream(12, t0_s=1.0)
    # the device lost 4 samples itself: sequence is contiguous, time jumps, overflow flag set
    late = bytearray(
        ref.encode_packets(
            1.08 + np.arange(4) / 100 + 0.04,
            np.zeros((4, 3)),
            np.zeros((4, 3)),
            samples_per_packet=4,
            start_seq=2,
            stream_start=False,
        )[0]
    )
    late[1] |= ref.FLAG_OVERFLOW
    _, lost, _ = _decode([packets[0], packets[1], bytes(late)])
    assert lost == [0, 0, 4]


def test_stream_restart_and_device_reboot_keep_time_increasing() -> None:
    first = _stream(8, t0_s=100.0)
    rebooted = _stream(8, t0_s=0.5)  # stream start again, device clock restarted
    times, lost, decoder = _decode(first + rebooted)
    assert np.all(np.diff(times) > 0)
    assert sum(lost) == 0
    assert decoder.stats.resyncs == 1


def test_measured_period_follows_a_slow_crystal() -> None:
    # nominal 100 Hz, true 99 Hz: spacing inside packets converges to the true period
    t = 1.0 + np.arange(400) / 99.0
    packets = ref.encode_packets(t, np.zeros((400, 3)), np.zeros((400, 3)), samples_per_packet=8)
    times, lost, decoder = _decode(packets)
    assert sum(lost) == 0 and decoder.stats.resyncs == 0
    np.testing.assert_allclose(times[-8:], t[-8:], atol=2e-5)


def _restarted(n: int, *, t0_s: float, per: int = 4) -> list[bytes]:
    """A stream restarted by a start command: sequence 0, STREAM_START on its first packet."""
    return _stream(n, t0_s=t0_s, per=per, seq0=0)


def test_lost_stream_start_after_reconnect_is_a_new_baseline() -> None:
    # 40 packets (sequence 0…39), the link drops for 1 s, the firmware restarts its stream on the
    # new connection (sequence 0 again) and that first packet is lost: the rest must be kept,
    # not discarded as "older than sequence 39", and the loss counted by the device clock.
    before = _stream(160, t0_s=100.0)
    after = _restarted(40, t0_s=102.6)[1:]  # 1 s after the last sample at 101.59 … + 1 packet
    decoder = ref.ReferenceDecoder(100.0)
    blocks = [b for p in before for b in decoder.feed(p, arrival_s=0.0)]
    decoder.reset_link()
    blocks += [b for p in after for b in decoder.feed(p, arrival_s=0.0)]
    times = np.concatenate([b.time_s for b in blocks])
    assert len(times) == 160 + 36
    assert decoder.stats.out_of_order == 0
    np.testing.assert_allclose(times[160:], 102.64 + np.arange(36) / 100, atol=1e-6)
    # 1.0 s of the link being down (100 samples) plus the lost first packet (4 samples)
    lost = [b.lost_before for b in blocks]
    assert lost[40] == round((102.64 - 101.59) * 100) - 1 == 104
    assert sum(lost) == decoder.stats.lost_samples == 104


def test_lost_stream_start_after_a_device_restart_counts_by_sequence() -> None:
    # the device rebooted (its clock restarts near 0) and the first packet of its new stream
    # was lost: kept, times still increasing, one packet (4 samples) counted from the sequence
    before = _stream(160, t0_s=100.0)
    after = _restarted(40, t0_s=0.5)[2:]  # two packets lost: sequence 2 comes first
    decoder = ref.ReferenceDecoder(100.0)
    blocks = [b for p in before for b in decoder.feed(p, arrival_s=0.0)]
    decoder.reset_link()
    blocks += [b for p in after for b in decoder.feed(p, arrival_s=0.0)]
    times = np.concatenate([b.time_s for b in blocks])
    assert len(times) == 160 + 32
    assert np.all(np.diff(times) > 0)
    assert decoder.stats.out_of_order == 0
    assert sum(b.lost_before for b in blocks) == decoder.stats.lost_samples == 8


def test_reset_link_with_a_continuing_sequence_counts_nothing_extra() -> None:
    # the link was reset but the firmware kept its stream: the next packet simply follows
    packets = _stream(80, t0_s=1.0)
    decoder = ref.ReferenceDecoder(100.0)
    blocks = [b for p in packets[:10] for b in decoder.feed(p, arrival_s=0.0)]
    decoder.reset_link()
    blocks += [b for p in packets[10:] for b in decoder.feed(p, arrival_s=0.0)]
    times = np.concatenate([b.time_s for b in blocks])
    assert len(times) == 80 and decoder.stats.lost_samples == 0
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-6)
