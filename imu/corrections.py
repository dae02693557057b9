"""Corrections by hand: the labels file beside a recording (``FILE.labels.json``).

A person who watched the session (or its charts) knows better than the detector where it went
wrong. The labels file says so, and :func:`imu.pipeline.analyze` applies it::

    {
      "schema": "imu-labels/1",
      "corrections": [
        {"op": "delete_rep", "set": 1, "rep": 3},
        {"op": "delete_rep", "at_s": 201.4},
        {"op": "add_rep", "at_s": 118.0, "note": "the slow one at the end"},
        {"op": "split_set", "at_s": 40.0},
        {"op": "merge_sets", "sets": [2, 3]},
        {"op": "mark_exercise", "set": 2, "exercise": "prone-leg-lift"}
      ]
    }

Set and rep numbers are those of the analysis without labels (``imu analyze --no-labels``);
times are in the recording's ``time_s`` base. The operations are applied in a fixed order —
exercise marks, deletions, additions, merges, splits — each located by the time it resolves to,
so one does not renumber another. Every entry may carry a ``note`` (free text). A file may also
hold a full labelling under ``sets`` (the shape :func:`imu.evaluation.truth_from_dict` reads):
``imu evaluate`` scores against it; the analysis ignores it.

This module reads and checks the file (:func:`load_labels`, :func:`labels_from_dict`); a bad file
raises :class:`~imu.errors.LabelsError` naming the file, the entry and the problem.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from imu.errors import LabelsError

__all__ = [
    "LABELS_SCHEMA",
    "OPERATIONS",
    "AppliedCorrection",
    "Correction",
    "Labels",
    "labels_from_dict",
    "labels_path_for",
    "load_labels",
]

LABELS_SCHEMA = "imu-labels/1"
Operation = Literal["mark_exercise", "delete_rep", "add_rep", "merge_sets", "split_set"]
#: the operations, in the order they are applied
OPERATIONS: tuple[Operation, ...] = (
    "mark_exercise",
    "delete_rep",
    "add_rep",
    "merge_sets",
    "split_set",
)
#: the keys each operation takes (besides ``op`` and ``note``); a tuple lists alternatives
_KEYS: dict[str, tuple[frozenset[str], ...]] = {
    "mark_exercise": (frozenset({"set", "exercise"}),),
    "delete_rep": (frozenset({"set", "rep"}), frozenset({"at_s"})),
    "add_rep": (frozenset({"at_s"}),),
    "merge_sets": (frozenset({"sets"}),),
    "split_set": (frozenset({"at_s"}),),
}


@dataclass(frozen=True)
class Correction:
    """One entry of a labels file. Numbers refer to the analysis without labels."""

    entry: int  #: 1-based position in the file's ``corrections``
    op: Operation
    set_index: int | None = None  #: the set concerned (``merge_sets``: the first of the two)
    rep_index: int | None = None  #: ``delete_rep`` by number
    at_s: float | None = None  #: the time it concerns, s (recording's ``time_s``)
    exercise: str | None = None  #: ``mark_exercise``: a profile name
    note: str = ""

    def describe(self) -> str:
        """The entry in a few words, e.g. ``delete_rep set 1 rep 3``."""
        parts: list[str] = [self.op]
        if self.op == "merge_sets" and self.set_index is not None:
            parts.append(f"sets {self.set_index}+{self.set_index + 1}")
        elif self.set_index is not None:
            parts.append(f"set {self.set_index}")
        if self.rep_index is not None:
            parts.append(f"rep {self.rep_index}")
        if self.at_s is not None:
            parts.append(f"at {self.at_s:g} s")
        if self.exercise is not None:
            parts.append(f"as {self.exercise}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entry": self.entry, "op": self.op}
        if self.op == "merge_sets" and self.set_index is not None:
            out["sets"] = [self.set_index, self.set_index + 1]
        elif self.set_index is not None:
            out["set"] = self.set_index
        for key, value in (("rep", self.rep_index), ("at_s", self.at_s),
                           ("exercise", self.exercise)):  # fmt: skip
            if value is not None:
                out[key] = value
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class AppliedCorrection:
    """What a correction did to the analysis (``summary.json``'s ``corrections``)."""

    correction: Correction
    outcome: str  #: one sentence, e.g. "deleted rep 3 of set 1 (37.9–39.0 s)"

    def to_dict(self) -> dict[str, Any]:
        return {**self.correction.to_dict(), "outcome": self.outcome}


@dataclass(frozen=True)
class Labels:
    """A labels file read and checked."""

    path: str  #: where it was read from (``<labels>`` for a document given in memory)
    corrections: tuple[Correction, ...]
    #: a full labelling (``{"sets": […]}``, the truth ``imu evaluate`` scores against), if given
    truth: Mapping[str, Any] | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    def ordered(self) -> list[Correction]:
        """The corrections in the order they are applied (:data:`OPERATIONS`, then the file's)."""
        return sorted(self.corrections, key=lambda c: (OPERATIONS.index(c.op), c.entry))


def labels_path_for(recording: str | os.PathLike[str]) -> Path:
    """``x.csv`` → ``x.labels.json`` (beside it)."""
    p = Path(recording)
    return p.with_name(p.stem + ".labels.json")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a whole number from 1, not {value!r}")
    return value


def _time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"at_s must be a time in seconds, not {value!r}")
    return float(value)


def _keys_of(op: str, given: frozenset[str]) -> frozenset[str]:
    """The alternative of ``_KEYS[op]`` that ``given`` is; a ValueError says what is wrong."""
    for keys in _KEYS[op]:
        if given == keys:
            return keys
    unknown = sorted(given - frozenset().union(*_KEYS[op]))
    if unknown:
        raise ValueError(f"{op} does not take {', '.join(map(repr, unknown))}")
    wanted = " or ".join(" and ".join(sorted(k)) for k in _KEYS[op])
    raise ValueError(f"{op} needs {wanted}")


def _exercise(value: Any) -> dict[str, Any]:
    from imu.settings import PROFILES

    if value not in PROFILES:
        raise ValueError(f"unknown exercise {value!r}; choose one of {', '.join(PROFILES)}")
    return {"exercise": str(value)}


def _pair(value: Any) -> dict[str, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"sets must name two adjacent sets, e.g. [2, 3], not {value!r}")
    a, b = (_positive_int(v, "a set") for v in value)
    if b != a + 1:
        raise ValueError(f"sets {a} and {b} are not adjacent (merge_sets joins k and k+1)")
    return {"set_index": a}


#: how each key of an entry becomes fields of a :class:`Correction`
_PARSE: dict[str, Callable[[Any], dict[str, Any]]] = {
    "set": lambda v: {"set_index": _positive_int(v, "set")},
    "rep": lambda v: {"rep_index": _positive_int(v, "rep")},
    "at_s": lambda v: {"at_s": _time(v)},
    "exercise": _exercise,
    "sets": _pair,
}


def _correction(entry: int, raw: Any) -> Correction:
    """One entry, checked (ValueError with the problem)."""
    if not isinstance(raw, dict):
        raise ValueError('expected an object such as {"op": "add_rep", "at_s": 12.5}')
    op = raw.get("op")
    if op not in _KEYS:
        raise ValueError(f"unknown op {op!r}; choose one of {', '.join(OPERATIONS)}")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise ValueError(f"note must be text, not {note!r}")
    fields: dict[str, Any] = {}
    for key in sorted(_keys_of(op, frozenset(raw) - {"op", "note"})):
        fields.update(_PARSE[key](raw[key]))
    return Correction(entry=entry, op=op, note=note, **fields)


def labels_from_dict(doc: Any, *, path: str = "<labels>") -> Labels:
    """A :class:`Labels` from the parsed document; raises :class:`LabelsError` (one line)."""
    if not isinstance(doc, dict):
        raise LabelsError(path, "not a labels document (expected a JSON object)")
    schema = doc.get("schema")
    if schema != LABELS_SCHEMA:
        raise LabelsError(path, f"schema {schema!r}: expected {LABELS_SCHEMA!r}")
    unknown = sorted(set(doc) - {"schema", "corrections", "sets", "recording", "note"})
    if unknown:
        raise LabelsError(path, f"unknown key(s) {', '.join(map(repr, unknown))}")
    raw = doc.get("corrections", [])
    if not isinstance(raw, list):
        raise LabelsError(path, "corrections must be a list of entries")
    if not raw and "sets" not in doc:
        raise LabelsError(path, "neither corrections nor sets: nothing to apply or score")
    corrections = []
    for k, item in enumerate(raw, start=1):
        try:
            corrections.append(_correction(k, item))
        except ValueError as exc:
            raise LabelsError(path, str(exc), entry=k) from None
    truth = None
    if "sets" in doc:
        if not isinstance(doc["sets"], list):
            raise LabelsError(path, "sets must be a list of sets (a full labelling)")
        truth = {"sets": doc["sets"]}
    return Labels(path=path, corrections=tuple(corrections), truth=truth)


def load_labels(path: str | os.PathLike[str]) -> Labels:
    """Read and check a labels file; raises :class:`LabelsError` with one line on bad input."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelsError(p, "no such labels file") from None
    except OSError as exc:
        from imu.errors import os_reason

        raise LabelsError(p, f"cannot be read ({os_reason(exc)})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelsError(p, f"not a JSON labels file ({exc})") from None
    return labels_from_dict(doc, path=str(p))
