"""Fuzzing (issue 7, point 7): random bytes, random CSV rows and random notifications thrown at the
recording reader and every BLE decoder. Nothing may escape but the project's own errors:
:class:`~imu.errors.ImuError` from the reader, nothing at all from a decoder (it counts bad
payloads instead).

The number of examples per test is ``IMU_FUZZ_EXAMPLES`` (default 40, the CI run);
``scripts/fuzz.py`` runs the same tests with many more and prints what it ran.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu.errors import ImuError
from imu.quality import QualityMonitor, check_quality
from imu.recording import REQUIRED_COLUMNS, read_recording
from imu.sensors import PROFILES, SensorProfile

EXAMPLES = int(os.environ.get("IMU_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 40,  # CI: the same examples every run
)


def read_bytes(data: bytes) -> None:
    """Write ``data`` to a file and read it: a recording or an :class:`ImuError`, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        try:
            rec = read_recording(path)
        except ImuError as exc:
            assert "\n" not in str(exc).strip(), str(exc)
            return
        assert rec.acc_g.shape == (len(rec), 3)
        assert bool(np.all(np.diff(rec.time_s) > 0))
        check_quality(rec.time_s, rec.acc_g, rec.gyro_dps, metadata=rec.metadata)


# --- the reader ------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    read_bytes(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_valid_header(data: bytes) -> None:
    read_bytes((",".join(REQUIRED_COLUMNS) + "\n").encode() + data)


_NUMBER = st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr)
_CELL = st.one_of(
    _NUMBER,
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", " ", "nan", "-inf", "1e400", "0x1F", "1_000", "1,5", '"1"', "#", "é"]),
    st.text(max_size=12),
)
_COLUMNS = st.lists(
    st.sampled_from([*REQUIRED_COLUMNS, "acc_x_mps2", "gyro_x_rads", "seq", "", "time_s"]),
    min_size=0,
    max_size=9,
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """Metadata lines, a header (the right columns shuffled, or a random pick), rows of random
    cells (mostly plausible numbers), random separators and line ends."""
    if draw(st.booleans()):
        header = draw(
            st.permutations([*REQUIRED_COLUMNS, *draw(st.lists(st.just("seq"), max_size=1))])
        )
    else:
        header = draw(_COLUMNS)
    sep = draw(st.sampled_from([",", ",", ",", ";", "\t", ", "]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    n = draw(st.integers(0, 40))
    t0 = draw(st.floats(-1e3, 1e6, allow_nan=False))
    plausible = draw(st.booleans())
    rows = []
    for i in range(n):
        if plausible and draw(st.integers(0, 9)) > 0:
            cells = [f"{t0 + i * 0.01:.4f}"] + [
                f"{draw(st.floats(-3, 3, allow_nan=False)):.4f}" for _ in header[1:]
            ]
        else:
            cells = draw(st.lists(_CELL, min_size=0, max_size=len(header) + 2))
        rows.append(sep.join(cells))
    meta = draw(
        st.lists(
            st.sampled_from(
                [
                    "# sample_rate_hz: 100",
                    "# sample_rate_hz: abc",
                    "# sample_rate_hz: -5",
                    "# acc_range_g: 2",
                    "# gyro_range_dps: 0",
                    "#",
                    "",
                ]
            ),
            max_size=4,
        )
    )
    return end.join([*meta, sep.join(header), *rows]) + draw(st.sampled_from(["", end]))


@FUZZ
@given(csv_texts())
def test_random_csv_rows(text: str) -> None:
    read_bytes(text.encode("utf-8"))


@FUZZ
@given(
    st.integers(0, 300),
    st.integers(0, 6),
    st.floats(0.5, 40, allow_nan=False),
    st.floats(1, 2000, allow_nan=False),
    st.integers(1, 64),
)
def test_quality_checks_take_any_samples(
    rows: int, stuck: int, clip_g: float, rate_hz: float, chunk: int
) -> None:
    """Clipped, stuck, irregular samples: the offline checks and the live monitor never fail."""
    rng = np.random.default_rng(rows * 7 + stuck)
    t = np.cumsum(rng.uniform(0.2, 3.0, rows)) / rate_hz
    acc = rng.normal(0, clip_g, (rows, 3))
    acc[:, 2] += 1.0
    acc = np.clip(acc, -clip_g, clip_g)
    gyro = rng.normal(0, 80, (rows, 3))
    samples = np.hstack([acc, gyro])
    samples[:, : min(stuck, 6)] = np.round(samples[:, : min(stuck, 6)], 0)
    acc, gyro = samples[:, :3], samples[:, 3:]
    quality = check_quality(t, acc, gyro, metadata={"sample_rate_hz": f"{rate_hz:g}"})
    assert all(n.startswith("sensor: ") for n in quality.notes)
    monitor = QualityMonitor(sampling_rate_hz=rate_hz)
    for i in range(0, rows, chunk):
        assert isinstance(
            monitor.update(t[i : i + chunk], acc[i : i + chunk], gyro[i : i + chunk]), tuple
        )


# --- the BLE decoders ------------------------------------------------------------------------


def valid_payloads(profile: SensorProfile, n: int) -> list[bytes]:
    t = np.arange(n) / 100.0
    phase = np.linspace(0, 6, n)[:, None]
    acc = np.hstack([np.sin(phase), np.cos(phase), np.ones((n, 1))])
    gyro = 100.0 * np.hstack([np.cos(phase), -np.sin(phase), np.zeros((n, 1))])
    try:
        return profile.encode_notifications(t, acc, gyro, samples_per_notification=4)
    except NotImplementedError:
        return []


@st.composite
def notifications(draw: st.DrawFn, profile: SensorProfile) -> list[bytes]:
    """Random payloads mixed with valid ones that are truncated, extended, bit-flipped,
    repeated or reordered."""
    valid = valid_payloads(profile, 24)
    out: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        choice = draw(st.integers(0, 4)) if valid else 0
        if choice == 0:
            out.append(draw(st.binary(max_size=256)))
            continue
        p = bytearray(draw(st.sampled_from(valid)))
        if choice == 1 and p:
            p = p[: draw(st.integers(0, len(p) - 1))]
        elif choice == 2:
            p += draw(st.binary(min_size=1, max_size=16))
        elif choice == 3 and p:
            for _ in range(draw(st.integers(1, 4))):
                i = draw(st.integers(0, len(p) - 1))
                p[i] ^= 1 << draw(st.integers(0, 7))
        out.append(bytes(p))
    return out


PROFILE_KEYS = sorted(PROFILES)


@pytest.mark.parametrize("key", PROFILE_KEYS)
@FUZZ
@given(data=st.data())
def test_random_notifications(key: str, data: st.DataObject) -> None:
    profile = PROFILES[key]
    uuids = [profile.notify_uuid, *profile.extra_notify_uuids, ""]
    payloads = data.draw(notifications(profile))
    chars = data.draw(st.lists(st.sampled_from(uuids), min_size=12, max_size=12))
    reads = data.draw(st.lists(st.binary(max_size=32), max_size=len(profile.read_uuids)))
    decoder = profile.new_decoder(data.draw(st.sampled_from(profile.rates_hz or (100.0,))))
    for uuid, value in zip(profile.read_uuids, reads, strict=False):
        decoder.configure(uuid, value)
    arrival = 0.0
    for k, payload in enumerate(payloads):
        arrival += 0.05
        if k == len(payloads) // 2:
            decoder.reset_link()
        for block in decoder.feed(payload, arrival_s=arrival, char_uuid=chars[k % len(chars)]):
            assert block.acc_g.shape == (len(block), 3)
            assert block.gyro_dps.shape == (len(block), 3)
            assert np.all(np.isfinite(block.time_s))
    assert decoder.stats.malformed >= 0 and decoder.stats.samples >= 0


def test_found_by_the_fuzzer_a_byte_order_mark_as_the_only_row() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bom.csv"
        path.write_bytes((",".join(REQUIRED_COLUMNS) + "\n").encode() + b"\xef\xbb\xbf")
        with pytest.raises(ImuError, match="header but no samples"):
            read_recording(path)
