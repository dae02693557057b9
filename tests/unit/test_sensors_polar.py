"""Polar PMD: start/stop commands, start response factor, delta frames, acc/gyro pairing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.sensors import polar

# From ble_protocols.md (Polar SDK): start ACC at 52 Hz, 16 bit, ±8 g.
START_ACC_52 = bytes.fromhex("02 02 00 01 34 00 01 01 10 00 02 01 08 00")
# Start response: F0, op 02 (start), type 02 (ACC), status 0, more 0, FACTOR (5) × 1 = 0.244140625.
START_RESPONSE_ACC = bytes.fromhex("f0 02 02 00 00 05 01 00 00 7a 3e")
# Hand-made compressed ACC frame (type 0x81): last sample at 1 000 000 000 ns; reference
# (1000, −2000, 4096); one block of 2 samples with 4-bit deltas (1, −1, 2), (−8, 7, 0):
# nibbles 1, F, 2, 8, 7, 0 packed LSB first → F1 82 07.
ACC_FRAME = bytes.fromhex("02 00ca9a3b00000000 81  e803 30f8 0010  04 02 f1 82 07")
GYRO_FRAME = bytes.fromhex("05 00ca9a3b00000000 80  0000 0000 0040  02 02 00 00")


def test_commands() -> None:
    assert polar.start_command(polar.MEAS_ACC, 52, full_scale=8) == START_ACC_52
    writes = polar.PolarProfile().start_commands(50.0)
    assert writes[0].data == START_ACC_52
    assert writes[1].data[:2] == b"\x02\x05"
    assert [w.data for w in polar.PolarProfile().stop_commands()] == [b"\x03\x02", b"\x03\x05"]
    assert polar.encode_start_response(polar.MEAS_ACC, 0.244140625) == START_RESPONSE_ACC


def test_delta_frame_by_hand() -> None:
    counts = polar.decode_delta_frame(ACC_FRAME[10:], channels=3, resolution_bits=16)
    np.testing.assert_array_equal(
        counts, [[1000, -2000, 4096], [1001, -2001, 4098], [993, -1994, 4098]]
    )
    assert polar.encode_delta_frame(counts) == ACC_FRAME[10:]


def test_frames_decode_and_pair() -> None:
    decoder = polar.PolarDecoder(52.0)
    decoder.feed(START_RESPONSE_ACC, arrival_s=0.0, char_uuid=polar.CONTROL_UUID)
    assert decoder.start_status == {polar.MEAS_ACC: 0}
    assert decoder.feed(ACC_FRAME, arrival_s=0.0, char_uuid=polar.DATA_UUID) == []
    (block,) = decoder.feed(GYRO_FRAME, arrival_s=0.0, char_uuid=polar.DATA_UUID)
    np.testing.assert_allclose(block.time_s, [1 - 2 / 52, 1 - 1 / 52, 1.0])
    np.testing.assert_allclose(block.acc_g[0], [0.244140625, -0.48828125, 1.0])
    np.testing.assert_allclose(block.acc_g[2], np.array([993, -1994, 4098]) * 0.244140625e-3)
    # gyro: reference (0, 0, 16384) × 2000/32768 = 1000 °/s on z; 2-bit deltas all 0
    np.testing.assert_allclose(block.gyro_dps, [[0, 0, 1000.0]] * 3)
    assert decoder.stats.samples == 3 and decoder.stats.malformed == 0


def test_refused_start_is_reported() -> None:
    decoder = polar.PolarDecoder(52.0)
    decoder.feed(
        polar.encode_start_response(polar.MEAS_GYRO, 0, status=3),
        arrival_s=0.0,
        char_uuid=polar.CONTROL_UUID,
    )
    assert decoder.start_status[polar.MEAS_GYRO] == 3
    assert "refused" in decoder.stats.last_error


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        ACC_FRAME[:9],
        ACC_FRAME[:14],
        ACC_FRAME[:-1],
        b"\x09" + ACC_FRAME[1:],
        ACC_FRAME[:9] + b"\x85" + ACC_FRAME[10:],
    ],
)
def test_malformed_counted(payload: bytes) -> None:
    decoder = polar.PolarDecoder(52.0)
    assert decoder.feed(payload, arrival_s=0.0, char_uuid=polar.DATA_UUID) == []
    assert decoder.stats.malformed == 1


@given(
    deltas=st.lists(st.tuples(*[st.integers(-3000, 3000)] * 3), min_size=0, max_size=40),
    start=st.tuples(*[st.integers(-20000, 20000)] * 3),
)
@settings(max_examples=60, deadline=None)
def test_delta_round_trip(deltas: list[tuple[int, int, int]], start: tuple[int, int, int]) -> None:
    counts = np.cumsum(np.vstack([start, *deltas]) if deltas else np.array([start]), axis=0)
    encoded = polar.encode_delta_frame(counts)
    np.testing.assert_array_equal(
        polar.decode_delta_frame(encoded, channels=3, resolution_bits=16), counts
    )


def test_lost_frame_counted() -> None:
    profile = polar.PolarProfile()
    n = 36 * 9
    t = 100.0 + np.arange(n) / 52.0
    frames = profile.encode_notifications(
        t, np.tile([0, 0, 1.0], (n, 1)), np.zeros((n, 3)), samples_per_notification=36
    )
    del frames[6:8]  # one acc frame and its gyro frame: 36 samples
    decoder = profile.new_decoder(52.0)
    blocks = [b for f in frames for b in decoder.feed(f, arrival_s=0.0)]
    assert sum(b.lost_before for b in blocks) == 36
    times = np.concatenate([b.time_s for b in blocks])
    assert len(times) == n - 36 and np.all(np.diff(times) > 0)
