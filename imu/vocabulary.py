"""The project's words, each defined once: form flags, live events, connection states.

Form, the live path (detector, session, view, audio) and the charts take these types rather than
bare strings, so a misspelt flag or event is a type error, not a silent miss. The tuples hold the
same words for code that needs them at run time (validation, table columns).

- :data:`FlagName` — a flag a rep may carry (``summary.json`` ``flags``; the README's flag table).
- :data:`WarningName` — the flags the live path warns about while a set runs (a subset).
- :data:`EventName` — an ``event`` of ``events.jsonl`` (contracts §4).
- :data:`Connection` — the sensor connection as the live view shows it and the cues say it.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard, get_args

__all__ = [
    "CONNECTIONS",
    "EVENT_NAMES",
    "FLAG_NAMES",
    "WARNING_NAMES",
    "Connection",
    "EventName",
    "FlagName",
    "WarningName",
    "is_warning",
]

#: flags the live path announces as soon as it knows them (each is also an event)
WarningName = Literal["above_hip_line", "momentum", "drop", "no_hold", "partial"]
#: every flag the analysis raises (documented in the README's flag table)
FlagName = Literal[WarningName, "rest_at_bottom", "clipped"]
#: every ``event`` of ``events.jsonl``: the live detector's, and ``gap`` (the recorder's)
EventName = Literal[
    "set_start",
    "rep",
    WarningName,
    "rep_end",
    "rep_cancelled",
    "set_end",
    "set_cancelled",
    "set_resumed",
    "gap",
]
#: the sensor connection as the live view shows it: ``searching`` for the sensor (scanning, or
#: waiting for a phone), ``connecting`` (connected, being configured), ``connected`` (data
#: arriving), ``reconnecting``, ``disconnected``; ``replay`` for a recording played back
Connection = Literal[
    "searching", "connecting", "connected", "reconnecting", "disconnected", "replay"
]

WARNING_NAMES: Final[tuple[WarningName, ...]] = get_args(WarningName)
FLAG_NAMES: Final[tuple[FlagName, ...]] = get_args(FlagName)
EVENT_NAMES: Final[tuple[EventName, ...]] = get_args(EventName)
CONNECTIONS: Final[tuple[Connection, ...]] = get_args(Connection)


def is_warning(name: str) -> TypeGuard[WarningName]:
    """Whether ``name`` (a flag or an event) is one the live path warns about."""
    return name in WARNING_NAMES
