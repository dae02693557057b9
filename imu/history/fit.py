"""A small FIT encoder: strength-training activity files from the history.

Written from the FIT protocol (file header, definition and data messages, CRC-16) and the FIT
SDK's public Profile (message and field numbers, base types, scales, enum values). Only what a
strength activity needs is here: ``file_id``, ``event``, ``set``, ``lap``, ``session`` and
``activity``. Everything is little-endian; each distinct message layout gets its own local
message type.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "FitSet",
    "fit_crc",
    "strength_activity",
]

#: FIT time 0: 1989-12-31 00:00:00 UTC
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
PROTOCOL_VERSION = 0x20  # 2.0
PROFILE_VERSION = 21158  # the Profile revision the numbers below were read from (21.158)

# base types: (number, struct code, size, invalid value)
ENUM = (0x00, "B", 1, 0xFF)
UINT8 = (0x02, "B", 1, 0xFF)
UINT16 = (0x84, "H", 2, 0xFFFF)
UINT32 = (0x86, "I", 4, 0xFFFFFFFF)
UINT32Z = (0x8C, "I", 4, 0)
BaseType = tuple[int, str, int, int]

# global message numbers (Profile: MesgNum)
FILE_ID, LAP, SESSION, EVENT, ACTIVITY, SET = 0, 19, 18, 21, 34, 225

# enum values (Profile: types)
FILE_ACTIVITY = 4
MANUFACTURER_DEVELOPMENT = 255
SPORT_TRAINING = 10
SUB_SPORT_STRENGTH_TRAINING = 20
EVENT_TIMER, EVENT_SESSION, EVENT_LAP, EVENT_ACTIVITY = 0, 8, 9, 26
EVENT_TYPE_START, EVENT_TYPE_STOP, EVENT_TYPE_STOP_ALL = 0, 1, 4
SET_TYPE_REST, SET_TYPE_ACTIVE = 0, 1
LAP_TRIGGER_SESSION_END = 7
SESSION_TRIGGER_ACTIVITY_END = 0
ACTIVITY_MANUAL = 0
#: exercise_category and its subtypes (Profile: exercise_category, *_exercise_name)
CATEGORY_HYPEREXTENSION = 13
CATEGORY_LEG_RAISE = 16
LEG_RAISE_REVERSE_LEG_RAISE = 13

Field = tuple[int, BaseType, int | Sequence[int] | None]


def fit_crc(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 (reflected polynomial 0xA001, initial 0) of ``data``."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def fit_time(moment: datetime) -> int:
    """Seconds since the FIT epoch."""
    return int((moment.astimezone(UTC) - FIT_EPOCH).total_seconds())


class _Writer:
    """Data records of one FIT file: definitions emitted as layouts appear."""

    def __init__(self) -> None:
        self._records = bytearray()
        self._local: dict[tuple[int, tuple[tuple[int, int, int], ...]], int] = {}

    def message(self, global_num: int, fields: Sequence[Field]) -> None:
        layout = []
        values = bytearray()
        for number, (base, code, size, invalid), value in fields:
            items = [invalid] if value is None else ([value] if isinstance(value, int) else value)
            layout.append((number, size * len(items), base))
            values += struct.pack(f"<{len(items)}{code}", *items)
        key = (global_num, tuple(layout))
        local = self._local.get(key)
        if local is None:
            local = len(self._local) % 16
            for old, slot in list(self._local.items()):
                if slot == local:
                    del self._local[old]
            self._local[key] = local
            definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(layout))
            definition += b"".join(struct.pack("<BBB", *f) for f in layout)
            self._records += definition
        self._records += bytes([local]) + values

    def file(self) -> bytes:
        body = bytes(self._records)
        header = struct.pack("<BBHI4s", 14, PROTOCOL_VERSION, PROFILE_VERSION, len(body), b".FIT")
        header += struct.pack("<H", fit_crc(header))
        content = header + body
        return content + struct.pack("<H", fit_crc(content))


@dataclass(frozen=True)
class FitSet:
    """One active set of a strength activity."""

    start: datetime
    duration_s: float
    repetitions: int
    category: int  #: exercise_category
    subtype: int | None = None  #: the category's exercise name, if one fits


def _ms(seconds: float) -> int:
    return max(0, round(1000.0 * seconds))


def strength_activity(
    sets: Sequence[FitSet],
    *,
    start: datetime,
    end: datetime,
    serial_number: int,
    utc_offset_s: int = 0,
) -> bytes:
    """A FIT activity file: sport training / strength training, one lap, one session, and a
    ``set`` message per set (active sets with their repetitions and duration, rest sets between).
    """
    if end < start:
        raise ValueError("the activity ends before it starts")
    w = _Writer()
    t0, t1 = fit_time(start), fit_time(end)
    elapsed = _ms((end - start).total_seconds())
    w.message(
        FILE_ID,
        [
            (0, ENUM, FILE_ACTIVITY),
            (1, UINT16, MANUFACTURER_DEVELOPMENT),
            (2, UINT16, 0),
            (3, UINT32Z, serial_number & 0xFFFFFFFF or 1),
            (4, UINT32, t0),
        ],
    )
    w.message(EVENT, [(253, UINT32, t0), (0, ENUM, EVENT_TIMER), (1, ENUM, EVENT_TYPE_START)])
    index = 0
    for k, s in enumerate(sets):
        set_end = s.start + timedelta(seconds=s.duration_s)
        w.message(
            SET,
            [
                (254, UINT32, fit_time(set_end)),
                (0, UINT32, _ms(s.duration_s)),
                (3, UINT16, s.repetitions),
                (5, UINT8, SET_TYPE_ACTIVE),
                (6, UINT32, fit_time(s.start)),
                (7, UINT16, [s.category]),
                (8, UINT16, [0xFFFF if s.subtype is None else s.subtype]),
                (10, UINT16, index),
            ],
        )
        index += 1
        if k + 1 < len(sets):
            rest_s = (sets[k + 1].start - set_end).total_seconds()
            if rest_s > 0:
                w.message(
                    SET,
                    [
                        (254, UINT32, fit_time(sets[k + 1].start)),
                        (0, UINT32, _ms(rest_s)),
                        (3, UINT16, None),
                        (5, UINT8, SET_TYPE_REST),
                        (6, UINT32, fit_time(set_end)),
                        (7, UINT16, [0xFFFF]),
                        (8, UINT16, [0xFFFF]),
                        (10, UINT16, index),
                    ],
                )
                index += 1
    w.message(EVENT, [(253, UINT32, t1), (0, ENUM, EVENT_TIMER), (1, ENUM, EVENT_TYPE_STOP_ALL)])
    common = [
        (253, UINT32, t1),
        (2, UINT32, t0),
        (7, UINT32, elapsed),
        (8, UINT32, elapsed),
    ]
    w.message(
        LAP,
        [
            (254, UINT16, 0),
            *common,
            (0, ENUM, EVENT_LAP),
            (1, ENUM, EVENT_TYPE_STOP),
            (24, ENUM, LAP_TRIGGER_SESSION_END),
            (25, ENUM, SPORT_TRAINING),
            (39, ENUM, SUB_SPORT_STRENGTH_TRAINING),
        ],
    )
    w.message(
        SESSION,
        [
            (254, UINT16, 0),
            *common,
            (0, ENUM, EVENT_SESSION),
            (1, ENUM, EVENT_TYPE_STOP),
            (5, ENUM, SPORT_TRAINING),
            (6, ENUM, SUB_SPORT_STRENGTH_TRAINING),
            (25, UINT16, 0),
            (26, UINT16, 1),
            (28, ENUM, SESSION_TRIGGER_ACTIVITY_END),
        ],
    )
    w.message(
        ACTIVITY,
        [
            (253, UINT32, t1),
            (0, UINT32, elapsed),
            (1, UINT16, 1),
            (2, ENUM, ACTIVITY_MANUAL),
            (3, ENUM, EVENT_ACTIVITY),
            (4, ENUM, EVENT_TYPE_STOP),
            (5, UINT32, t1 + utc_offset_s),
        ],
    )
    return w.file()
