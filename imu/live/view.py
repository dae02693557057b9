"""The live terminal view: connection and data rates, the leg-angle gauge, reps, phases, warnings.

The live loop builds a frozen :class:`LiveState` snapshot whenever something changes and hands it
to :meth:`LiveView.update`, which only stores it — a ``rich`` refresh thread draws the newest
snapshot at most ``refresh_hz`` times a second, so the live loop never waits for the terminal.
:func:`render` is the pure part (state → renderable) and is what the tests look at.

When stdout is not a terminal there is no live display: :class:`LiveView` writes one plain line
per event (connection change, set start/end, rep, warning) and a status line every
``plain_every_s`` seconds — or nothing at all with ``mode="off"``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from imu.results import RepResult
from imu.settings import Tempo
from imu.vocabulary import Connection, FlagName

__all__ = [
    "GAUGE_MAX_DEG",
    "GAUGE_MIN_DEG",
    "AngleGauge",
    "LiveState",
    "LiveView",
    "PhaseTimes",
    "WarningNote",
    "big_number",
    "plain_lines",
    "render",
    "status_line",
]

log = logging.getLogger(__name__)

GAUGE_MIN_DEG: Final = -90.0  #: left end of the θ gauge (legs hanging straight down)
GAUGE_MAX_DEG: Final = 30.0  #: right end of the θ gauge (well above the hip line)

GREEN: Final = "green"
AMBER: Final = "yellow"
RED: Final = "red"


# ---------------------------------------------------------------------------------------------
# The snapshot


@dataclass(frozen=True)
class PhaseTimes:
    """One rep's phase durations, s (``None`` = not known yet, e.g. the bottom of the last rep)."""

    concentric_s: float | None = None  #: lift
    top_hold_s: float | None = None
    eccentric_s: float | None = None  #: lowering
    bottom_pause_s: float | None = None

    @classmethod
    def from_rep(cls, rep: RepResult) -> PhaseTimes:
        return cls(rep.concentric_s, rep.top_hold_s, rep.eccentric_s, rep.bottom_pause_s)


@dataclass(frozen=True)
class WarningNote:
    """A warning shown in the list, at the recording time it fired."""

    t_s: float  #: recording time, s
    kind: FlagName  #: ``above_hip_line``, ``momentum``, ``drop``, …
    detail: str = ""  #: e.g. "+8.4°" or "coasted 31°"


@dataclass(frozen=True)
class LiveState:
    """Everything the live view shows, as one immutable snapshot."""

    connection: Connection = "disconnected"  #: see :data:`imu.vocabulary.Connection`
    device: str = ""  #: sensor name or address
    profile: str = ""  #: sensor profile (decoder) name
    exercise: str = "reverse-hyper"
    sample_rate_hz: float | None = None  #: measured over the last seconds, Hz
    samples_received: int = 0
    samples_lost: int = 0  #: missing samples detected from gaps / sequence numbers
    malformed: int = 0  #: notifications that could not be decoded
    reconnects: int = 0
    theta_deg: float | None = None  #: current leg angle above the hip line, °
    tolerance_deg: float | None = 5.0  #: above this θ the legs are too high (None: no limit), °
    set_index: int = 0  #: current (or last) set, 1-based; 0 = none yet
    rep_count: int = 0  #: reps in the current (or last) set
    in_set: bool = False
    last_rep: PhaseTimes | None = None
    last_rep_peak_deg: float | None = None  #: highest θ of the last rep, °
    target_tempo: Tempo | None = None
    tempo_tolerance_s: float = 0.5  #: a phase within this of its target is on tempo, s
    warnings: tuple[WarningNote, ...] = ()  #: recent warnings, oldest first
    elapsed_s: float = 0.0  #: recording time since the start, s
    output_path: str | None = None  #: where the recording is written
    message: str = ""  #: one status line, e.g. "hold your legs in line to calibrate"
    #: what the sensor gets wrong right now, e.g. "acc_z_g saturated at +16 g" (imu.quality)
    sensor_problems: tuple[str, ...] = ()
    #: the detector's status flags (:class:`imu.live.detector.DetectorStatus`): still starting up,
    #: the last samples came after a gap, a channel sits at the sensor's range
    starting: bool = False
    in_gap: bool = False
    clipping: bool = False
    #: the last rep withdrawn and why, e.g. "rep 8 did not count: rebound 5° after rep 7"
    #: (:attr:`imu.live.detector.DetectorState.withdrawn`; shown until the next rep)
    withdrawn: str | None = None
    #: every rep withdrawn in the last block of samples: (set, what and why, the count after)
    withdrawals: tuple[tuple[int, str, int], ...] = ()
    late_rep: int | None = None  #: the last rep's number when it was counted after its top

    @property
    def loss_pct(self) -> float | None:
        """Lost samples as a share of expected samples, % (``None`` before any data)."""
        total = self.samples_received + self.samples_lost
        return None if total <= 0 else 100.0 * self.samples_lost / total


# ---------------------------------------------------------------------------------------------
# Pieces


_CONNECTION_STYLE: Final[dict[Connection, str]] = {
    "connected": GREEN,
    "replay": GREEN,
    "searching": AMBER,
    "connecting": AMBER,
    "reconnecting": AMBER,
    "disconnected": RED,
}

_WARNING_LABEL: Final[dict[FlagName, str]] = {
    "above_hip_line": "above hip line",
    "momentum": "momentum / swinging",
    "drop": "dropped, not lowered",
    "no_hold": "no hold at the top",
    "partial": "partial rep",
    "rest_at_bottom": "rested at the bottom",
}
_SERIOUS: Final[frozenset[FlagName]] = frozenset({"above_hip_line", "momentum", "drop"})


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    minutes, s = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{s:04.1f}"
    return f"{minutes:02d}:{s:04.1f}"


def _loss_style(pct: float | None) -> str:
    if pct is None:
        return "dim"
    return GREEN if pct < 1.0 else AMBER if pct < 5.0 else RED


def angle_style(theta_deg: float, tolerance_deg: float | None) -> str:
    """Green at or below the hip line, amber within the tolerance, red above it (green everywhere
    for an exercise without a hip line)."""
    if tolerance_deg is None or theta_deg <= 0.0:
        return GREEN
    return AMBER if theta_deg <= tolerance_deg else RED


def _status_panel(state: LiveState) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column()
    grid.add_column()
    grid.add_column()
    conn_style = _CONNECTION_STYLE.get(state.connection, AMBER)
    conn = Text.assemble(("● ", conn_style), (state.connection, f"bold {conn_style}"))
    device = Text(state.device or "no device", style="" if state.device else "dim")
    if state.profile:
        device.append(f"  ({state.profile})", style="dim")
    rate = "— Hz" if state.sample_rate_hz is None else f"{state.sample_rate_hz:.1f} Hz"
    grid.add_row(conn, device, Text(f"{rate} measured"))
    loss = state.loss_pct
    loss_text = Text.assemble(
        f"lost {state.samples_lost:,} ",
        ("(—)" if loss is None else f"({loss:.1f}%)", _loss_style(loss)),
    )
    grid.add_row(
        Text(f"received {state.samples_received:,}"),
        loss_text,
        Text(
            f"malformed {state.malformed:,}  reconnects {state.reconnects}",
            style=RED if state.malformed or state.reconnects else "",
        ),
    )
    grid.add_row(
        Text(f"elapsed {_fmt_time(state.elapsed_s)}"),
        Text(f"→ {state.output_path}" if state.output_path else "not saving", style="dim"),
        Text(state.message, style="bold"),
    )
    lines: list[RenderableType] = [grid]
    flags = _detector_flags(state)
    if flags:
        line = Text("detector: ", style="bold")
        for i, (text, style) in enumerate(flags):
            line.append(("  ·  " if i else "") + text, style=style)
        lines.append(line)
    if state.sensor_problems:
        lines.append(Text(_sensor_line(state), style=f"bold {RED}"))
    return Panel(Group(*lines), title=f"imu live · {state.exercise}", title_align="left")


_STARTING: Final = "starting up (finding the leg's axis)"
_IN_GAP: Final = "in a gap (samples were lost)"
_CLIPPING: Final = "clipping (a channel at the sensor's range)"


def _detector_flags(state: LiveState) -> list[tuple[str, str]]:
    """The detector's raised status flags: (what it means, style)."""
    flags = []
    if state.starting:
        flags.append((_STARTING, AMBER))
    if state.in_gap:
        flags.append((_IN_GAP, AMBER))
    if state.clipping:
        flags.append((_CLIPPING, RED))
    return flags


def _sensor_line(state: LiveState) -> str:
    return (
        "⚠ sensor: "
        + "; ".join(state.sensor_problems)
        + " (the analysis flags the reps it touches clipped)"
    )


class AngleGauge:
    """A horizontal gauge of θ from −90° to +30° with the hip line (0°) and tolerance marked.

    Fills the available width; the filled bar and the marker take the angle's colour (green below
    the hip line, amber within the tolerance, red above it).
    """

    def __init__(self, theta_deg: float | None, tolerance_deg: float | None) -> None:
        self.theta_deg = theta_deg
        self.tolerance_deg = tolerance_deg

    def _cell(self, angle_deg: float, n: int) -> int:
        a = min(max(angle_deg, GAUGE_MIN_DEG), GAUGE_MAX_DEG)
        return round((a - GAUGE_MIN_DEG) / (GAUGE_MAX_DEG - GAUGE_MIN_DEG) * (n - 1))

    def lines(self, width: int) -> list[Text]:
        n = max(20, width)
        return [self._bar(n), self._scale(n), self._label()]

    def _theta(self) -> float | None:
        theta = self.theta_deg
        return theta if theta is not None and math.isfinite(theta) else None

    def _bar(self, n: int) -> Text:
        hip = self._cell(0.0, n)
        tol = hip if self.tolerance_deg is None else self._cell(self.tolerance_deg, n)
        theta = self._theta()
        style = "dim" if theta is None else angle_style(theta, self.tolerance_deg)
        pos = -1 if theta is None else self._cell(theta, n)
        bar = Text()
        for i in range(n):
            if i == pos:
                bar.append("●", style=f"bold {style}")
            elif i == hip:
                bar.append("┃", style="bold")
            elif i == tol and tol != hip:
                bar.append("┊", style=AMBER)
            elif i < pos:
                bar.append("━", style=style)
            else:
                side = f"dim {RED}" if i > tol else f"dim {AMBER}" if i > hip else "dim"
                bar.append("─", style=side)
        return bar

    def _scale(self, n: int) -> Text:
        scale = [" "] * n
        for mark in (-90, -60, -30, 0, 30):
            label = f"{mark:+d}°" if mark else "0° hip line"
            c = self._cell(float(mark), n)
            if mark == 0:
                start = c
            elif mark == GAUGE_MAX_DEG:
                start = n - len(label)
            else:
                offset = 0 if mark == GAUGE_MIN_DEG else len(label) // 2
                start = max(0, min(c - offset, n - len(label)))
            if all(ch == " " for ch in scale[max(0, start - 1) : start + len(label) + 1]):
                scale[start : start + len(label)] = list(label)
        return Text("".join(scale), style="dim")

    def _label(self) -> Text:
        theta = self._theta()
        if theta is None:
            return Text("θ —  (no angle yet)", style="dim")
        if self.tolerance_deg is not None and theta > self.tolerance_deg:
            return Text.assemble(
                (f"θ {theta:+.1f}°  ", f"bold {RED}"),
                (f"⚠ ABOVE HIP LINE (tolerance {self.tolerance_deg:g}°)", f"bold {RED}"),
            )
        if theta > 0:
            return Text.assemble(
                (f"θ {theta:+.1f}°  ", f"bold {AMBER}"),
                (f"at the hip line (within {self.tolerance_deg:g}°)", AMBER),
            )
        return Text.assemble((f"θ {theta:+.1f}°  ", f"bold {GREEN}"), ("below the hip line", GREEN))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


#: a 3×5 pixel font for the rep counter; each pixel is drawn two cells wide
_FONT: Final[dict[str, tuple[str, ...]]] = {
    "0": ("###", "# #", "# #", "# #", "###"),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"),
    "3": ("###", "  #", "###", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"),
    "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"),
    "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"),
    "9": ("###", "# #", "###", "  #", "###"),
}


def big_number(value: int, *, style: str = "bold") -> Text:
    """``value`` drawn five lines high with block characters."""
    digits = str(max(0, int(value)))
    rows = []
    for r in range(5):
        row = "  ".join(_FONT[d][r].replace("#", "██").replace(" ", "  ") for d in digits)
        rows.append(row)
    return Text("\n".join(rows), style=style)


def _counter_panel(state: LiveState) -> Panel:
    style = f"bold {GREEN}" if state.in_set else "bold"
    caption = Text.assemble(
        (f"{state.rep_count} rep{'' if state.rep_count == 1 else 's'}", "bold"),
        (f" · set {state.set_index}" if state.set_index else " · no set yet", ""),
        ("  in set" if state.in_set else "  resting", GREEN if state.in_set else "dim"),
    )
    parts: list[RenderableType] = [big_number(state.rep_count, style=style), caption]
    note = _count_note(state)
    if note is not None:
        parts.append(note)
    return Panel(Group(*parts), title="Reps", title_align="left")


def _count_note(state: LiveState) -> Text | None:
    """Why the count changed other than by one rep at its top: a withdrawal, a late rep."""
    if state.withdrawn:
        return Text(f"✗ {state.withdrawn} — now {state.rep_count}", style=f"bold {AMBER}")
    if state.late_rep is not None:
        return Text(f"✓ rep {state.late_rep} counted late: the set showed it was one", style=GREEN)
    return None


def _deviation_style(actual: float, target: float, tolerance_s: float) -> str:
    dev = abs(actual - target)
    tol = max(tolerance_s, 1e-9)
    return GREEN if dev <= tol else AMBER if dev <= 2 * tol else RED


def _phase_panel(state: LiveState) -> Panel:
    table = Table(box=None, padding=(0, 1), expand=False)
    table.add_column("phase")
    table.add_column("last", justify="right")
    table.add_column("target", justify="right")
    table.add_column("Δ", justify="right")
    tempo = state.target_tempo
    rep = state.last_rep
    rows: Iterable[tuple[str, float | None, float | None]] = (
        ("lift", rep.concentric_s if rep else None, tempo.concentric_s if tempo else None),
        ("top hold", rep.top_hold_s if rep else None, tempo.top_hold_s if tempo else None),
        ("lower", rep.eccentric_s if rep else None, tempo.eccentric_s if tempo else None),
        ("bottom", rep.bottom_pause_s if rep else None, tempo.bottom_pause_s if tempo else None),
    )
    for label, actual, target in rows:
        actual_ok = actual is not None and math.isfinite(actual)
        if actual_ok and actual is not None and target is not None:
            style = _deviation_style(actual, target, state.tempo_tolerance_s)
            delta = Text(f"{actual - target:+.1f}", style=style)
        else:
            style, delta = "", Text("")
        table.add_row(
            label,
            Text(f"{actual:.1f} s" if actual_ok and actual is not None else "—", style=style),
            Text("—" if target is None else f"{target:g} s", style="dim"),
            delta,
        )
    parts: list[RenderableType] = [table]
    if state.last_rep_peak_deg is not None:
        peak = state.last_rep_peak_deg
        parts.append(Text(f"peak θ {peak:+.1f}°", style=angle_style(peak, state.tolerance_deg)))
    title = "Last rep" + (f" · target {tempo} (ecc-bottom-con-top)" if tempo else "")
    if rep is None:
        parts = [Text("no rep yet", style="dim")] + (parts if tempo is not None else [])
    return Panel(Group(*parts), title=title, title_align="left")


def _warning_label(kind: FlagName) -> str:
    return _WARNING_LABEL.get(kind, kind.replace("_", " "))


def _warnings_panel(state: LiveState, *, max_lines: int = 5) -> Panel:
    if not state.warnings:
        body: RenderableType = Text("no warnings", style="dim")
    else:
        lines = Text()
        for i, w in enumerate(reversed(state.warnings[-max_lines:])):
            if i:
                lines.append("\n")
            style = RED if w.kind in _SERIOUS else AMBER
            lines.append(f"{_fmt_time(w.t_s):>9}  ", style="dim")
            lines.append("⚠ " + _warning_label(w.kind), style=f"bold {style}")
            if w.detail:
                lines.append(f"  {w.detail}")
        body = lines
    return Panel(body, title=f"Warnings ({len(state.warnings)})", title_align="left")


def render(state: LiveState) -> RenderableType:
    """The whole live view for one snapshot (pure: no I/O, no clock)."""
    gauge = Panel(
        AngleGauge(state.theta_deg, state.tolerance_deg),
        title="Leg angle θ (above the hip line)",
        title_align="left",
        border_style=(
            RED
            if state.theta_deg is not None
            and state.tolerance_deg is not None
            and state.theta_deg > state.tolerance_deg
            else "none"
        ),
    )
    middle = Table.grid(expand=True, padding=(0, 1))
    middle.add_column(ratio=2)
    middle.add_column(ratio=3)
    middle.add_row(_counter_panel(state), _phase_panel(state))
    return Group(_status_panel(state), gauge, middle, _warnings_panel(state))


def status_line(state: LiveState) -> str:
    """One plain line summarising the state (for logs and non-terminal output)."""
    loss = state.loss_pct
    theta = "—" if state.theta_deg is None else f"{state.theta_deg:+.1f}°"
    rate = "—" if state.sample_rate_hz is None else f"{state.sample_rate_hz:.1f}"
    return (
        f"[{_fmt_time(state.elapsed_s)}] {state.connection}"
        f" · {rate} Hz · received {state.samples_received} · lost {state.samples_lost}"
        f" ({'—' if loss is None else f'{loss:.1f}%'}) · θ {theta}"
        f" · set {state.set_index} · reps {state.rep_count}"
    )


# ---------------------------------------------------------------------------------------------
# The live display

VIEW_MODES: Final = ("auto", "live", "plain", "off")


class LiveView:
    """Shows :class:`LiveState` snapshots; use as a context manager around the live loop.

    ``mode``: ``live`` (a ``rich`` live display), ``plain`` (event lines), ``off``, or ``auto``
    (``live`` on a terminal, else ``plain``). :meth:`update` only stores the snapshot (and in
    plain mode writes the lines due), so it is cheap enough to call for every chunk.
    """

    def __init__(
        self,
        *,
        console: Console | None = None,
        mode: str = "auto",
        refresh_hz: float = 10.0,
        plain_every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode {mode!r}: choose one of {', '.join(VIEW_MODES)}")
        self.console = console if console is not None else Console()
        self.refresh_hz = refresh_hz
        #: in plain mode, a status line at most this often (wall clock), s (0 = only events)
        self.plain_every_s = plain_every_s
        self._clock = clock
        self._requested = mode
        self.mode = mode
        self._state = LiveState()
        self._live: Live | None = None
        self._render_failed = False
        self._last_plain: float | None = None
        self._seen: LiveState | None = None

    @property
    def state(self) -> LiveState:
        return self._state

    def _renderable(self) -> RenderableType:
        try:
            return render(self._state)
        except Exception as exc:  # the refresh thread must survive a bad snapshot
            if not self._render_failed:
                self._render_failed = True
                log.warning("live view: cannot draw the state (%s)", exc, exc_info=True)
            return Text(status_line(self._state))

    def __enter__(self) -> LiveView:
        mode = self._requested
        if mode == "auto":
            terminal = self.console.is_terminal and not self.console.is_dumb_terminal
            mode = "live" if terminal else "plain"
        self.mode = mode
        if mode == "live":
            self._live = Live(
                console=self.console,
                refresh_per_second=max(0.5, self.refresh_hz),
                get_renderable=self._renderable,
                auto_refresh=True,
                transient=False,
            )
            self._live.start()
        return self

    def update(self, state: LiveState) -> None:
        """Show this snapshot (drawn at the next refresh)."""
        self._state = state
        if self.mode == "plain":
            self._plain(state)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()  # draws the last snapshot
        elif self.mode == "plain" and self._seen is not None:
            self._write(status_line(self._state))
        self.mode = "off"

    # plain mode ------------------------------------------------------------------------------

    def _write(self, line: str, style: str = "") -> None:
        self.console.print(Text(line, style=style), soft_wrap=True, highlight=False)

    def _plain(self, state: LiveState) -> None:
        prev = self._seen
        self._seen = state
        for line, style in plain_lines(prev, state):
            self._write(line, style)
        now = self._clock()
        if self._last_plain is None:
            self._last_plain = now
        elif self.plain_every_s > 0 and now - self._last_plain >= self.plain_every_s:
            self._last_plain = now
            self._write(status_line(state), style="dim")


#: one plain line and its style
PlainLine = tuple[str, str]


def plain_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    """The event lines plain mode writes for the change from ``prev`` to ``state`` (pure)."""
    stamp = f"[{_fmt_time(state.elapsed_s)}]"
    return [
        (f"{stamp} {text}", style)
        for part in (_connection_lines, _set_lines, _count_lines, _flag_lines, _sensor_lines)
        for text, style in part(prev, state)
    ] + _warning_lines(prev, state)


def _connection_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    if prev is not None and state.connection == prev.connection:
        return []
    who = f" {state.device}" if state.device else ""
    return [(f"{state.connection}{who}", "")]


def _set_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    if prev is None or (state.set_index, state.in_set) == (prev.set_index, prev.in_set):
        return []
    if state.in_set:
        return [(f"set {state.set_index} started", "")]
    if prev.in_set:
        return [(f"set {prev.set_index} ended: {prev.rep_count} reps", "")]
    return []


def _count_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    """A rep counted (late ones say so), or a rep withdrawn with the reason and the new count."""
    before = prev.rep_count if prev is not None else 0
    lines: list[PlainLine] = []
    # each withdrawal of the block (two may come at once), else a new last one
    said = state.withdrawals or (
        ((state.set_index, state.withdrawn, state.rep_count),)
        if state.withdrawn and state.withdrawn != (prev.withdrawn if prev else None)
        else ()
    )
    withdrawn = bool(said)
    for set_index, what, count in said:
        lines.append((f"set {set_index}: {what} — now {count}", AMBER))
    if (
        state.rep_count == before
        or state.rep_count <= 0
        or (withdrawn and state.rep_count < before)
    ):
        return lines
    if state.late_rep is not None:
        lines.append(
            (f"set {state.set_index} rep {state.late_rep} counted late — now {state.rep_count}", "")
        )
        return lines
    rep = state.last_rep
    parts = []
    if rep is not None:
        named = (("lift", rep.concentric_s), ("top", rep.top_hold_s), ("lower", rep.eccentric_s))
        parts = [f"{name} {v:.1f} s" for name, v in named if v is not None and math.isfinite(v)]
    phases = "  " + " · ".join(parts) if parts else ""
    lines.append((f"set {state.set_index} rep {state.rep_count}{phases}", ""))
    return lines


def _flag_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    """Start-up over, clipping on or off (a gap is brief and already counted as lost samples: it
    is shown in the live view only, not written a line at a time)."""
    lines: list[PlainLine] = []
    if prev is None or state.starting != prev.starting:
        if state.starting:
            lines.append(("detector: " + _STARTING, AMBER))
        elif prev is not None:
            lines.append(("detector: ready", ""))
    if prev is not None and state.clipping != prev.clipping:
        text = _CLIPPING if state.clipping else "no longer clipping"
        lines.append(("detector: " + text, RED if state.clipping else ""))
    return lines


def _sensor_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    if state.sensor_problems == (prev.sensor_problems if prev else ()):
        return []
    if state.sensor_problems:
        return [(_sensor_line(state), RED)]
    return [("sensor: the data look right again", "")] if prev is not None else []


def _warning_lines(prev: LiveState | None, state: LiveState) -> list[PlainLine]:
    old = set(prev.warnings) if prev is not None else set()
    lines = []
    for w in state.warnings:
        if w not in old:
            detail = f" ({w.detail})" if w.detail else ""
            lines.append((f"[{_fmt_time(w.t_s)}] warning: {_warning_label(w.kind)}{detail}", ""))
    return lines
