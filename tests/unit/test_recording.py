"""Stage 0, the recording CSV (contracts §1): round trips, SI columns, gaps, and bad input.

Every kind of bad input gets its own test; each checks that the error is one line naming the
file, the line (where there is one) and the problem — through the library and through the CLI.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu.cli import main
from imu.errors import RecordingError
from imu.recording import (
    GRAVITY_MPS2,
    Gap,
    Recording,
    RecordingWriter,
    find_gaps,
    read_recording,
    write_recording,
)

HEADER = "time_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps"
SI_HEADER = "time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyro_x_rads,gyro_y_rads,gyro_z_rads"
STILL = "0.01,-0.02,0.99,0.5,-0.25,0.125"  # a still sensor, g and °/s

WriteCsv = Callable[[str, str], Path]


def still_rows(n: int, *, start: int = 0) -> str:
    """``n`` still samples at 100 Hz, starting at sample ``start``."""
    return "".join(f"{(start + i) / 100:.2f},{STILL}\n" for i in range(n))


def expect_error(path: Path, *, line: int | None, words: list[str]) -> RecordingError:
    """Read ``path``; the RecordingError must be one line naming the file, line and problem."""
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    err = info.value
    message = str(err)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(str(path)), message
    assert err.path == str(path)
    assert err.line == line, message
    if line is None:
        assert ", line " not in message
    else:
        assert message.startswith(f"{path}, line {line}: "), message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return err


# --------------------------------------------------------------------------------------------
# round trips


def test_tiny_recording_reads_exactly(tiny_csv: Path) -> None:
    rec = read_recording(tiny_csv)
    assert len(rec) == 50
    assert rec.path == str(tiny_csv)
    assert rec.name == "tiny.csv"
    np.testing.assert_array_equal(rec.time_s, np.arange(50) / 100)
    np.testing.assert_array_equal(rec.acc_g, np.tile([0.01, -0.02, 0.99], (50, 1)))
    np.testing.assert_array_equal(rec.gyro_dps[:, :2], np.tile([0.5, -0.25], (50, 1)))
    np.testing.assert_array_equal(
        rec.gyro_dps[:, 2], [float(f"{0.125 + i / 1000:.3f}") for i in range(50)]
    )
    assert rec.sample_rate_hz == 100.0
    assert rec.duration_s == pytest.approx(0.49)
    assert rec.metadata["sensor"] == "hand-made"
    assert rec.metadata["started_at"] == "2026-11-21T10:00:00+00:00"
    assert rec.metadata["strap_colour"] == "blue"  # unknown keys are kept
    assert rec.extra is not None and list(rec.extra.columns) == ["seq"]
    assert rec.extra["seq"].tolist() == list(range(50))
    assert not rec.time_s.flags.writeable and not rec.acc_g.flags.writeable


def assert_same_recording(a: Recording, b: Recording) -> None:
    np.testing.assert_array_equal(a.time_s, b.time_s)
    np.testing.assert_array_equal(a.acc_g, b.acc_g)
    np.testing.assert_array_equal(a.gyro_dps, b.gyro_dps)
    assert dict(a.metadata) == dict(b.metadata)
    if a.extra is None or b.extra is None:
        assert a.extra is None and b.extra is None
    else:
        pd.testing.assert_frame_equal(
            a.extra.reset_index(drop=True), b.extra.reset_index(drop=True), check_dtype=False
        )


def test_read_write_read_is_exact(tiny_csv: Path, tmp_path: Path) -> None:
    first = read_recording(tiny_csv)
    second = read_recording(write_recording(tmp_path / "again.csv", first))
    assert_same_recording(first, second)
    assert list(second.metadata) == list(first.metadata)  # metadata order kept too


def test_write_read_in_memory_recording(tmp_path: Path) -> None:
    n = 20
    time_s = 1000.0 + np.arange(n) * 0.010001  # a drifting clock: needs µs in the file
    acc = np.column_stack([np.full(n, 0.125), np.linspace(-0.5, 0.5, n), np.full(n, 0.875)])
    gyro = np.column_stack([np.arange(n) * 1.5, -np.arange(n) * 0.25, np.full(n, 100.0)])
    extra = pd.DataFrame({"seq": np.arange(n) + 65530, "mag_x_ut": np.linspace(10, 20, n)})
    meta = {"sample_rate_hz": "100", "leg": "right", "note": "two\nlines"}
    rec = Recording(np.round(time_s, 6), np.round(acc, 5), np.round(gyro, 5), meta, extra)
    back = read_recording(write_recording(tmp_path / "mem.csv", rec))
    np.testing.assert_array_equal(back.time_s, rec.time_s)
    np.testing.assert_array_equal(back.acc_g, rec.acc_g)
    np.testing.assert_array_equal(back.gyro_dps, rec.gyro_dps)
    assert back.metadata == {"sample_rate_hz": "100", "leg": "right", "note": "two lines"}
    assert back.extra is not None
    assert back.extra["seq"].tolist() == list(range(65530, 65550))
    np.testing.assert_allclose(back.extra["mag_x_ut"], extra["mag_x_ut"], atol=5e-6)


def test_column_order_is_irrelevant(tiny_csv: Path, write_csv: WriteCsv) -> None:
    reference = read_recording(tiny_csv)
    frame = pd.read_csv(tiny_csv, comment="#")
    order = ["seq", "gyro_z_dps", "acc_y_g", "time_s", "gyro_x_dps", "acc_z_g", "acc_x_g"]
    order.append("gyro_y_dps")
    text = "# sample_rate_hz: 100\n" + frame[order].to_csv(index=False, lineterminator="\n")
    shuffled = read_recording(write_csv("shuffled.csv", text))
    np.testing.assert_array_equal(shuffled.time_s, reference.time_s)
    np.testing.assert_array_equal(shuffled.acc_g, reference.acc_g)
    np.testing.assert_array_equal(shuffled.gyro_dps, reference.gyro_dps)
    assert shuffled.extra is not None and shuffled.extra["seq"].tolist() == list(range(50))


def test_extra_columns_are_carried_in_header_order(write_csv: WriteCsv) -> None:
    text = (
        "mag_x_ut,"
        + HEADER
        + ",seq,note\n"
        + "".join(f"{30 + i},{i / 100:.2f},{STILL},{i},n{i}\n" for i in range(5))
    )
    rec = read_recording(write_csv("extra.csv", text))
    assert rec.extra is not None
    assert list(rec.extra.columns) == ["mag_x_ut", "seq", "note"]
    assert rec.extra["note"].tolist() == [f"n{i}" for i in range(5)]
    assert rec.extra["mag_x_ut"].tolist() == [30, 31, 32, 33, 34]


def test_crlf_bom_blank_lines_and_spaces_are_tolerated(write_csv: WriteCsv) -> None:
    text = "\ufeff\n# sample_rate_hz: 100\n\n" + HEADER.replace(",", ", ") + "\n"
    text += still_rows(3) + "\n   \n" + still_rows(3, start=3) + "\n\n"
    rec = read_recording(write_csv("loose.csv", text.replace("\n", "\r\n")))
    np.testing.assert_array_equal(rec.time_s, np.arange(6) / 100)
    assert rec.metadata == {"sample_rate_hz": "100"}
    assert rec.extra is None


def test_trailing_comma_does_not_make_a_column(write_csv: WriteCsv) -> None:
    text = HEADER + ",\n" + "".join(f"{i / 100:.2f},{STILL},\n" for i in range(4))
    rec = read_recording(write_csv("trailing.csv", text))
    assert len(rec) == 4 and rec.extra is None


def test_si_columns_are_converted_exactly(write_csv: WriteCsv) -> None:
    g = GRAVITY_MPS2
    rows = [
        (0.0, 0.0, 0.0, g, 0.0, 0.0, 0.0),
        (0.04, 0.5 * g, -0.25 * g, g, math.pi / 2, -math.pi, math.pi / 180),
        (0.08, -g, 0.0, 0.5 * g, 1.0, 0.0, -0.5),
    ]
    text = SI_HEADER + "\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in rows)
    rec = read_recording(write_csv("si.csv", text))
    np.testing.assert_array_equal(rec.acc_g, [[0, 0, 1], [0.5, -0.25, 1], [-1, 0, 0.5]])
    np.testing.assert_allclose(
        rec.gyro_dps,
        [[0, 0, 0], [90, -180, 1], [180 / math.pi, 0, -90 / math.pi]],
        rtol=1e-15,
        atol=0,
    )
    assert rec.extra is None  # the SI columns are consumed, not carried as extras


def test_native_columns_win_and_si_columns_are_carried(write_csv: WriteCsv) -> None:
    text = HEADER + ",acc_x_mps2\n" + f"0.00,{STILL},9.0\n0.01,{STILL},9.5\n"
    rec = read_recording(write_csv("both.csv", text))
    np.testing.assert_array_equal(rec.acc_g[:, 0], [0.01, 0.01])
    assert rec.extra is not None and rec.extra["acc_x_mps2"].tolist() == [9.0, 9.5]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.integers(1, 5_000),  # time step, 10 µs
            st.integers(-20_000, 20_000),  # acc x, 1e-5 g
            st.integers(-20_000, 20_000),
            st.integers(90_000, 110_000),  # acc z ≈ 1 g: the units check must pass
            st.integers(-50_000_000, 50_000_000),  # gyro, 1e-5 °/s (±500 °/s)
            st.integers(-50_000_000, 50_000_000),
            st.integers(-50_000_000, 50_000_000),
        ),
        min_size=1,
        max_size=300,
    ),
    t0=st.integers(0, 10**8),
)
def test_random_recordings_round_trip_in_order(data: list[tuple[int, ...]], t0: int) -> None:
    ints = np.array(data, dtype=np.int64)
    time_s = (t0 + np.cumsum(ints[:, 0])) / 1e5
    acc = ints[:, 1:4] / 1e5
    gyro = ints[:, 4:7] / 1e5
    seq = pd.DataFrame({"seq": np.arange(len(ints))})
    rec = Recording(time_s, acc, gyro, {"sample_rate_hz": "100"}, seq)
    with tempfile.TemporaryDirectory() as tmp:
        back = read_recording(write_recording(Path(tmp) / "r.csv", rec))
    assert len(back) == len(rec)
    np.testing.assert_array_equal(back.time_s, time_s)
    np.testing.assert_array_equal(back.acc_g, acc)
    np.testing.assert_array_equal(back.gyro_dps, gyro)
    assert back.extra is not None
    assert back.extra["seq"].tolist() == list(range(len(ints)))


def test_recording_writer_output_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    t = 5.0 + np.arange(30) / 100
    acc = np.tile([0.0, 0.0, 1.0], (30, 1))
    gyro = np.column_stack([np.arange(30.0), np.zeros(30), -np.arange(30.0)])
    with RecordingWriter(path, metadata={"sample_rate_hz": 100}, extra_columns=["seq"]) as w:
        w.append(t[:10], acc[:10], gyro[:10], {"seq": np.arange(10)})
        w.append(t[10:], acc[10:], gyro[10:])  # no seq for these: written as nan
    rec = read_recording(path)
    np.testing.assert_array_equal(rec.time_s, t)
    np.testing.assert_array_equal(rec.gyro_dps, gyro)
    assert rec.extra is not None
    assert rec.extra["seq"].iloc[:10].tolist() == list(range(10))
    assert rec.extra["seq"].iloc[10:].isna().all()


def test_slice_time_is_half_open(tiny_csv: Path) -> None:
    rec = read_recording(tiny_csv)
    part = rec.slice_time(0.1, 0.2)
    np.testing.assert_array_equal(part.time_s, np.arange(10, 20) / 100)
    assert part.extra is not None and part.extra["seq"].tolist() == list(range(10, 20))
    assert part.metadata == rec.metadata


# --------------------------------------------------------------------------------------------
# gaps


def test_regular_clock_has_no_gaps() -> None:
    assert find_gaps(np.arange(500) / 100, sampling_rate_hz=100.0) == []


def test_jitter_is_not_a_gap() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(2000) / 100 + rng.uniform(-0.002, 0.002, 2000)  # ±20 % of a period
    assert np.diff(t).max() > 0.0135  # the jitter is real...
    assert find_gaps(t, sampling_rate_hz=100.0) == []  # ...but not a gap


def test_missing_samples_make_one_gap() -> None:
    t = np.delete(np.arange(100) / 100, np.arange(50, 55))  # 5 samples lost
    gaps = find_gaps(t, sampling_rate_hz=100.0)
    assert gaps == [Gap(0.49, 0.55, 5)]
    assert gaps[0].duration_s == pytest.approx(0.06)
    assert find_gaps(t, sampling_rate_hz=100.0, min_missing=6) == []
    assert find_gaps(t, sampling_rate_hz=100.0, min_missing=5) == gaps


def test_single_lost_sample_is_a_gap_and_several_gaps_are_in_order() -> None:
    t = np.delete(np.arange(300) / 100, [10, 100, 101, 102, 250])
    gaps = find_gaps(t, sampling_rate_hz=100.0)
    assert [(g.start_s, g.end_s, g.missing_samples) for g in gaps] == [
        (0.09, 0.11, 1),
        (0.99, 1.03, 3),
        (2.49, 2.51, 1),
    ]


def test_gaps_need_a_rate_and_two_samples() -> None:
    t = np.array([0.0, 1.0])
    assert find_gaps(t, sampling_rate_hz=0.0) == []
    assert find_gaps(t, sampling_rate_hz=math.nan) == []
    assert find_gaps(t[:1], sampling_rate_hz=100.0) == []


@given(
    lost=st.lists(st.tuples(st.integers(5, 900), st.integers(1, 40)), max_size=4),
    jitter=st.floats(0.0, 0.3),
)
@settings(max_examples=60, deadline=None)
def test_gap_property_counts_lost_samples(lost: list[tuple[int, int]], jitter: float) -> None:
    rng = np.random.default_rng(len(lost))
    keep = np.ones(1000, dtype=bool)
    for start, count in lost:
        keep[start : start + count] = False
    t = (np.arange(1000) + rng.uniform(-jitter / 2, jitter / 2, 1000)) / 50.0
    t = t[keep]
    gaps = find_gaps(t, sampling_rate_hz=50.0)
    assert sum(g.missing_samples for g in gaps) == int((~keep).sum())
    starts = [g.start_s for g in gaps]
    assert starts == sorted(starts)
    assert all(g.end_s > g.start_s for g in gaps)


def test_recording_gaps_use_the_declared_rate(write_csv: WriteCsv) -> None:
    body = still_rows(20) + still_rows(20, start=23)  # 3 samples lost after 0.19 s
    declared = read_recording(
        write_csv("declared.csv", "# sample_rate_hz: 100\n" + HEADER + "\n" + body)
    )
    assert declared.sample_rate_hz == 100.0
    assert declared.gaps() == [Gap(0.19, 0.23, 3)]
    measured = read_recording(write_csv("measured.csv", HEADER + "\n" + body))
    assert measured.sample_rate_hz == pytest.approx(100.0)
    assert measured.gaps() == [Gap(0.19, 0.23, 3)]
    assert measured.gaps(min_missing=4) == []
    junk_rate = read_recording(
        write_csv("junk.csv", "# sample_rate_hz: fast\n" + HEADER + "\n" + body)
    )
    assert junk_rate.sample_rate_hz == pytest.approx(100.0)  # unusable metadata: measured


# --------------------------------------------------------------------------------------------
# the real PTE recordings


def test_pte_recordings_load(pte_dir: Path) -> None:
    files = sorted(pte_dir.glob("*.csv"))
    assert len(files) >= 10
    for path in files:
        rec = read_recording(path)
        assert len(rec) > 1000, path.name
        assert rec.sample_rate_hz == 25.0, path.name
        assert np.median(np.diff(rec.time_s)) == pytest.approx(0.04), path.name
        # converted from m/s² and rad/s: about 1 g at rest, degrees per second
        norm = np.linalg.norm(rec.acc_g, axis=1)
        assert 0.9 < np.median(norm) < 1.1, path.name
        assert rec.gaps() == [], path.name
        assert rec.extra is None, path.name
    first = pte_dir / "pte_s1_e5_u2.csv"
    rec = read_recording(first)
    assert rec.metadata["exercise"] == "prone leg raise (hip extension)"
    # the file's first sample, converted
    np.testing.assert_allclose(
        rec.acc_g[0], np.array([-0.919127, -7.623193, 6.012549]) / GRAVITY_MPS2, rtol=1e-15
    )
    np.testing.assert_allclose(
        rec.gyro_dps[0], np.degrees([0.004559, 0.028443, 0.004079]), rtol=1e-15
    )


# --------------------------------------------------------------------------------------------
# bad input: one test per kind


def test_no_such_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "missing.csv", line=None, words=["no such file"])


def test_a_directory(tmp_path: Path) -> None:
    expect_error(tmp_path, line=None, words=["directory"])


def test_empty_file(write_csv: WriteCsv) -> None:
    expect_error(write_csv("empty.csv", ""), line=None, words=["empty"])


def test_blank_lines_only(write_csv: WriteCsv) -> None:
    expect_error(write_csv("blank.csv", "\n \n\r\n"), line=None, words=["empty"])


def test_only_metadata(write_csv: WriteCsv) -> None:
    path = write_csv("meta.csv", "# sample_rate_hz: 100\n# leg: left\n")
    expect_error(path, line=None, words=["only metadata", "no header"])


def test_header_but_no_rows(write_csv: WriteCsv) -> None:
    path = write_csv("header.csv", "# sample_rate_hz: 100\n# leg: left\n" + HEADER + "\n\n")
    expect_error(path, line=3, words=["header but no samples"])


def test_missing_column(write_csv: WriteCsv) -> None:
    header = HEADER.replace(",gyro_y_dps", "")
    path = write_csv("missing.csv", header + "\n0.0,0,0,1,0,0\n")
    expect_error(path, line=1, words=["missing column", "'gyro_y_dps'"])


def test_missing_column_si(write_csv: WriteCsv) -> None:
    header = SI_HEADER.replace(",acc_y_mps2", "")
    path = write_csv("missing_si.csv", "# a: b\n" + header + "\n0.0,0,9.8,0,0,0\n")
    expect_error(path, line=2, words=["missing column", "'acc_y_mps2'"])


def test_missing_time_column(write_csv: WriteCsv) -> None:
    path = write_csv("no_time.csv", HEADER.replace("time_s", "t") + "\n" + STILL + ",0\n")
    expect_error(path, line=1, words=["missing column", "'time_s'"])


def test_duplicate_column(write_csv: WriteCsv) -> None:
    path = write_csv("dupe.csv", HEADER + ",acc_x_g\n" + f"0.00,{STILL},0.5\n0.01,{STILL},0.5\n")
    expect_error(path, line=1, words=["duplicate column", "acc_x_g"])


def test_non_numeric_cell(write_csv: WriteCsv) -> None:
    text = (
        HEADER
        + "\n"
        + still_rows(5)
        + "0.05,0.01,abc,0.99,0.5,-0.25,0.125\n"
        + still_rows(5, start=6)
    )
    expect_error(write_csv("abc.csv", text), line=7, words=["non-numeric", "'abc'", "'acc_y_g'"])


def test_non_numeric_cell_below_metadata_and_blank_lines(write_csv: WriteCsv) -> None:
    # lines: 1-3 metadata, 4 blank, 5 header, 6-9 samples, 10 blank, 11 sample, 12 the bad one
    text = "# sample_rate_hz: 100\n# leg: left\n# sensor: x\n\n" + HEADER + "\n"
    text += still_rows(4) + "\n" + still_rows(1, start=4) + "0.05,0.01,-0.02,0.99,0.5,x1,0.125\n"
    expect_error(
        write_csv("meta_abc.csv", text), line=12, words=["non-numeric", "'x1'", "gyro_y_dps"]
    )


def test_first_bad_row_is_reported_whatever_its_column(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(2) + "0.02,0.01,-0.02,0.99,0.5,-0.25,oops\n"
    text += "bad,0.01,-0.02,0.99,0.5,-0.25,0.125\n"
    expect_error(write_csv("first.csv", text), line=4, words=["'oops'", "'gyro_z_dps'"])


def test_empty_cell(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(3) + "0.03,0.01,,0.99,0.5,-0.25,0.125\n"
    expect_error(write_csv("hole.csv", text), line=5, words=["empty cell", "'acc_y_g'"])


def test_spaces_around_numbers_read_the_same_numbers(write_csv: WriteCsv) -> None:
    tight = HEADER + "\n" + still_rows(4) + "0.04,0.125,-0.5e-1,1.0625,3,-7.25,0\n"
    loose = tight.replace(",", ",  ").replace("\n", " \n")
    a, b = (
        read_recording(write_csv("tight.csv", tight)),
        read_recording(write_csv("loose.csv", loose)),
    )
    for x, y in ((a.time_s, b.time_s), (a.acc_g, b.acc_g), (a.gyro_dps, b.gyro_dps)):
        np.testing.assert_array_equal(x, y)


def test_cell_of_spaces_is_an_empty_cell(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(3) + "0.03,0.01,   ,0.99,0.5,-0.25,0.125\n"
    expect_error(write_csv("spaces.csv", text), line=5, words=["empty cell", "'acc_y_g'"])


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf"])
def test_non_finite_cell(write_csv: WriteCsv, cell: str) -> None:
    text = "# x: y\n" + HEADER + "\n" + still_rows(3) + f"0.03,0.01,-0.02,{cell},0.5,-0.25,0.125\n"
    expect_error(write_csv("nan.csv", text), line=6, words=[repr(cell), "'acc_z_g'", "finite"])


def test_na_marker_is_non_numeric(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(3) + "0.03,0.01,-0.02,0.99,NA,-0.25,0.125\n"
    expect_error(write_csv("na.csv", text), line=5, words=["non-numeric", "'NA'", "'gyro_x_dps'"])


def test_time_going_backwards(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(5) + f"0.03,{STILL}\n"
    expect_error(
        write_csv("back.csv", text), line=7, words=["time_s goes backwards", "0.04", "0.03"]
    )


def test_time_repeated(write_csv: WriteCsv) -> None:
    text = "# a: b\n" + HEADER + "\n" + still_rows(5) + f"0.04,{STILL}\n"
    expect_error(write_csv("repeat.csv", text), line=8, words=["time_s repeats", "0.04"])


def test_nan_time(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(2) + f"nan,{STILL}\n"
    expect_error(write_csv("nan_time.csv", text), line=4, words=["'nan'", "'time_s'"])


def test_metres_per_second_squared_in_g_columns(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + "".join(f"{i / 100:.2f},0.1,-0.2,9.79,0.5,-0.2,0.1\n" for i in range(50))
    expect_error(write_csv("mps2_as_g.csv", text), line=None, words=["acc_x_g", "9.8", "m/s²"])


def test_g_in_metres_per_second_squared_columns(write_csv: WriteCsv) -> None:
    text = SI_HEADER + "\n" + "".join(f"{i / 100:.2f},0.01,-0.02,0.99,0,0,0\n" for i in range(50))
    expect_error(write_csv("g_as_mps2.csv", text), line=None, words=["acc_x_mps2", "looks like g"])


def test_accelerometer_in_milli_g(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + "".join(f"{i / 100:.2f},10,-20,990,0.5,-0.2,0.1\n" for i in range(50))
    expect_error(write_csv("mg.csv", text), line=None, words=["at rest", "units"])


def test_degrees_per_second_in_radian_columns(write_csv: WriteCsv) -> None:
    text = (
        SI_HEADER
        + "\n"
        + "".join(f"{i / 100:.2f},0.1,-0.2,9.79,{150 + i},-120,40\n" for i in range(50))
    )
    expect_error(write_csv("dps_as_rads.csv", text), line=None, words=["gyro_x_rads", "°/s"])


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        ("# sensor: ok\n" + HEADER + "\n" + still_rows(2) + "# café\n").encode("latin-1")
    )
    expect_error(path, line=5, words=["not UTF-8", "0xe9"])


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(128, 256)))
    expect_error(path, line=1, words=["not UTF-8"])


def test_ragged_row_too_many_fields(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(5) + f"0.05,{STILL},7\n" + still_rows(3, start=6)
    expect_error(write_csv("ragged.csv", text), line=7, words=["8 fields", "7 columns"])


def test_ragged_first_row(write_csv: WriteCsv) -> None:
    # a trap: pandas would take the first column of such a file as an index and shift the rest
    text = "# a: b\n" + HEADER + "\n" + f"0.00,{STILL},7\n" + still_rows(3, start=1)
    expect_error(write_csv("ragged1.csv", text), line=3, words=["8 fields", "7 columns"])


def test_short_row(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(2) + "0.02,0.01,-0.02,0.99,0.5\n"
    expect_error(write_csv("short.csv", text), line=4, words=["only 5 fields", "7 columns"])


def test_metadata_line_among_the_samples(write_csv: WriteCsv) -> None:
    text = HEADER + "\n" + still_rows(2) + "# leg: left\n" + still_rows(2, start=2)
    expect_error(write_csv("late_meta.csv", text), line=4, words=["'#' line", "before the header"])


# --------------------------------------------------------------------------------------------
# bad input through the CLI: exit code, one line on stderr, no traceback

CLI_CASES = {
    "empty": "",
    "only_metadata": "# sample_rate_hz: 100\n",
    "header_only": HEADER + "\n",
    "missing_column": HEADER.replace(",acc_z_g", "") + "\n0,0,0,0,0,0\n",
    "duplicate_column": HEADER + ",time_s\n" + f"0,{STILL},0\n",
    "non_numeric": "# a: b\n" + HEADER + "\n" + still_rows(3) + f"zz,{STILL}\n",
    "empty_cell": HEADER + "\n" + f"0.00,{STILL}\n0.01,,0,1,0,0,0\n",
    "nan": HEADER + "\n" + f"0.00,{STILL}\n0.01,nan,0,1,0,0,0\n",
    "backwards": HEADER + "\n" + still_rows(3) + f"0.00,{STILL}\n",
    "repeated": HEADER + "\n" + still_rows(3) + f"0.02,{STILL}\n",
    "wrong_unit": HEADER + "\n" + "".join(f"{i / 100:.2f},0,0,9.81,0,0,0\n" for i in range(20)),
    "ragged": HEADER + "\n" + still_rows(3) + f"0.03,{STILL},1,2\n",
}


@pytest.mark.parametrize("kind", sorted(CLI_CASES))
def test_cli_reports_bad_recording_in_one_line(
    kind: str, write_csv: WriteCsv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(f"{kind}.csv", CLI_CASES[kind])
    out = tmp_path / "out"
    code = main(["analyze", str(path), "--out", str(out), "--no-plots"])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"imu analyze: error: {path}"), lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (out / "summary.json").exists()


def test_cli_reports_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["analyze", str(missing), "--out", str(tmp_path / "o"), "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert err == f"imu analyze: error: {missing}: no such file\n"


def test_cli_reports_bad_row_with_line_number(
    write_csv: WriteCsv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv("bad.csv", CLI_CASES["non_numeric"])
    assert main(["analyze", str(path), "--out", str(tmp_path / "o"), "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"imu analyze: error: {re.escape(str(path))}, line 6: non-numeric value 'zz' "
        r"in column 'time_s'\n",
        err,
    ), err


def test_milliseconds_in_time_s_is_rejected(tmp_path: Path) -> None:
    rows = "\n".join(f"{10 * i},0,0,1,0,0,0" for i in range(50))
    bad = tmp_path / "ms.csv"
    bad.write_text("time_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps\n" + rows)
    with pytest.raises(RecordingError, match="milliseconds"):
        read_recording(bad)


def test_declared_rate_that_contradicts_the_timestamps_is_not_used(tmp_path: Path) -> None:
    rows = "\n".join(f"{i / 100:.2f},0,0,1,0,0,0" for i in range(50))
    path = tmp_path / "rate.csv"
    path.write_text(
        "# sample_rate_hz: 25\ntime_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps\n"
        + rows
    )
    rec = read_recording(path)
    assert rec.sample_rate_hz == pytest.approx(100.0)
    assert rec.gaps() == []
