"""Stage 4 — per-set summaries and the files of an analysis.

``summary_for_set`` turns a set's reps into a :class:`~imu.results.SetResult` (tempo string,
median and spread of each phase, time under tension, flag counts, fatigue cues, tempo
adherence). ``write_outputs`` writes ``summary.json`` (contracts §2), ``reps.csv``, ``sets.csv``
and ``run.json`` — how the folder was made: version, arguments, settings, input file hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from imu.results import PHASES, PhaseStats, RepResult, SessionResult, SetResult
from imu.settings import Tempo

__all__ = [
    "file_sha256",
    "judge_tempo",
    "summary_for_set",
    "tempo_errors",
    "tempo_string",
    "write_outputs",
]

#: reps at each end of a set compared for the fatigue cues
_FATIGUE_REPS = 3


def tempo_string(reps: Sequence[RepResult]) -> str:
    """Median eccentric-bottom-concentric-top in whole seconds, e.g. ``3-0-2-1``, over the reps
    whose phases are measured."""
    reps = [r for r in reps if r.measured]
    if not reps:
        return ""
    pauses = [r.bottom_pause_s for r in reps if r.bottom_pause_s is not None]
    values = (
        float(np.median([r.eccentric_s for r in reps])),
        float(np.median(pauses)) if pauses else 0.0,
        float(np.median([r.concentric_s for r in reps])),
        float(np.median([r.top_hold_s for r in reps])),
    )
    return "-".join(str(math.floor(v + 0.5)) for v in values)


def tempo_errors(rep: RepResult, target: Tempo) -> dict[str, float]:
    """Actual minus target for each phase, s (bottom pause only where there is one)."""
    errors = {
        "eccentric_s": rep.eccentric_s - target.eccentric_s,
        "concentric_s": rep.concentric_s - target.concentric_s,
        "top_hold_s": rep.top_hold_s - target.top_hold_s,
    }
    if rep.bottom_pause_s is not None:
        errors["bottom_pause_s"] = rep.bottom_pause_s - target.bottom_pause_s
    return errors


def judge_tempo(rep: RepResult, target: Tempo, tolerance_s: float) -> RepResult:
    """``rep`` with its :func:`tempo_errors` and whether it is on tempo: every phase within
    ``tolerance_s`` of its target."""
    errors = tempo_errors(rep, target)
    on_tempo = all(abs(e) <= tolerance_s for e in errors.values())
    return dataclasses.replace(rep, tempo_error_s=errors, on_tempo=on_tempo)


def _mean_ends(values: Sequence[float]) -> tuple[float, float]:
    k = max(1, min(_FATIGUE_REPS, len(values) // 3))
    return float(np.mean(values[:k])), float(np.mean(values[-k:]))


def summary_for_set(index: int, reps: Sequence[RepResult]) -> SetResult:
    """Summarise one set's reps (already flagged and tempo-checked); the phase figures are over
    the reps whose phases are measured (all but reps added by a label where nothing moved)."""
    measured = [r for r in reps if r.measured]
    stats = {phase: PhaseStats.of([getattr(r, phase) for r in measured]) for phase in PHASES}
    tut = float(sum(r.concentric_s + r.top_hold_s + r.eccentric_s for r in measured))
    counts = Counter(name for r in reps for name in r.flag_names)
    if measured:
        v_first, v_last = _mean_ends([r.peak_velocity_dps for r in measured])
        rom_first, rom_last = _mean_ends([r.rom_deg for r in measured])
    else:
        v_first = v_last = rom_first = rom_last = math.nan
    velocity_loss = 100.0 * (v_first - v_last) / v_first if v_first > 0 else math.nan
    judged = [r.on_tempo for r in reps if r.on_tempo is not None]
    adherence = 100.0 * sum(judged) / len(judged) if judged else None
    return SetResult(
        index=index,
        start_s=reps[0].start_s,
        end_s=reps[-1].end_s,
        reps=tuple(reps),
        tempo=tempo_string(reps),
        phase_stats=stats,
        time_under_tension_s=tut,
        flag_counts=dict(sorted(counts.items())),
        velocity_loss_pct=velocity_loss,
        rom_loss_deg=rom_first - rom_last,
        tempo_adherence_pct=adherence,
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_record(
    result: SessionResult,
    *,
    source_path: str | None,
    argv: Sequence[str] | None,
    sha256: str | None = None,
    labels_path: str | None = None,
) -> dict[str, Any]:
    """How an output folder was made (stepcount's Info.json habit); ``labels_path``: the labels
    file applied (:mod:`imu.corrections`), recorded with its hash."""
    from imu import __version__

    has_file = bool(source_path) and Path(str(source_path)).is_file()
    return {
        "tool": "imu",
        "version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arguments": list(argv) if argv is not None else None,
        "input": {
            "path": source_path,
            "sha256": sha256 or (file_sha256(str(source_path)) if has_file else None),
        },
        "labels": (
            None
            if labels_path is None
            else {"path": labels_path, "sha256": file_sha256(labels_path)}
        ),
        "settings": result.settings.to_dict(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _dumps(payload: Any, indent: str = "") -> str:
    """JSON with the structure indented but each rep (a dict inside a list) on one line.

    Readable, and fast: compact dumps use the C encoder, ``indent=`` would not.
    """
    inner = indent + "  "
    if isinstance(payload, dict) and payload:
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, inner)}" for k, v in payload.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        one_line = all("reps" not in item for item in payload)
        parts = [
            inner + (json.dumps(item, allow_nan=False) if one_line else _dumps(item, inner))
            for item in payload
        ]
        return "[\n" + ",\n".join(parts) + "\n" + indent + "]"
    return json.dumps(payload, allow_nan=False)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(_dumps(payload) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(
    result: SessionResult,
    out_dir: str | os.PathLike[str],
    *,
    source_path: str | None = None,
    argv: Sequence[str] | None = None,
    plots: bool = True,
    plot_format: str = "png",
    sha256: str | None = None,
    labels_path: str | None = None,
) -> list[Path]:
    """Write summary.json, reps.csv, sets.csv, run.json and (unless ``plots=False``) charts.

    ``sha256`` is the input file's hash when the caller has it already (else it is computed);
    ``labels_path`` the labels file applied, for ``run.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    summary = out / "summary.json"
    _write_json(summary, result.to_dict())
    written.append(summary)
    reps_csv = out / "reps.csv"
    result.to_frame().to_csv(reps_csv, float_format="%.3f")
    written.append(reps_csv)
    sets_csv = out / "sets.csv"
    result.sets_frame().to_csv(sets_csv, float_format="%.3f")
    written.append(sets_csv)
    run = out / "run.json"
    _write_json(
        run,
        run_record(
            result, source_path=source_path, argv=argv, sha256=sha256, labels_path=labels_path
        ),
    )
    written.append(run)
    if plots:
        from imu.charts import write_charts

        written.extend(write_charts(result, out, fmt=plot_format))
    return written
