"""Shared pytest fixtures.

BLE: ``bluez_bus`` (a private dbus-daemon, ``DBUS_SYSTEM_BUS_ADDRESS`` pointed at it) and
``fake_bluez`` (a fake org.bluez with virtual sensors) — see ``tests/fakebluez``.

History: every test gets its own ``IMU_DB`` (autouse), so nothing reaches the user's database.

Files: ``repo_root``; ``shared_dir`` (``<repo>/../shared``: contracts and the real labelled
datasets; the test skips, saying so, where it is absent) and ``pte_dir`` (its PTE recordings);
``tiny_csv_text`` / ``tiny_csv`` (a small hand-made contract CSV) and ``write_csv`` (write text to
a file in the test's own folder).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakebluez.fixtures import bluez_bus, fake_bluez

__all__ = [
    "bluez_bus",
    "fake_bluez",
    "pte_dir",
    "repo_root",
    "shared_dir",
    "tiny_csv",
    "tiny_csv_text",
    "write_csv",
]

REPO_ROOT = Path(__file__).resolve().parents[1]

#: the header of the hand-made recording (an extra ``seq`` column at the end)
TINY_HEADER = "time_s,acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps,seq"
#: its metadata: a known key, the usual ones and one nobody knows (kept, ignored)
TINY_METADATA = {
    "sample_rate_hz": "100",
    "sensor": "hand-made",
    "leg": "left",
    "exercise": "reverse-hyper",
    "started_at": "2026-11-21T10:00:00+00:00",
    "strap_colour": "blue",
}
TINY_ROWS = 50


def tiny_row(i: int) -> str:
    """Row ``i`` of the hand-made recording: a still sensor, 100 Hz, values exact in 5 decimals."""
    return f"{i / 100:.2f},0.01,-0.02,0.99,0.5,-0.25,{0.125 + i / 1000:.3f},{i}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``<repo>/../shared`` (``/work/shared`` here); skip with a clear message if absent."""
    path = REPO_ROOT.parent / "shared"
    if not path.is_dir():
        pytest.skip(f"shared folder {path} not found (contracts and real datasets live there)")
    return path


@pytest.fixture(scope="session")
def pte_dir(shared_dir: Path) -> Path:
    """The PTE recordings (real, labelled, SI columns, 25 Hz) in ``shared/datasets/pte``."""
    path = shared_dir / "datasets" / "pte"
    if not path.is_dir() or not any(path.glob("*.csv")):
        pytest.skip(f"the PTE dataset {path} is not there")
    return path


@pytest.fixture
def tiny_csv_text() -> str:
    """A hand-made recording: 6 metadata lines, a header (with ``seq``), 50 still samples."""
    meta = "".join(f"# {k}: {v}\n" for k, v in TINY_METADATA.items())
    return meta + TINY_HEADER + "\n" + "".join(tiny_row(i) + "\n" for i in range(TINY_ROWS))


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_csv(name, text)`` writes UTF-8 text (no newline translation) into ``tmp_path``."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        return path

    return write


@pytest.fixture
def tiny_csv(write_csv: Callable[[str, str], Path], tiny_csv_text: str) -> Path:
    return write_csv("tiny.csv", tiny_csv_text)


@pytest.fixture(autouse=True)
def _history_db(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's sessions go to its own history database (``IMU_DB``), never the user's;
    subprocesses inherit it through the environment."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("IMU_DB", str(path))
    return path
