"""Reading a phone app's export from disk: containers, format detection, the recording.

A path is a zip file, a folder (an unzipped export) or a single file (CSV or JSON). What each
file is comes from its **content**: a zip by its magic bytes, JSON by its first character, a
Sensor Logger CSV by its ``time,seconds_elapsed,…`` header, a phyphox CSV by its quoted header
and its dialect by the characters it uses. Which sensor a Sensor Logger CSV holds is the one fact
the app writes only in the file's name (``Gyroscope.csv``); a renamed file is recognised from
its values where they say it (gravity: a constant 1 g; with gravity: about 1 g on median).
Files the import does not need (location, audio, …) are skipped and listed.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from imu.errors import PhoneExportError
from imu.phone import phyphox, sensorlogger
from imu.phone.streams import Convention, MergeStats, PhoneStream, StreamKind, assemble
from imu.recording import GRAVITY_MPS2, Recording

__all__ = ["ImportedExport", "is_phone_export", "load_phone_export"]

_ZIP_MAGIC = b"PK\x03\x04"
#: an export larger than this (uncompressed, per file) is refused rather than read, bytes
_MAX_ENTRY_BYTES = 2 << 30


@dataclass(frozen=True)
class _Entry:
    name: str  #: path inside the container (``meta/time.csv``), or the file name
    label: str  #: for messages: ``export.zip:Gyroscope.csv``
    data: bytes


@dataclass
class ImportedExport:
    """A phone export turned into a recording, and what was done to get there."""

    recording: Recording
    app: str  #: ``Sensor Logger`` or ``phyphox``
    merge: MergeStats
    formats: list[str] = field(default_factory=list)  #: what each used file was
    skipped: list[str] = field(default_factory=list)  #: files or sensors not needed


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_container(path: Path) -> tuple[list[_Entry], list[tuple[str, str]]]:
    """The files of a path and the SHA-256 of each original file read."""
    if not path.exists():
        raise PhoneExportError(f"{path}: no such file or folder")
    if path.is_dir():
        return _read_folder(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PhoneExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise PhoneExportError(f"{path}: the file is empty")
    if not data.startswith(_ZIP_MAGIC):
        return [_Entry(path.name, path.name, data)], [(str(path), _sha256(data))]
    return _read_zip(path), [(str(path), _sha256(data))]


def _read_folder(path: Path) -> tuple[list[_Entry], list[tuple[str, str]]]:
    """The files of an unzipped export (no macOS resource forks, hidden files or files too
    large to import) and the SHA-256 of each."""
    entries: list[_Entry] = []
    hashes: list[tuple[str, str]] = []
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.startswith(("__MACOSX/", ".")) or f.stat().st_size > _MAX_ENTRY_BYTES:
            continue
        data = f.read_bytes()
        entries.append(_Entry(rel, f"{path.name}/{rel}", data))
        hashes.append((str(f), _sha256(data)))
    if not entries:
        raise PhoneExportError(f"{path}: the folder holds no files")
    return entries, hashes


def _read_zip(path: Path) -> list[_Entry]:
    """The files of a zipped export (no folders or macOS resource forks); one too large to
    import is refused."""
    try:
        with zipfile.ZipFile(path) as zf:
            entries = []
            for info in zf.infolist():
                if info.is_dir() or info.filename.startswith("__MACOSX/"):
                    continue
                if info.file_size > _MAX_ENTRY_BYTES:
                    raise PhoneExportError(f"{path}:{info.filename}: too large to import")
                entries.append(_Entry(info.filename, f"{path.name}:{info.filename}", zf.read(info)))
    except (zipfile.BadZipFile, OSError) as exc:
        raise PhoneExportError(f"{path}: a damaged zip file ({exc})") from None
    return entries


def _text(entry: _Entry) -> str | None:
    try:
        return entry.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header(text: str) -> list[str]:
    line = text.split("\n", 1)[0].rstrip("\r")
    return [c.strip().strip('"') for c in line.split(",")]


def _guess_kind(stream: PhoneStream) -> StreamKind | None:
    """A Sensor Logger stream whose file name is not a sensor's: gravity reads a constant 1 g,
    total acceleration about 1 g on median; anything else cannot be told apart."""
    norm = np.linalg.norm(stream.xyz, axis=1)
    norm = norm[np.isfinite(norm)]
    if norm.size < 10:
        return None
    med = float(np.median(norm))
    if 0.8 * GRAVITY_MPS2 < med < 1.2 * GRAVITY_MPS2:
        spread = float(np.percentile(norm, 95) - np.percentile(norm, 5))
        return "gravity" if spread < 0.02 * GRAVITY_MPS2 else "acc_total"
    return None


def _check_values(stream: PhoneStream) -> None:
    """Refuse units that are obviously not the app's (g instead of m/s², a gyro that reads
    gravity)."""
    norm = np.linalg.norm(stream.xyz, axis=1)
    norm = norm[np.isfinite(norm)]
    if norm.size < 10:
        return
    med = float(np.median(norm))
    if stream.kind in ("acc_total", "gravity") and not 3.0 < med < 30.0:
        unit = "g, not m/s²" if 0.3 < med < 3.0 else "neither m/s² nor g"
        raise PhoneExportError(
            f"{stream.source}: reads {med:.3g} on median, which looks like {unit} "
            "(expected about 9.8 m/s² with gravity)"
        )
    if stream.kind == "gyro":
        spread = float(np.percentile(norm, 95) - np.percentile(norm, 5))
        if 6.0 < med < 14.0 and spread < 1.0:
            raise PhoneExportError(
                f"{stream.source}: reads a steady {med:.3g} like an accelerometer, not a "
                "gyroscope in rad/s"
            )


@dataclass
class _Found:
    app: set[str] = field(default_factory=set)
    streams: list[PhoneStream] = field(default_factory=list)
    sl_meta: dict[str, str] = field(default_factory=dict)
    device: dict[str, str] = field(default_factory=dict)
    formats: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class _PhyphoxParts:
    """The phyphox files of one path, read once all are seen: the datasets take their epoch
    from the time reference."""

    time_events: list[phyphox.TimeEvent] = field(default_factory=list)
    datasets: list[tuple[_Entry, str]] = field(default_factory=list)


def _read_path(path: Path, found: _Found) -> list[tuple[str, str]]:
    """Add what ``path`` holds to ``found``; return the SHA-256 of each original file."""
    entries, hashes = _read_container(path)
    parts = _PhyphoxParts()
    for entry in entries:
        text = _text(entry)
        if text is None:
            found.skipped.append(f"{entry.label} (not text)")
            continue
        stripped = text.lstrip()
        if stripped.startswith("["):
            _add_json_export(entry, text, found)
        elif stripped.startswith("{"):
            _add_push_batch(entry, text, found)
        elif (sniffed := phyphox.sniff(text)) is not None:
            _add_phyphox_file(entry, text, sniffed[1], found, parts)
        else:
            _add_sensorlogger_csv(entry, text, found)
    epoch = phyphox.epoch_mapping(parts.time_events)
    clock = f"phyphox:{path}"
    for entry, text in parts.datasets:
        streams, dialect = phyphox.parse_dataset(text, source=entry.label, clock=clock, epoch=epoch)
        found.app.add("phyphox")
        found.streams.extend(streams)
        kinds = ", ".join(s.kind for s in streams)
        found.formats.append(f"{entry.label}: phyphox CSV, {dialect.describe()} ({kinds})")
    return hashes


def _add_json_export(entry: _Entry, text: str, found: _Found) -> None:
    """A Sensor Logger JSON export: its streams, metadata and the sensors it skips."""
    records = sensorlogger.loads_json(text, source=entry.label)
    streams, meta, skipped = sensorlogger.parse_json_export(records, source=entry.label)
    found.app.add("Sensor Logger")
    found.streams.extend(streams)
    found.sl_meta.update(meta)
    found.skipped.extend(f"{entry.label} ({s})" for s in skipped)
    found.formats.append(f"{entry.label}: Sensor Logger JSON export")


def _add_push_batch(entry: _Entry, text: str, found: _Found) -> None:
    """A saved Sensor Logger HTTP push batch: a stream per sensor in it."""
    body = sensorlogger.loads_json(text, source=entry.label)
    try:
        _, _, batch, _ = sensorlogger.push_records(body)
    except ValueError as exc:
        raise PhoneExportError(f"{entry.label}: {exc}") from None
    found.app.add("Sensor Logger")
    for batch_kind, (t_ns, xyz) in batch.items():
        label = f"{entry.label} ({batch_kind})"
        found.streams.append(sensorlogger.stream_from_ns(batch_kind, t_ns, xyz, label))
    found.formats.append(f"{entry.label}: Sensor Logger HTTP push batch")


def _add_phyphox_file(
    entry: _Entry, text: str, names: list[str], found: _Found, parts: _PhyphoxParts
) -> None:
    """A phyphox CSV with the columns ``names``: its time reference, its device metadata, or a
    dataset (kept in ``parts`` until the time reference is known)."""
    if phyphox.is_time_header(names):
        parts.time_events = phyphox.parse_time(text, source=entry.label)
        found.formats.append(f"{entry.label}: phyphox time reference")
    elif phyphox.is_device_header(names):
        found.device.update(phyphox.parse_device(text, source=entry.label))
        found.formats.append(f"{entry.label}: phyphox device metadata")
    elif phyphox.is_dataset(names):
        parts.datasets.append((entry, text))
    else:
        found.skipped.append(f"{entry.label} (a phyphox set without motion sensors)")


def _add_sensorlogger_csv(entry: _Entry, text: str, found: _Found) -> None:
    """A Sensor Logger CSV: its metadata, or a sensor's stream (which sensor from the file's
    name, else from its values); anything else is skipped."""
    header = _header(text)
    if sensorlogger.is_metadata_header(header):
        found.sl_meta.update(sensorlogger.parse_metadata(text, source=entry.label))
        found.app.add("Sensor Logger")
        found.formats.append(f"{entry.label}: Sensor Logger metadata")
    elif sensorlogger.is_sensor_header(header):
        stream = _sensor_stream(entry, text)
        if stream is None:
            found.skipped.append(f"{entry.label} (not a sensor imu uses)")
            return
        found.app.add("Sensor Logger")
        found.streams.append(stream)
        found.formats.append(f"{entry.label}: Sensor Logger CSV ({stream.kind})")
    else:
        found.skipped.append(f"{entry.label} (not a recognised export file)")


def _sensor_stream(entry: _Entry, text: str) -> PhoneStream | None:
    """A Sensor Logger sensor CSV's stream, of the sensor its file is named after, else the
    one its values say (:func:`_guess_kind`); ``None`` when they do not say."""
    stem = PurePosixPath(entry.name).stem.strip().lower()
    named = sensorlogger.KINDS.get(stem)
    stream = sensorlogger.parse_sensor_csv(text, kind=named or "gyro", source=entry.label)
    if named is not None:
        return stream
    guessed = _guess_kind(stream)
    if guessed is None:
        return None
    return PhoneStream(
        guessed,
        stream.time_s,
        stream.xyz,
        stream.source,
        stream.epoch_s,
        stream.clock,
    )


def is_phone_export(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a zip, a folder or a JSON file, or a CSV whose header is
    Sensor Logger's or phyphox's (not a contract recording)."""
    p = Path(path)
    try:
        if p.is_dir():
            # an unzipped export: phone files in it, and no recording CSV (a folder of those)
            files = [f for f in sorted(p.iterdir()) if f.is_file()][:50]
            heads = [_head(f) for f in files]
            return any(_is_phone_head(h) for h in heads) and not any(
                "time_s" in _header(h.decode("utf-8", "replace")) for h in heads
            )
        if not p.is_file():  # a pipe, a device, stdin ("-"), nothing: never opened here
            return False
    except OSError:
        return False
    head = _head(p)
    if head.startswith(_ZIP_MAGIC):
        return True
    return _is_phone_head(head)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError:
        return b""


def _is_phone_head(head: bytes) -> bool:
    """Does a file starting with ``head`` look like a phone app's (JSON, a phyphox or Sensor
    Logger CSV header)?"""
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith(("[", "{")):  # Sensor Logger's JSON export, or a saved push batch
        return '"sensor"' in text or '"payload"' in text
    if phyphox.sniff(text) is not None:
        return True
    header = _header(text)
    return sensorlogger.is_sensor_header(header) or sensorlogger.is_metadata_header(header)


def load_phone_export(paths: Sequence[str | os.PathLike[str]]) -> ImportedExport:
    """Read one phone recording from one or more paths (an export, or its parts: e.g. two
    phyphox experiments) into a contract recording. Raises :class:`PhoneExportError`."""
    if not paths:
        raise PhoneExportError("no export given")
    found = _Found()
    hashes: list[tuple[str, str]] = []
    for raw in paths:
        hashes.extend(_read_path(Path(raw), found))
    if not found.app:
        raise PhoneExportError(
            f"{', '.join(str(p) for p in paths)}: no Sensor Logger or phyphox data found "
            "(expected a Sensor Logger export — zip, folder, JSON or its CSVs — or a phyphox "
            "export — zip or CSV)"
        )
    if len(found.app) > 1:
        raise PhoneExportError("the paths mix Sensor Logger and phyphox data; give one recording")
    app = found.app.pop()
    for stream in found.streams:
        _check_values(stream)
    convention, app_meta = _APP_METADATA[app](found)
    meta: dict[str, str] = {"source_app": app, **app_meta}
    for k, (name, digest) in enumerate(hashes):
        meta[f"source_file_{k + 1}"] = f"{name} sha256:{digest}"
    recording, stats = assemble(found.streams, convention=convention, metadata=meta)
    recording = Recording(
        recording.time_s,
        recording.acc_g,
        recording.gyro_dps,
        recording.metadata,
        None,
        str(paths[0]),
    )
    return ImportedExport(recording, app, stats, found.formats, found.skipped)


def _sensorlogger_metadata(found: _Found) -> tuple[Convention, dict[str, str]]:
    """A Sensor Logger recording's axis convention and metadata: platform, device, app version,
    standardisation."""
    sl = found.sl_meta
    convention = sensorlogger.convention_for(sl)
    meta = {"platform": sl.get("platform", "unknown")}
    if sl.get("device name"):
        meta["device"] = sl["device name"]
    if sl.get("appversion"):
        meta["app_version"] = sl["appversion"]
    if sl.get("standardisation"):
        meta["standardisation"] = sl["standardisation"]
    return convention, meta


def _phyphox_metadata(found: _Found) -> tuple[Convention, dict[str, str]]:
    """A phyphox recording's axis convention and metadata: platform, device, app version."""
    dev = found.device
    convention = phyphox.convention_for(dev)
    brand = dev.get("deviceBrand", "")
    meta = {"platform": "ios" if brand.lower() == "apple" else ("android" if dev else "unknown")}
    model = " ".join(v for v in (dev.get("deviceManufacturer"), dev.get("deviceModel")) if v)
    if model:
        meta["device"] = model
    if dev.get("version"):
        meta["app_version"] = dev["version"]
    return convention, meta


#: each app's metadata, by the name :class:`ImportedExport` gives it
_APP_METADATA: dict[str, Callable[[_Found], tuple[Convention, dict[str, str]]]] = {
    "Sensor Logger": _sensorlogger_metadata,
    "phyphox": _phyphox_metadata,
}
