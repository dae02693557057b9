"""Phone exports → recordings: every format and dialect, the merge rules, the refusals, the CLI,
and a round trip (simulated session → the apps' formats → import → analyze) that must give the
original recording's reps."""

from __future__ import annotations

import dataclasses
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import imu
from imu.cli import main
from imu.errors import PhoneExportError
from imu.phone import is_phone_export, load_phone_export
from imu.phone.streams import PhoneStream, merge_onto
from imu.recording import Recording, read_recording
from imu.simulate import random_spec, simulate_session
from imu.simulate.phone import (
    PhoneSamples,
    phone_samples,
    phyphox_csv,
    phyphox_zip,
    sensorlogger_csvs,
    sensorlogger_json,
    sensorlogger_zip,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "phone"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))


@pytest.fixture(scope="module")
def session() -> Recording:
    """A short bench session at 100 Hz: a set of 7 reps between standing."""
    rng = np.random.default_rng(77)
    spec = random_spec(rng, setup="bench", faults=False)
    spec = dataclasses.replace(
        spec,
        rate_hz=100.0,
        reps_per_set=(7,),
        lead_in_s=6.0,
        lead_out_s=3.0,
        activities=("stand",),
        sensor=dataclasses.replace(spec.sensor, jitter_s=0.0, drop_runs_per_min=0.0),
    )
    return simulate_session(spec, seed=77).recording


@pytest.fixture(scope="module")
def samples(session: Recording) -> PhoneSamples:
    return phone_samples(session)


@pytest.fixture(scope="module")
def original(session: Recording) -> imu.SessionResult:
    return imu.analyze(session)


def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _reps(result: imu.SessionResult) -> list[tuple[float, float, float, float]]:
    return [
        (r.start_s, r.top_start_s, r.end_s, r.peak_angle_deg) for s in result.sets for r in s.reps
    ]


def _same_reps(imported: imu.SessionResult, original: imu.SessionResult, t0: float) -> None:
    """Same sets and reps; boundaries within 2 samples at 100 Hz, peaks within 0.3°."""
    assert [s.rep_count for s in imported.sets] == [s.rep_count for s in original.sets]
    got, want = np.array(_reps(imported)), np.array(_reps(original))
    assert got.shape == want.shape and got.shape[0] >= 6
    np.testing.assert_allclose(got[:, :3] + t0, want[:, :3], atol=0.02)
    np.testing.assert_allclose(got[:, 3], want[:, 3], atol=0.3)


# --------------------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("android.zip", lambda s: sensorlogger_zip(s, platform="android")),
        ("ios.zip", lambda s: sensorlogger_zip(s, platform="ios")),
        ("ios-standardised.zip", lambda s: sensorlogger_zip(s, platform="ios", standardised=True)),
        ("export.json", lambda s: sensorlogger_json(s, platform="android")),
        ("combined.zip", lambda s: phyphox_zip(s, experiment="combined")),
    ],
)
def test_round_trip_matches_the_original_reps(
    tmp_path: Path, samples: PhoneSamples, original: imu.SessionResult, name: str, make: object
) -> None:
    path = _write(tmp_path, name, make(samples))  # type: ignore[operator]
    imported = load_phone_export([path])
    rec = imported.recording
    t0 = float(samples.gyro_t_s[0])  # the recording's time_s counts from its first sample
    _same_reps(imu.analyze(rec), original, t0)
    assert rec.sample_rate_hz == pytest.approx(100.0)


def test_two_phyphox_experiments_are_aligned_by_their_system_times(
    tmp_path: Path, samples: PhoneSamples, original: imu.SessionResult
) -> None:
    acc = _write(tmp_path, "a.zip", phyphox_zip(samples, experiment="acceleration"))
    gyro = _write(
        tmp_path,
        "g.zip",
        phyphox_zip(samples, experiment="gyroscope", start_delay_s=1.3, separator=";", decimal=","),
    )
    imported = load_phone_export([acc, gyro])
    # the gyroscope started 1.3 s later: the recording starts there
    t0 = float(samples.gyro_t_s[0]) + 1.3
    _same_reps(imu.analyze(imported.recording), original, t0)


def test_sensorlogger_folder_and_single_csvs(
    tmp_path: Path, samples: PhoneSamples, original: imu.SessionResult
) -> None:
    folder = tmp_path / "2026-11-21_10-00-00"
    folder.mkdir()
    for name, text in sensorlogger_csvs(samples, platform="ios").items():
        _write(folder, name, text)
    from_folder = load_phone_export([folder]).recording
    # the iOS files without standardisation: mirrored acceleration, restored here
    android = load_phone_export(
        [_write(tmp_path, "a.zip", sensorlogger_zip(samples, platform="android"))]
    ).recording
    np.testing.assert_allclose(from_folder.acc_g, android.acc_g, atol=2e-6)
    np.testing.assert_allclose(from_folder.gyro_dps, android.gyro_dps, atol=1e-6)
    files = [folder / n for n in ("Accelerometer.csv", "Gravity.csv", "Gyroscope.csv")]
    from_files = load_phone_export([*files, folder / "Metadata.csv"]).recording
    np.testing.assert_array_equal(from_files.acc_g, from_folder.acc_g)
    assert from_folder.metadata["platform"] == "ios"
    assert "negated" in from_folder.metadata["axes"]
    _same_reps(imu.analyze(from_folder), original, float(samples.gyro_t_s[0]))


# --------------------------------------------------------------------------------------------
# phyphox dialects


@pytest.mark.parametrize(
    ("separator", "decimal"), [(",", "."), ("\t", "."), (";", "."), ("\t", ","), (";", ",")]
)
@pytest.mark.parametrize("platform", ["android", "ios"])
def test_every_phyphox_dialect_reads_the_same(
    tmp_path: Path, samples: PhoneSamples, separator: str, decimal: str, platform: str
) -> None:
    sl = slice(0, 400)
    acc_t, gyro_t = samples.acc_t_s[sl], samples.gyro_t_s[sl]
    text = phyphox_csv(
        [
            (("Time (s)", "Acceleration x (m/s^2)", "Acceleration y (m/s^2)",
              "Acceleration z (m/s^2)", "Absolute acceleration (m/s^2)"),
             acc_t, samples.acc_mps2[sl]),
            (("Time (s)", "Gyroscope x (rad/s)", "Gyroscope y (rad/s)", "Gyroscope z (rad/s)",
              "Absolute (rad/s)"),
             gyro_t[:-5], samples.gyro_rads[sl][:-5]),
        ],
        separator=separator,
        decimal=decimal,
        platform=platform,  # type: ignore[arg-type]
    )  # fmt: skip
    path = _write(tmp_path, "Raw Data.csv", text)
    assert is_phone_export(path)
    rec = load_phone_export([path]).recording
    # base: the gyroscope's instants (395 of them, shorter column padded with NaN or "")
    assert len(rec) == 394  # its first instant comes before the accelerometer's first sample
    expect_g = samples.acc_mps2[sl][: len(rec)] / 9.80665
    assert np.abs(rec.acc_g - expect_g).max() < 0.05  # interpolated 0.37 of a period away
    np.testing.assert_allclose(
        rec.gyro_dps, np.degrees(samples.gyro_rads[sl][1:395]), rtol=1e-8, atol=1e-7
    )


def test_phyphox_on_ios_uses_its_own_g(tmp_path: Path, samples: PhoneSamples) -> None:
    path = _write(tmp_path, "i.zip", phyphox_zip(samples, experiment="combined", platform="ios"))
    rec = load_phone_export([path]).recording
    still = np.linalg.norm(rec.acc_g[:200], axis=1)
    assert np.median(still) == pytest.approx(1.0, abs=0.01)
    assert rec.metadata["platform"] == "ios"
    assert "9.81" in rec.metadata["units"]


# --------------------------------------------------------------------------------------------
# merge rules


def test_merge_takes_shared_instants_as_measured_and_never_bridges_a_gap() -> None:
    base = np.arange(0.0, 1.0, 0.01)
    other_t = np.concatenate((np.arange(0.0, 0.5, 0.01), np.arange(0.8, 1.0, 0.01)))
    other_v = np.column_stack([other_t, 2 * other_t, 3 * other_t])
    values, has, exact = merge_onto(base, other_t + 0.004, other_v, max_gap_s=0.03)
    inside = (base > 0.004) & (base < 0.494)
    assert has[inside].all()
    assert not has[(base > 0.5) & (base < 0.8)].any()  # the 0.3 s gap is not bridged
    np.testing.assert_allclose(values[inside, 0], base[inside] - 0.004, atol=1e-12)
    values, has, exact = merge_onto(base, base.copy(), np.ones((100, 1)), max_gap_s=0.03)
    assert exact.all() and has.all()


def test_screen_lock_gap_and_duplicates_are_reported(tmp_path: Path, samples: PhoneSamples) -> None:
    files = sensorlogger_csvs(
        samples, platform="android", sensors=("TotalAcceleration", "Gyroscope")
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in files.items():
        lines = text.splitlines(keepends=True)
        if name != "Metadata.csv":
            del lines[1001:1301]  # the app paused for 3 s (screen locked)
            lines.insert(500, lines[500])  # a sample written twice
        _write(folder, name, "".join(lines))
    imported = load_phone_export([folder])
    rec = imported.recording
    gaps = rec.gaps()
    assert len(gaps) == 1 and gaps[0].duration_s == pytest.approx(3.01, abs=0.02)
    dropped = [v for k, v in rec.metadata.items() if k.startswith("dropped")]
    assert any("repeated timestamps" in d for d in dropped)
    result = imu.analyze(rec)
    assert any("gap" in n for n in result.notes)


# --------------------------------------------------------------------------------------------
# refusals and detection


def test_accelerometer_without_gravity_is_refused(tmp_path: Path, samples: PhoneSamples) -> None:
    files = sensorlogger_csvs(samples, platform="ios", sensors=("Accelerometer", "Gyroscope"))
    paths = [_write(tmp_path, n, t) for n, t in files.items()]
    with pytest.raises(PhoneExportError, match="gravity removed"):
        load_phone_export(paths)


def test_two_plain_csvs_without_a_shared_clock_are_refused(
    tmp_path: Path, samples: PhoneSamples
) -> None:
    paths = []
    for exp in ("acceleration", "gyroscope"):
        with zipfile.ZipFile(io.BytesIO(phyphox_zip(samples, experiment=exp))) as zf:  # type: ignore[arg-type]
            paths.append(_write(tmp_path, f"{exp}.csv", zf.read("Raw Data.csv")))
    with pytest.raises(PhoneExportError, match="no shared clock"):
        load_phone_export(paths)


def test_format_is_found_from_the_content_not_the_name(
    tmp_path: Path, samples: PhoneSamples
) -> None:
    zipped = _write(tmp_path, "download (3)", sensorlogger_zip(samples, platform="android"))
    assert is_phone_export(zipped)
    assert load_phone_export([zipped]).app == "Sensor Logger"
    # a Sensor Logger CSV renamed: total acceleration and gravity are told by their values
    files = sensorlogger_csvs(samples, platform="android", sensors=("Gravity", "Gyroscope"))
    renamed = _write(tmp_path, "g.csv", files["Gravity.csv"])
    gyro = _write(tmp_path, "Gyroscope.csv", files["Gyroscope.csv"])
    with pytest.raises(PhoneExportError, match="no accelerometer"):
        load_phone_export([renamed, gyro])  # gravity alone is not specific force
    # a gyroscope file holding accelerometer values is caught
    (tmp_path / "bad").mkdir()
    bad = _write(tmp_path / "bad", "Gyroscope.csv", files["Gravity.csv"])
    with pytest.raises(PhoneExportError, match="like an accelerometer"):
        load_phone_export([bad, _write(tmp_path, "TotalAcceleration.csv", files["Gravity.csv"])])


def test_unrecognised_input_gets_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = _write(tmp_path, "notes.txt", "hello,world\n1,2\n")
    code = main(["import", str(junk), "--out", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err
    assert "no Sensor Logger or phyphox data found" in err
    assert "expected" in err


# --------------------------------------------------------------------------------------------
# the CLI and the shipped samples


def test_import_writes_a_contract_recording_with_its_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "phone.csv"
    src = SAMPLES / "sensorlogger_android.zip"
    assert main(["import", str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Sensor Logger (android" in printed and "merge:" in printed
    rec = read_recording(out)
    import hashlib

    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    meta = rec.metadata
    assert meta["source_app"] == "Sensor Logger"
    assert meta["source_file_1"].endswith(f"sha256:{digest}")
    assert meta["device"] == "Pixel 8 (simulated)"
    assert float(meta["sample_rate_hz"]) == pytest.approx(50.0)
    assert "merge" in meta and "axes" in meta
    assert main(["import", str(src), "--out", str(out)]) == 1  # never overwritten


def test_analyze_reads_both_apps_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from make_phone_samples import REPS

    for paths in (
        [SAMPLES / "sensorlogger_android.zip"],
        [SAMPLES / "phyphox_acceleration.zip", SAMPLES / "phyphox_gyroscope.zip"],
    ):
        out = tmp_path / paths[0].stem
        code = main(["analyze", *map(str, paths), "--out", str(out), "--no-plots"])
        assert code == 0
        assert f"1 set(s), {REPS} rep(s)" in capsys.readouterr().out
    for small in ("sensorlogger_ios.json", "phyphox_combined.csv"):
        rec = load_phone_export([SAMPLES / small]).recording
        assert len(rec) > 200


def test_shipped_samples_are_current() -> None:
    from make_phone_samples import build

    for name, data in build().items():
        assert (SAMPLES / name).read_bytes() == data, f"{name}: run scripts/make_phone_samples.py"


def test_a_stream_on_its_own_clock_is_a_phone_stream() -> None:
    s = PhoneStream("gyro", np.arange(3.0), np.zeros((3, 3)), "x")
    assert len(s) == 3
