"""Issue 7, the hostile user: every bad path, stream, size and setting is one line on stderr and
exit code 1 (2 for usage) — never a traceback, never a hang, never two runs' files in a folder.

The cases listed at the top of the issue each have a test here (search for "issue case").
Tests may run as root, whom permission bits do not stop: the unwritable places are under
``/proc`` and ``/sys``, and the unreadable folder is tried as user ``nobody`` in a subprocess.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import imu.commands.analyze
import imu.pipeline
import imu.recording
from imu.cli import main
from imu.recording import read_recording

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "recordings" / "demo_session.csv"
HEADER = "time_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps"


def one_error_line(capsys: pytest.CaptureFixture[str], command: str = "analyze") -> str:
    """The stderr of a failed command: exactly one line, ``imu <command>: error: …``."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"imu {command}: error: "), lines[0]
    return lines[0]


def small_csv(path: Path, rows: int = 300) -> Path:
    """A still sensor at 100 Hz: readable, nothing to count."""
    body = "".join(f"{i / 100:.2f},0.01,-0.02,0.99,0.5,-0.25,0.1\n" for i in range(rows))
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    return path


@pytest.fixture
def quick_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream that sends nothing is given up on after 0.5 s instead of 5."""
    monkeypatch.setattr(imu.recording, "STREAM_TIMEOUT_S", 0.5)


# --- the output location, checked before the analysis ------------------------------------------


def test_out_naming_an_existing_file(  # issue case
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = small_csv(tmp_path / "x.csv")
    assert main(["analyze", str(existing), "--out", str(existing)]) == 1
    line = one_error_line(capsys)
    assert (
        line == f"imu analyze: error: --out {existing}: is a file, not a folder; name a folder "
        "(it is made if missing)"
    )


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("/proc/imu-out", "cannot create it in /proc/ (that file system does not take new files)"),
        ("/proc/imu/deeper/out", "cannot create it in /proc/"),
        ("/sys/kernel/imu-out", "cannot create it in /sys/kernel/ (not permitted)"),
    ],
)
def test_out_that_cannot_be_created(  # issue case (also root: /proc, /sys)
    out: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/proc/self").exists() or not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux /proc and /sys")
    assert main(["analyze", str(small_csv(tmp_path / "x.csv")), "--out", out]) == 1
    assert words in one_error_line(capsys)


def test_out_below_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = small_csv(tmp_path / "x.csv")
    assert main(["analyze", str(f), "--out", str(f / "sub")]) == 1
    assert "a part of the path is a file, not a folder" in one_error_line(capsys)


def test_the_output_is_checked_before_the_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_analysis(*_a: object, **_k: object) -> None:
        raise AssertionError("the analysis ran before the output folder was checked")

    monkeypatch.setattr(imu.pipeline, "analyze", no_analysis)
    assert main(["analyze", str(DEMO), "--out", "/proc/imu-out"]) == 1
    assert "/proc" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["replay", str(DEMO), "--speed", "0", "--quiet", "--out", "/proc/imu-out"], "replay"),
        (["simulate", "--out", "/proc/imu/sim.csv"], "simulate"),
        (["record", "--simulate", "--quiet", "--out", "/proc/imu/rec.csv"], "record"),
        (
            [
                "record",
                "--simulate",
                "--quiet",
                "--out",
                "{tmp}/r.csv",
                "--analysis-dir",
                "/proc/a",
            ],
            "record",
        ),
    ],
)
def test_every_command_checks_its_output_first(
    argv: list[str], command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 1
    assert "/proc" in one_error_line(capsys, command)
    assert time.monotonic() - started < 5.0  # refused before simulating or recording anything
    assert not (tmp_path / "r.csv").exists()


# --- inputs --------------------------------------------------------------------------------


def run_without_root_powers(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``imu …`` in a subprocess that permission bits stop, even as root: ``setpriv`` drops the
    capabilities that let root read and write anything (skips where that is not possible)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permission bits do not apply")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "imu", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def test_recording_in_a_folder_that_cannot_be_read(tmp_path: Path) -> None:  # issue case
    locked = tmp_path / "locked"
    locked.mkdir()
    small_csv(locked / "x.csv")
    locked.chmod(0o000)
    try:
        done = run_without_root_powers(
            ["analyze", str(locked / "x.csv"), "--out", str(tmp_path / "o")], tmp_path
        )
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"imu analyze: error: {locked / 'x.csv'}: cannot be read (permission denied)"
    )


def test_out_in_a_read_only_folder(tmp_path: Path) -> None:  # issue case
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    csv = small_csv(tmp_path / "x.csv")
    try:
        done = run_without_root_powers(
            ["analyze", str(csv), "--out", str(folder / "out")], tmp_path
        )
        existing = run_without_root_powers(["analyze", str(csv), "--out", str(folder)], tmp_path)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"imu analyze: error: --out {folder / 'out'}: cannot create it in {folder}/ "
        "(permission denied)"
    )
    assert existing.stderr.strip() == (
        f"imu analyze: error: --out {folder}: cannot write there (permission denied)"
    )


@pytest.fixture
def pipe_path() -> Iterator[tuple[str, threading.Thread]]:
    """A pipe like ``<(gunzip -c demo.csv.gz)``: /proc/self/fd/N, fed by a thread."""
    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as fh:
            fh.write(gzip.decompress(gzip.compress(DEMO.read_bytes())))

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield f"/proc/self/fd/{r}", thread
    finally:
        thread.join(timeout=10)
        os.close(r)


def test_recording_given_as_a_pipe(pipe_path: tuple[str, threading.Thread], tmp_path: Path) -> None:
    path, _ = pipe_path  # issue case
    assert main(["analyze", path, "--out", str(tmp_path / "o"), "--no-plots", "-q"]) == 0
    from_pipe = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert main(["analyze", str(DEMO), "--out", str(tmp_path / "f"), "--no-plots", "-q"]) == 0
    from_file = json.loads((tmp_path / "f" / "summary.json").read_text(encoding="utf-8"))
    assert from_pipe["sets"] == from_file["sets"]
    assert from_pipe["recording"] == Path(path).name


def test_process_substitution_and_stdin_in_a_real_shell(tmp_path: Path) -> None:
    gz = tmp_path / "demo.csv.gz"
    gz.write_bytes(gzip.compress(DEMO.read_bytes()))
    imu_cmd = f"{sys.executable} -m imu"
    script = (
        f"{imu_cmd} analyze <(gunzip -c {gz}) --out {tmp_path}/a --no-plots -q && "
        f"gunzip -c {gz} | {imu_cmd} analyze - --out {tmp_path}/b --no-plots -q"
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    a = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert a["sets"] == b["sets"] and len(a["sets"]) == 3
    assert b["recording"] == "<stdin>"


def test_fifo_without_a_writer_returns_promptly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quick_streams: None
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert main(["analyze", str(fifo), "--out", str(tmp_path / "o")]) == 1
    assert time.monotonic() - started < 3.0
    assert one_error_line(capsys) == (
        f"imu analyze: error: {fifo}: no data within 0.5 s (is anything writing to it?)"
    )
    assert not (tmp_path / "o").exists()


def test_fifo_with_a_silent_writer_returns_promptly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quick_streams: None
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = threading.Event()

    def writer() -> None:
        with open(fifo, "wb") as fh:  # blocks until the reader opens; then sends a little
            fh.write(b"time_s,acc_x_g\n")
            fh.flush()
            done.wait(10)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        assert main(["analyze", str(fifo), "--out", str(tmp_path / "o")]) == 1
    finally:
        done.set()
        thread.join(5)
    assert time.monotonic() - started < 3.0
    assert "the stream stopped for 0.5 s after 15 bytes" in one_error_line(capsys)


def test_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    small = small_csv(tmp_path / "x.csv").read_bytes()

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(small)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    rec = read_recording(fifo)
    thread.join(5)
    assert len(rec) == 300 and rec.path == str(fifo)


def test_character_devices_are_refused_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["analyze", "/dev/zero", "--out", "/tmp/imu-never"]) == 1
    assert time.monotonic() - started < 2.0
    line = one_error_line(capsys)
    assert line == "imu analyze: error: /dev/zero: is a character device, not a recording CSV"


def test_stdin_that_is_not_a_pipe(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "imu", "analyze", "-", "--out", str(tmp_path / "o")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "imu analyze: error: <stdin>: standard input is not a file or a pipe; pipe a recording "
        "in (imu analyze - < x.csv)"
    )


def test_csv_field_longer_than_the_csv_modules_limit(  # issue case
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.csv"
    rows = [HEADER, "0,0,0,1,0,0,0", "0.01," + "1" * 200_000 + ",0,1,0,0,0", "0.02,0,0,1,0,0,0"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["analyze", str(path), "--out", str(tmp_path / "o")]) == 1
    assert one_error_line(capsys) == (
        f"imu analyze: error: {path}, line 3: a field longer than 131,072 characters "
        "(not a recording?)"
    )
    header = tmp_path / "header.csv"
    header.write_text(HEADER.replace("acc_x_g", "x" * 200_000) + "\n0,0,0,1,0,0,0\n")
    assert main(["analyze", str(header), "--out", str(tmp_path / "o")]) == 1
    assert f"{header}, line 1: a field longer than 131,072" in one_error_line(capsys)


def test_lines_and_files_are_capped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endless = tmp_path / "one_line.csv"
    endless.write_text("time_s," + "x" * (1 << 21), encoding="utf-8")
    assert main(["analyze", str(endless), "--out", str(tmp_path / "o")]) == 1
    assert "no sample rows within the first 1,024 KiB" in one_error_line(capsys)

    monkeypatch.setattr(imu.recording, "MAX_RECORDING_BYTES", 1000)
    big = small_csv(tmp_path / "big.csv")
    assert main(["analyze", str(big), "--out", str(tmp_path / "o")]) == 1
    assert "GB is more than the 0.00 GB a recording may hold" in one_error_line(capsys)
    r, w = os.pipe()
    thread = threading.Thread(target=lambda: os.write(w, big.read_bytes()[:1500]) and os.close(w))
    thread.start()
    with pytest.raises(imu.recording.RecordingError, match=r"more than the 0\.00 GB"):
        read_recording(f"/proc/self/fd/{r}")
    thread.join(5)
    os.close(r)


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_separator_problems_get_a_hint(
    sep: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "semi.csv"
    lines = small_csv(tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line.replace(",", sep) for line in lines) + "\n")
    assert main(["analyze", str(path), "--out", str(tmp_path / "o")]) == 1
    line = one_error_line(capsys)
    assert f"{path}, line 1: missing column(s) 'acc_x_g', 'acc_y_g', 'acc_z_g'" in line
    assert (
        f"the header looks separated by {name}, but a recording CSV separates its fields by "
        "commas" in line
    )


# --- the error path itself -------------------------------------------------------------------


def test_an_os_error_nobody_checked_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "out/summary.json")

    monkeypatch.setattr("imu.summary.write_outputs", full_disk)
    argv = ["analyze", str(small_csv(tmp_path / "x.csv")), "--out", str(tmp_path / "o"), "-q"]
    assert main(argv) == 1
    assert "no space left on the device" in one_error_line(capsys)
    assert not (tmp_path / "o").exists()  # the hidden folder was removed; nothing half-written


def test_an_internal_error_is_one_line_and_a_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def bug(*_a: object, **_k: object) -> None:
        return 1 / 0  # type: ignore[return-value]

    monkeypatch.setattr(imu.pipeline, "analyze", bug)
    argv = ["analyze", str(DEMO), "--out", str(tmp_path / "o")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(
        "imu analyze: internal error (ZeroDivisionError: division by zero); please report it — "
        f"traceback in {tmp_path / 'state'}"
    )
    assert lines[0].endswith("; --debug prints it")
    log = Path(lines[0].split("traceback in ")[1].split(";")[0])
    assert "Traceback" in log.read_text(encoding="utf-8") and "1 / 0" in log.read_text()

    for debug in (["--debug", *argv], [*argv, "--debug"]):
        assert main(debug) == 1
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--hip-offset-deg", "lots"]) == 2
    assert "invalid float value" in capsys.readouterr().err


# --- outputs that match ----------------------------------------------------------------------


def earlier_run(folder: Path) -> None:
    """A folder an earlier imu run made: three sets' charts, and a file of the user's."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"tool": "imu", "version": "0"}))
    (folder / "summary.json").write_text("{}")
    for k in (1, 2, 3):
        (folder / f"set_{k}_angle.png").write_bytes(b"old")
    (folder / "overview.svg").write_bytes(b"old")
    (folder / "my_notes.txt").write_text("mine")


def test_a_reused_folder_holds_only_the_new_runs_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    earlier_run(out)
    argv = ["analyze", str(small_csv(tmp_path / "x.csv")), "--out", str(out), "-q", "--no-plots"]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["my_notes.txt", "reps.csv", "run.json", "sets.csv", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["schema"] == "imu-summary/1"


def test_a_failed_run_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    earlier_run(out)
    before = sorted(p.name for p in out.iterdir())

    def charts_fail(*_a: object, **_k: object) -> list[Path]:
        raise OSError(errno.EIO, "Input/output error", str(out / "overview.png"))

    monkeypatch.setattr("imu.charts.write_charts", charts_fail)
    assert main(["analyze", str(small_csv(tmp_path / "x.csv")), "--out", str(out), "-q"]) == 1
    assert sorted(p.name for p in out.iterdir()) == before  # no hidden folder left either
    assert (out / "summary.json").read_text() == "{}"


def test_a_folder_imu_did_not_make_keeps_its_files(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "set_7_angle.png").write_bytes(b"a photo of mine")
    argv = ["analyze", str(small_csv(tmp_path / "x.csv")), "--out", str(out), "-q", "--no-plots"]
    assert main(argv) == 0
    assert (out / "set_7_angle.png").read_bytes() == b"a photo of mine"


def test_replay_into_a_used_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    earlier_run(out)
    csv = small_csv(tmp_path / "x.csv")
    assert (
        main(["replay", str(csv), "--speed", "0", "--quiet", "--no-plots", "--out", str(out)]) == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "events.jsonl",
        "my_notes.txt",
        "reps.csv",
        "run.json",
        "sets.csv",
        "summary.json",
    ]


def test_record_into_a_used_analysis_folder(tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    earlier_run(out)
    argv = ["record", "--simulate", "--speed", "0", "--quiet", "--seed", "5", "--no-plots"]
    argv += ["--max-duration-s", "5", "--out", str(tmp_path / "r.csv"), "--analysis-dir", str(out)]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "events.jsonl",
        "my_notes.txt",
        "reps.csv",
        "run.json",
        "sets.csv",
        "summary.json",
    ]


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "line"),
    [
        (["--hip-offset-deg", "1e9"], "--hip-offset-deg 1e+09: expected -45 to 45°"),
        (["--rest-threshold-s", "0"], "--rest-threshold-s 0: expected 2 to 600 s"),
        (["--leg-length-m", "9"], "--leg-length-m 9: expected 0.3 to 1.5 m"),
    ],
)
def test_settings_out_of_range_name_the_range(
    option: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(DEMO), "--out", "/tmp/imu-never", *option]) == 1
    assert one_error_line(capsys) == f"imu analyze: error: {line}"


def test_smoothing_cutoff_above_nyquist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "s.toml"
    config.write_text("smoothing_cutoff_hz = 40\n")
    csv = tmp_path / "x.csv"
    body = "".join(f"{i / 50:.2f},0.01,-0.02,0.99,0.5,-0.25,0.1\n" for i in range(300))
    csv.write_text(HEADER + "\n" + body)  # 50 Hz: Nyquist 25 Hz
    assert main(["analyze", str(csv), "--config", str(config), "--out", str(tmp_path / "o")]) == 1
    assert one_error_line(capsys) == (
        "imu analyze: error: smoothing_cutoff_hz 40: must be below the Nyquist rate, 25 Hz for "
        "data sampled at 50 Hz"
    )


def test_hip_line_segment_taken_while_the_legs_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the demo session starts standing: the legs hang, θ ≈ −90°
    argv = ["analyze", str(DEMO), "--out", str(tmp_path / "o"), "--hip-line-segment", "1-4"]
    assert main(argv) == 1
    line = one_error_line(capsys)
    assert line.startswith(
        "imu analyze: error: the hip-line segment 1–4 s (--hip-line-segment): the legs were at -"
    )
    assert "from horizontal there, not in line with the body (a hip line is within ±45°)" in line


def test_a_clipped_gyro_is_noted_and_its_reps_flagged(tmp_path: Path) -> None:
    rec = read_recording(DEMO)
    clipped = type(rec)(rec.time_s, rec.acc_g, np.clip(rec.gyro_dps, -125.0, 125.0), rec.metadata)
    result = imu.pipeline.analyze_recording(clipped, imu.pipeline.load_settings())
    notes = [n for n in result.notes if n.startswith("sensor:")]
    assert any("saturated at +125 °/s" in n or "saturated at -125 °/s" in n for n in notes), notes
    flagged = [r for s in result.sets for r in s.reps if "clipped" in r.flag_names]
    assert flagged
    evidence = next(f.evidence for f in flagged[0].flags if f.name == "clipped")
    assert "saturated at" in evidence and "s of the rep" in evidence
    plain = imu.pipeline.analyze_recording(rec, imu.pipeline.load_settings())
    assert not any(n.startswith("sensor:") for n in plain.notes)
    assert not any("clipped" in r.flag_names for s in plain.sets for r in s.reps)


def test_an_os_error_naming_no_path_says_how_to_see_where() -> None:
    from imu.errors import os_error_line

    named = FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/y.csv")
    assert os_error_line(named) == "/x/y.csv: no such file or folder"
    bare = FileNotFoundError(errno.ENOENT, "No such file or directory")  # os.getcwd(), say
    assert os_error_line(bare) == (
        "no such file or folder (the system named no path; --debug shows where)"
    )
