"""Movesense GATT SensorData: golden messages, command responses, timestamp losses."""

from __future__ import annotations

import numpy as np
import pytest

from imu.sensors import movesense as ms

# Hand-made IMU6 notification (layout from Movesense's imu.yaml + GATTSensorDataClient):
# 02 = data, 63 = our reference, timestamp 1000 ms, N = 1:
# acc (0, 0, 9.80665 m/s²) then gyro (1.5, -2.0, 0 °/s), float32 LE.
IMU6_ONE = bytes.fromhex("02 63 e803000000000000 00000000 0ae81c410000c03f 000000c0 00000000")
# Two samples: acc block (−g, 0, 0), (0, 0, g); gyro block (0, 0, 90), (0, 0, 0).
IMU6_TWO = bytes.fromhex(
    "02 63 f4010000"
    "0ae81cc1 00000000 00000000  00000000 00000000 0ae81c41"
    "00000000 00000000 0000b442  00000000 00000000 00000000"
)


def test_golden_one_sample() -> None:
    decoder = ms.MovesenseDecoder(104.0)
    (block,) = decoder.feed(IMU6_ONE, arrival_s=0.0, char_uuid=ms.DATA_UUID)
    np.testing.assert_allclose(block.acc_g, [[0, 0, 1.0]], rtol=1e-7)
    np.testing.assert_array_equal(block.gyro_dps, [[1.5, -2.0, 0.0]])
    assert block.time_s[0] == 1.0


def test_golden_two_samples_acc_block_then_gyro_block() -> None:
    decoder = ms.MovesenseDecoder(52.0)
    (block,) = decoder.feed(IMU6_TWO, arrival_s=0.0)
    np.testing.assert_allclose(block.acc_g, [[-1, 0, 0], [0, 0, 1]], rtol=1e-7)
    np.testing.assert_array_equal(block.gyro_dps, [[0, 0, 90], [0, 0, 0]])
    np.testing.assert_allclose(block.time_s, [0.5, 0.5 + 1 / 52])


def test_encoder_matches_golden() -> None:
    (one,) = ms.encode_imu6([1.0], [[0, 0, 1.0]], [[1.5, -2.0, 0]], samples_per_notification=1)
    assert one == IMU6_ONE
    (two,) = ms.encode_imu6(
        [0.5, 0.52], [[-1, 0, 0], [0, 0, 1]], [[0, 0, 90], [0, 0, 0]], samples_per_notification=2
    )
    assert two == IMU6_TWO


def test_commands() -> None:
    profile = ms.MovesenseProfile()
    (start,) = profile.start_commands(100.0)
    assert start.data == b"\x01\x63/Meas/IMU6/104"
    assert profile.stop_commands()[0].data == b"\x02\x63"


def test_command_result_counted_not_data() -> None:
    decoder = ms.MovesenseDecoder(104.0)
    assert decoder.feed(bytes.fromhex("01 63 01fb"), arrival_s=0.0) == []  # 507
    assert decoder.last_status == 507 and "507" in decoder.stats.last_error
    assert decoder.stats.responses == 1 and decoder.stats.malformed == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"\x02",
        IMU6_ONE[:6],
        IMU6_ONE[:-4],
        IMU6_ONE + b"\x00",
        b"\x02\x07" + IMU6_ONE[2:],  # another subscription's reference
        b"\x09\x63" + IMU6_ONE[2:],  # unknown message type
        IMU6_ONE[:6] + bytes.fromhex("0000c07f") + IMU6_ONE[10:],  # NaN
    ],
)
def test_malformed_counted(payload: bytes) -> None:
    decoder = ms.MovesenseDecoder(104.0)
    assert decoder.feed(payload, arrival_s=0.0) == []
    assert decoder.stats.malformed == 1


def test_timestamp_gap_is_a_loss_and_ms_wrap_is_not() -> None:
    rate = 104.0
    n = 8 * 60
    t = (2**32 - 2000) / 1000 + np.arange(n) / rate  # the u32 ms clock wraps after 2 s
    packets = ms.encode_imu6(t, np.zeros((n, 3)), np.zeros((n, 3)), samples_per_notification=8)
    del packets[30:32]  # two notifications = 16 samples lost
    decoder = ms.MovesenseDecoder(rate)
    blocks = [b for p in packets for b in decoder.feed(p, arrival_s=0.0)]
    assert sum(b.lost_before for b in blocks) == 16 == decoder.stats.lost_samples
    times = np.concatenate([b.time_s for b in blocks])
    assert np.all(np.diff(times) > 0)
    assert times[-1] - times[0] == pytest.approx((n - 1) / rate, abs=2e-3)
