"""Analyse recordings into output folders: one file (:func:`analyze_to_folder`) or many in
parallel across the machine's cores (:func:`analyze_many`), a bad file failing alone.

Both paths do the same per file: analyse, write the outputs, register the session in the history,
and (if asked) write the HTML report. Workers are separate processes (``forkserver``, with the
pipeline preloaded), so each file's analysis runs on its own core.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from imu.errors import ImuError
from imu.outputs import OutputDir, check_output_dir

if TYPE_CHECKING:
    from imu.results import SessionResult
    from imu.settings import Settings

__all__ = [
    "FileOutcome",
    "OutputOptions",
    "analyze_many",
    "analyze_to_folder",
    "collect_recordings",
    "output_folders",
]


@dataclass(frozen=True)
class OutputOptions:
    """What to write for each analysed recording."""

    plots: bool = True
    plot_format: str = "png"
    report: bool = False  #: also ``report.html``
    history: bool = True  #: register the session in the history database
    db: str | None = None  #: history database (None: the default)
    argv: tuple[str, ...] | None = None  #: the command line, for ``run.json``
    #: corrections: the labels file to apply (``labels_file``), else the recording's own
    #: ``FILE.labels.json`` when ``labels_beside`` and it is there (:mod:`imu.corrections`)
    labels_file: str | None = None
    labels_beside: bool = False


@dataclass(frozen=True)
class FileOutcome:
    """One recording's result in a batch: a short row, or the one-line error."""

    path: str
    out_dir: str
    error: str | None = None
    exercise: str = ""
    sets: int = 0
    reps: int = 0
    flagged_reps: int = 0
    duration_s: float = 0.0
    session_id: int | None = None
    seconds: float = 0.0  #: wall time of this file's analysis and outputs
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.error is None


def analyze_to_folder(
    path: Path,
    out: OutputDir | Path,
    settings: Settings,
    options: OutputOptions,
    *,
    progress: Callable[[str], None] | None = None,
    keep: tuple[str, ...] = (),
) -> tuple[SessionResult, list[Path], int | None]:
    """Analyse one recording into the folder ``out``: outputs, history, report. The outputs are
    written into a staging folder and moved in at once (:meth:`OutputDir.writing`; ``keep``: files
    this run already wrote there, e.g. ``events.jsonl``). Raises ImuError."""
    from imu.pipeline import analyze
    from imu.recording import read_recording
    from imu.summary import file_sha256, write_outputs

    folder = out if isinstance(out, OutputDir) else check_output_dir(out)
    say = progress or (lambda _stage: None)
    say("reading the recording")
    recording = read_recording(path)  # a stream is read once, and hashed as it is read
    labels = labels_for(path, options)
    result = analyze(recording, settings=settings, progress=say, labels=labels)
    if options.plots:
        say("drawing the charts")
    sha256 = recording.sha256 if recording.sha256 is not None else file_sha256(path)
    with folder.writing(keep=keep) as stage:
        staged = write_outputs(
            result,
            stage,
            source_path=str(path),
            argv=options.argv,
            plots=options.plots,
            plot_format=options.plot_format,
            sha256=sha256,
            labels_path=None if labels is None else str(labels),
        )
        session_id = None
        if options.history:
            from imu.history import register

            say("registering the session")
            session_id, _new = register(result, path, db=options.db, sha256=sha256)
        if options.report:
            from imu.report import write_report

            say("writing the report")
            staged.append(
                write_report(
                    result,
                    stage / "report.html",
                    history=options.history,
                    db=options.db,
                    session_id=session_id,
                )
            )
    written = [folder.path / p.name for p in staged]
    return result, written, session_id


def labels_for(path: Path, options: OutputOptions) -> Path | None:
    """The labels file to apply to the recording ``path`` (None: none)."""
    if options.labels_file is not None:
        return Path(options.labels_file)
    if not options.labels_beside or str(path) == "-":
        return None
    from imu.corrections import labels_path_for

    beside = labels_path_for(path)
    return beside if beside.is_file() else None


def collect_recordings(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The recordings named: files as given, folders by their ``*.csv`` files (sorted)."""
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.glob("*.csv") if q.is_file())
            if not found:
                raise ImuError(f"{p}: no recording CSV files in this folder")
            paths.extend(found)
        else:
            paths.append(p)  # a missing file fails alone, with its own line
    return paths


def output_folders(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """``out_dir/<file stem>`` for each recording; a repeated stem gets ``_2``, ``_3`` …"""
    seen: dict[str, int] = {}
    folders = []
    for p in paths:
        stem = p.stem
        seen[stem] = seen.get(stem, 0) + 1
        folders.append(out_dir / (stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"))
    return folders


def _one(path: Path, out_dir: Path, settings: Settings, options: OutputOptions) -> FileOutcome:
    t0 = time.perf_counter()
    try:
        result, _written, session_id = analyze_to_folder(path, out_dir, settings, options)
    except ImuError as exc:
        return FileOutcome(
            str(path), str(out_dir), error=str(exc), seconds=time.perf_counter() - t0
        )
    except Exception as exc:  # a bug must not take the other files down with it
        problem = f"{path}: internal error ({type(exc).__name__}: {exc})"
        return FileOutcome(str(path), str(out_dir), error=problem, seconds=time.perf_counter() - t0)
    trace = result.trace.time_s
    return FileOutcome(
        path=str(path),
        out_dir=str(out_dir),
        exercise=result.exercise,
        sets=len(result.sets),
        reps=result.rep_count,
        flagged_reps=sum(bool(r.flags) for s in result.sets for r in s.reps),
        duration_s=float(trace[-1] - trace[0]) if trace.size else 0.0,
        session_id=session_id,
        seconds=time.perf_counter() - t0,
        notes=result.notes,
    )


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def analyze_many(
    paths: Sequence[Path],
    out_dir: Path,
    settings: Settings,
    options: OutputOptions,
    *,
    jobs: int | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Analyse ``paths`` into ``out_dir/<stem>/`` with ``jobs`` processes (default: the cores).

    Returns one outcome per path, in the order given; ``on_done`` is called as each finishes.
    """
    folders = output_folders(paths, out_dir)
    workers = min(jobs or default_jobs(), len(paths))
    options = _with_history_db_resolved(options)
    done: dict[int, FileOutcome] = {}

    def finished(k: int, outcome: FileOutcome) -> None:
        done[k] = outcome
        if on_done is not None:
            on_done(outcome)

    if workers > 1 and not _current_folder_exists():
        workers = 1  # a worker process starts in the current folder: without one, all run here
    if workers <= 1:
        for k, (p, folder) in enumerate(zip(paths, folders, strict=True)):
            finished(k, _one(p, folder, settings, options))
    else:
        _analyze_in_pool(paths, folders, settings, options, workers=workers, finished=finished)
    return [done[k] for k in range(len(paths))]


def _current_folder_exists() -> bool:
    """Is there a current folder (not deleted from under the shell that started imu)?"""
    try:
        os.getcwd()
    except OSError:
        return False
    return True


def _with_history_db_resolved(options: OutputOptions) -> OutputOptions:
    """``options`` with the default history database filled in when history is on and none is
    given: resolved here, as the workers' environment is the fork server's, which may be older."""
    if options.history and options.db is None:
        from imu.history import default_db_path

        return dataclasses.replace(options, db=str(default_db_path()))
    return options


def _start_forkserver() -> None:
    """Start the fork server the workers are forked from, with the current folder off its path.

    Python (3.11 to 3.13 at least) starts it as ``python -c …`` and imports the preloaded modules
    before any worker applies this process's ``sys.path``: the current folder comes first there,
    and a folder in it named ``imu`` (recordings kept in ``./imu/``, or the clone itself) would be
    imported as an empty namespace package in place of imu, breaking every worker.
    ``PYTHONSAFEPATH`` keeps the current folder off the server's path; it is set in this process
    only while the server starts (the server and its workers keep it; nothing they run starts
    Python). A server already running is reused as it is."""
    import multiprocessing.forkserver

    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = saved


def _analyze_in_pool(
    paths: Sequence[Path],
    folders: Sequence[Path],
    settings: Settings,
    options: OutputOptions,
    *,
    workers: int,
    finished: Callable[[int, FileOutcome], None],
) -> None:
    """Analyse ``paths`` into ``folders`` with ``workers`` processes, calling ``finished`` with
    each file's index and outcome as it finishes."""
    # only for several files (their import costs a single file's analysis 20-50 ms)
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["imu.pipeline", "imu.summary"])
    _start_forkserver()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[FileOutcome], int] = {}
        queue: Iterator[int] = iter(range(len(paths)))
        # keep each worker busy with one file at a time: outcomes arrive as files finish
        for k in queue:
            pending[pool.submit(_one, paths[k], folders[k], settings, options)] = k
            if len(pending) >= workers * 2:
                break
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                k = pending.pop(future)
                finished(k, future.result())
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(_one, paths[nxt], folders[nxt], settings, options)] = nxt
