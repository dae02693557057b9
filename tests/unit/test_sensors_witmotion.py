"""WitMotion BLE 5.0: golden frames, byte-stream resynchronisation, arrival timing, losses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.sensors import witmotion as wit

# Our hand-made frame: acc (0, 0, 2048) → 1 g on z; gyro (16384, -16384, 0) → ±1000 °/s;
# roll/pitch/yaw (8192, -8192, 16384) → 45°, −45°, 90°.
AT_REST = bytes.fromhex("5561 0000 0000 0008 0040 00c0 0000 0020 00e0 0040")
# WitMotion's manual (WT901BLECL 5.0, §6.1.2): reply to FF AA 27 3A 00 (magnetic field) —
# start register 0x3A, then Hx=360, Hy=105, Hz=122, then zeros. 20 bytes, skipped.
MAGNETIC_REPLY = bytes.fromhex("55 71 3A 00 68 01 69 00 7A 00 00 00 00 00 00 00 00 00 00 00")


def test_golden_frame() -> None:
    decoder = wit.WitMotionDecoder(50.0)
    (block,) = decoder.feed(AT_REST, arrival_s=3.0, char_uuid=wit.NOTIFY_UUID)
    np.testing.assert_array_equal(block.acc_g, [[0, 0, 1.0]])
    np.testing.assert_array_equal(block.gyro_dps, [[1000.0, -1000.0, 0]])
    assert decoder.last_angles_deg == (45.0, -45.0, 90.0)
    assert block.time_s[0] == 3.0  # first sample anchored to its arrival


def test_encoder_matches_golden_frame() -> None:
    frame = wit.encode_frames([[0, 0, 1.0]], [[1000.0, -1000.0, 0]], [[45.0, -45.0, 90.0]])
    assert frame == AT_REST


def test_register_reply_skipped_and_counted() -> None:
    decoder = wit.WitMotionDecoder(50.0)
    blocks = decoder.feed(AT_REST + MAGNETIC_REPLY + AT_REST, arrival_s=1.0)
    assert sum(len(b) for b in blocks) == 2
    assert decoder.stats.responses == 1 and decoder.stats.malformed == 0


def test_rate_read_back_retimes_samples() -> None:
    decoder = wit.WitMotionDecoder(100.0)
    reply = wit.encode_register_reply(0x03, [0x08])  # sensor says 50 Hz
    decoder.feed(reply, arrival_s=0.0)
    assert decoder.reported_rate_hz == 50.0
    assert "50 Hz" in decoder.stats.last_error
    (block,) = decoder.feed(AT_REST * 3, arrival_s=1.0)
    np.testing.assert_allclose(np.diff(block.time_s), 0.02)


def test_commands() -> None:
    assert wit.rate_command(10) == bytes.fromhex("ff aa 03 06 00")
    assert wit.rate_command(100) == bytes.fromhex("ff aa 03 09 00")
    assert wit.rate_command(200) == bytes.fromhex("ff aa 03 0b 00")
    assert wit.read_register_command(0x03) == bytes.fromhex("ff aa 27 03 00")
    writes = wit.WitMotionProfile().start_commands(104.0)
    assert [w.data.hex() for w in writes] == [
        "ffaa6988b5",
        "ffaa030900",
        "ffaa000000",
        "ffaa270300",
    ]


def _stream(n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    acc = np.round(rng.uniform(-2, 2, (n, 3)) * 2048) / 2048
    gyro = np.round(rng.uniform(-500, 500, (n, 3)) * 16.384) / 16.384
    return wit.encode_frames(acc, gyro), acc, gyro


@given(
    cuts=st.lists(st.integers(0, 20 * 30), max_size=40),
    junk=st.binary(max_size=25).filter(lambda b: b"\x55" not in b),
)
@settings(max_examples=80, deadline=None)
def test_any_chunking_decodes_the_same_samples(cuts: list[int], junk: bytes) -> None:
    stream, acc, gyro = _stream(30)
    data = junk + stream
    edges = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    decoder = wit.WitMotionDecoder(50.0)
    blocks = []
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        blocks += decoder.feed(data[a:b], arrival_s=0.02 * k)
    got_acc = np.concatenate([b.acc_g for b in blocks]) if blocks else np.empty((0, 3))
    np.testing.assert_allclose(got_acc, acc, atol=1e-9)
    np.testing.assert_allclose(np.concatenate([b.gyro_dps for b in blocks]), gyro, atol=1e-9)
    assert decoder.stats.malformed == (1 if junk else 0)
    times = np.concatenate([b.time_s for b in blocks])
    assert np.all(np.diff(times) > 0)


def test_garbage_between_frames_resynchronises() -> None:
    stream, acc, _ = _stream(3)
    decoder = wit.WitMotionDecoder(50.0)
    data = stream[:20] + b"\x01\x02\x55" + stream[20:]
    blocks = decoder.feed(data, arrival_s=1.0)
    np.testing.assert_allclose(np.concatenate([b.acc_g for b in blocks]), acc)
    assert decoder.stats.malformed == 1


def _timed_feed(
    decoder: wit.WitMotionDecoder, frames: list[bytes], arrivals: list[float]
) -> tuple[np.ndarray, list[int]]:
    blocks = [
        b for f, a in zip(frames, arrivals, strict=True) for b in decoder.feed(f, arrival_s=a)
    ]
    return np.concatenate([b.time_s for b in blocks]), [b.lost_before for b in blocks]


def test_ble_batching_is_not_a_loss() -> None:
    # 100 Hz, 30 ms connection interval: three frames arrive together every 30 ms
    stream, _, _ = _stream(60)
    frames = [stream[i : i + 20] for i in range(0, len(stream), 20)]
    arrivals = [0.03 * (k // 3 + 1) + 0.0001 * (k % 3) for k in range(60)]
    times, lost = _timed_feed(wit.WitMotionDecoder(100.0), frames, arrivals)
    assert sum(lost) == 0
    steps = np.diff(times)
    assert np.all(steps > 0)
    # after settling on the earliest arrivals, spacing stays within ±15 % of the period
    assert np.all((steps[25:] > 0.0085) & (steps[25:] < 0.0115))
    assert times[-1] - times[25] == pytest.approx(0.34, abs=0.005)


def test_dropped_notifications_counted() -> None:
    stream, _, _ = _stream(100)
    frames = [stream[i : i + 20] for i in range(0, len(stream), 20)]
    keep = [k for k in range(100) if not 40 <= k < 50]  # ten samples (100 ms at 100 Hz) lost
    decoder = wit.WitMotionDecoder(100.0)
    times, lost = _timed_feed(decoder, [frames[k] for k in keep], [0.01 * k + 0.002 for k in keep])
    assert sum(lost) == 10 == decoder.stats.lost_samples
    assert times[40] - times[39] == pytest.approx(0.11, abs=1e-6)


def test_reset_link_drops_partial_frame() -> None:
    decoder = wit.WitMotionDecoder(50.0)
    assert decoder.feed(AT_REST[:11], arrival_s=0.0) == []
    decoder.reset_link()
    (block,) = decoder.feed(AT_REST, arrival_s=5.0)
    assert len(block) == 1 and block.lost_before == 0
