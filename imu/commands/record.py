"""``imu record`` — record from a BLE sensor (or the built-in virtual one) with the live coach.

The samples go to a contract CSV as they arrive (fsynced at least every 0.5 s: a ``kill -9``
loses at most that much and leaves a file ``imu analyze`` reads), and through the live path (the
terminal view, the spoken cues, ``events.jsonl``). Ctrl-C or SIGTERM stops cleanly: the link is
closed, the file completed, and the outputs of ``imu analyze`` are written beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imu.commands.analyze import (
    add_chart_arguments,
    add_history_arguments,
    add_live_arguments,
    add_settings_arguments,
    output_options,
    settings_from_args,
)
from imu.errors import ConfigError, ImuError
from imu.outputs import OutputDir, check_output_dir, check_output_file

if TYPE_CHECKING:
    from imu.live.acquire import LiveRecorder, RecordOutcome, SampleSource, StatusCallback
    from imu.live.audio import Cue, Sink
    from imu.settings import Settings
    from imu.simulate import Setup

EVENTS_FILE = "events.jsonl"
RECORDINGS_DIR = "recordings"
#: profiles whose protocol carries a device clock: the virtual sensor can speak them at any speed
SIMULATE_PROFILES = ("imu-ref", "movesense")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "record",
        help="record from a BLE sensor with the live coach (or --simulate one)",
        description=(
            "Connect to an ankle-worn BLE IMU, write the recording CSV as data arrive, show the "
            "live view (connection, rate and loss, leg angle, reps, phase times, warnings) and "
            "speak cues. Ctrl-C stops and writes the outputs of `imu analyze` plus events.jsonl "
            "to <out stem>/ beside the CSV. --simulate streams a built-in virtual sensor instead."
        ),
    )
    src = p.add_argument_group("sensor")
    src.add_argument(
        "--device",
        metavar="NAME|ADDRESS",
        help="the sensor's advertised name or address (default: the first supported one heard)",
    )
    src.add_argument(
        "--profile",
        metavar="KEY",
        help="sensor protocol (default: recognised from the advertisement; see `imu profiles`)",
    )
    src.add_argument(
        "--rate-hz",
        type=float,
        default=100.0,
        help="sample rate, Hz (default 100; the sensor's nearest supported rate is used)",
    )
    src.add_argument(
        "--connect-timeout-s",
        type=float,
        default=20.0,
        help="give up if the sensor is not streaming after this long, s (default 20)",
    )
    src.add_argument(
        "--reconnect-timeout-s",
        type=float,
        default=30.0,
        help="after a lost link, keep reconnecting this long, s (default 30)",
    )
    src.add_argument(
        "--simulate",
        action="store_true",
        help="no hardware: stream a simulated session from a built-in virtual sensor",
    )
    src.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="X",
        help="with --simulate: X × real time (default 1; 0 = as fast as possible)",
    )
    src.add_argument(
        "--seed", type=int, default=None, help="with --simulate: the session's random seed"
    )
    phone = p.add_argument_group("phone (instead of a BLE sensor)")
    phone.add_argument(
        "--phone",
        choices=("sensorlogger", "phyphox"),
        help="stream from a phone on the shank: sensorlogger (the app pushes to a URL imu "
        "prints) or phyphox (imu polls the phone's remote access at --url)",
    )
    phone.add_argument(
        "--url", metavar="http://PHONE:8080", help="with --phone phyphox: its remote-access URL"
    )
    phone.add_argument(
        "--listen",
        metavar="ADDR[:PORT]",
        help="with --phone sensorlogger: address to listen on (default 127.0.0.1:8765; "
        "0.0.0.0 for a phone on the same Wi-Fi)",
    )
    phone.add_argument(
        "--token",
        metavar="TEXT",
        help="with --phone sensorlogger: the session token in the push URL (default: random)",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--out",
        metavar="FILE.csv",
        help="recording to write (default: recordings/session_<UTC time>.csv, or ./ if there "
        "is no recordings/ folder)",
    )
    out.add_argument(
        "--analysis-dir",
        metavar="DIR",
        help="where summary.json, reps.csv, charts and events.jsonl go (default: <out stem>/)",
    )
    out.add_argument(
        "--max-duration-s",
        type=float,
        default=0.0,
        metavar="S",
        help="stop by itself after S seconds of recording (default: until Ctrl-C)",
    )
    out.add_argument("--leg", choices=("left", "right"), help="the ankle wearing the sensor")
    add_chart_arguments(out)
    out.add_argument("--report", action="store_true", help="also write report.html (one page)")
    add_history_arguments(out)
    live = p.add_argument_group("live view and cues")
    add_live_arguments(live)
    live.add_argument(
        "--metronome",
        action="store_true",
        help="pace the target tempo (--tempo) with a cue at each phase during sets",
    )
    live.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no view, no sound, print nothing but errors",
    )
    add_settings_arguments(p)


# ---------------------------------------------------------------------------------------------


def default_out(now: datetime | None = None, *, cwd: Path | None = None) -> Path:
    """``recordings/session_<UTC>.csv`` if ``recordings/`` exists, else ``./session_<UTC>.csv``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = cwd if cwd is not None else Path()
    folder = base / RECORDINGS_DIR
    return (folder if folder.is_dir() else base) / f"session_{stamp}.csv"


def _check_options(args: argparse.Namespace) -> None:
    def positive(name: str, value: float, *, zero_ok: bool = False) -> None:
        ok = math.isfinite(value) and (value >= 0 if zero_ok else value > 0)
        if not ok:
            expected = "0 or more" if zero_ok else "more than 0"
            raise ConfigError(f"{name} {value:g}: expected {expected}")

    positive("--rate-hz", args.rate_hz)
    positive("--connect-timeout-s", args.connect_timeout_s)
    positive("--reconnect-timeout-s", args.reconnect_timeout_s)
    positive("--max-duration-s", args.max_duration_s, zero_ok=True)
    _check_phone_options(args)
    if args.simulate:
        if args.device is not None:
            raise ConfigError("--device and --simulate: choose one (a sensor or the virtual one)")
        if args.speed is not None:
            positive("--speed", args.speed, zero_ok=True)
        if args.profile is not None and args.profile.strip().lower() not in SIMULATE_PROFILES:
            raise ConfigError(
                f"--simulate --profile {args.profile}: the virtual sensor speaks "
                f"{' or '.join(SIMULATE_PROFILES)}"
            )
        if args.seed is not None and args.seed < 0:
            raise ConfigError(f"--seed {args.seed}: must not be negative")
    else:
        if args.speed is not None:
            raise ConfigError("--speed applies to --simulate only (a sensor streams in real time)")
        if args.seed is not None:
            raise ConfigError("--seed applies to --simulate only")


#: Sensor Logger's listening port unless --listen names one
DEFAULT_PHONE_PORT = 8765
#: with --phone sensorlogger, wait at least this long for the first batch (typing the URL), s
PHONE_CONNECT_MIN_S = 120.0


def _check_phone_options(args: argparse.Namespace) -> None:
    phone = getattr(args, "phone", None)
    if phone is None:
        for name in ("url", "listen", "token"):
            if getattr(args, name, None) is not None:
                raise ConfigError(f"--{name} applies to --phone only")
        return
    for name, flag in (("device", "--device"), ("profile", "--profile")):
        if getattr(args, name) is not None:
            raise ConfigError(f"--phone and {flag}: choose one (a phone or a BLE sensor)")
    if args.simulate:
        raise ConfigError("--phone and --simulate: choose one")
    if phone == "phyphox":
        _check_phyphox_options(args)
    else:
        _check_sensorlogger_options(args)


def _check_phyphox_options(args: argparse.Namespace) -> None:
    """``--phone phyphox`` polls the phone: it needs its ``--url`` and takes no listening
    options."""
    if not args.url:
        raise ConfigError("--phone phyphox needs --url http://PHONE:8080 (shown in phyphox)")
    if not args.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {args.url}: expected http://PHONE:PORT")
    if args.listen is not None or args.token is not None:
        raise ConfigError("--listen and --token apply to --phone sensorlogger")


def _check_sensorlogger_options(args: argparse.Namespace) -> None:
    """``--phone sensorlogger`` pushes to imu: a ``--listen`` address and ``--token`` of its
    own, no ``--url``."""
    if args.url is not None:
        raise ConfigError("--url applies to --phone phyphox (Sensor Logger pushes to imu)")
    _listen_address(args.listen)
    if args.token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", args.token):
        raise ConfigError("--token: 8–64 letters, digits, '-' or '_'")


def _listen_address(text: str | None) -> tuple[str, int]:
    """``ADDR[:PORT]`` (``[v6]:PORT`` too) → (host, port)."""
    if not text:
        return "127.0.0.1", DEFAULT_PHONE_PORT
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", text.strip())
    if m is None:
        raise ConfigError(f"--listen {text}: expected ADDR or ADDR:PORT, e.g. 0.0.0.0:8765")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4) or DEFAULT_PHONE_PORT)
    if not 0 < port < 65536:
        raise ConfigError(f"--listen {text}: port {port} is not 1–65535")
    return host, port


def _phone_factory(args: argparse.Namespace) -> Any:
    """``factory(on_status) -> SampleSource`` for ``--phone``; prints Sensor Logger's URL."""
    from imu.phone.live import PhyphoxSource, SensorLoggerSource

    if args.phone == "phyphox":

        def poll(on_status: StatusCallback) -> SampleSource:
            return PhyphoxSource(
                args.url,
                connect_timeout_s=args.connect_timeout_s,
                reconnect_timeout_s=args.reconnect_timeout_s,
                on_status=on_status,
            )

        return poll
    import secrets

    host, port = _listen_address(args.listen)
    token = args.token or secrets.token_urlsafe(9)

    def listen(on_status: StatusCallback) -> SampleSource:
        return SensorLoggerSource(
            host=host,
            port=port,
            token=token,
            connect_timeout_s=max(args.connect_timeout_s, PHONE_CONNECT_MIN_S),
            reconnect_timeout_s=args.reconnect_timeout_s,
            on_status=on_status,
        )

    if not args.quiet:
        probe = SensorLoggerSource(host=host, port=port, token=token)
        print("In Sensor Logger: Settings → Data Streaming → HTTP Push, enable it, URL:")
        for url in probe.urls():
            print(f"    {url}")
        if host.startswith("127.") or host in ("localhost", "::1"):
            print(
                "  (listening on this machine only: a phone on Wi-Fi cannot reach it; use "
                "--listen 0.0.0.0, or forward the port, e.g. adb reverse tcp:"
                f"{port} tcp:{port})"
            )
    return listen


def _paths(args: argparse.Namespace) -> tuple[Path, OutputDir]:
    csv = Path(args.out) if args.out else default_out()
    if csv.suffix.lower() != ".csv":
        raise ConfigError(f"--out {csv}: the recording must be a .csv file")
    if csv.exists():
        raise ConfigError(
            f"--out {csv}: the file exists; choose another name (nothing overwritten)"
        )
    check_output_file(csv, option="--out" if args.out else "")
    analysis = Path(args.analysis_dir) if args.analysis_dir else csv.with_suffix("")
    return csv, check_output_dir(analysis, option="--analysis-dir" if args.analysis_dir else "")


class NoMetronome:
    """A sink that passes every cue but the metronome's (the session paces a target tempo
    whenever there is one; ``--metronome`` decides whether it is heard)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def emit(self, cue: Cue) -> None:
        if cue.kind != "metronome":
            self.sink.emit(cue)

    def close(self) -> None:
        self.sink.close()


def _sink(args: argparse.Namespace, *, speed: float) -> Sink:
    from imu.live.audio import NullSink, RecordingSink, open_sink

    sink: Sink
    if args.quiet or args.audio == "quiet":
        sink = NullSink()
    elif speed == 0:
        sink = RecordingSink()  # a burst of cues faster than real time is not worth playing
    else:
        sink = open_sink(args.audio)
    return sink if args.metronome else NoMetronome(sink)


def _source_factory(args: argparse.Namespace, settings: Settings, metadata: dict[str, str]) -> Any:
    """``factory(on_status) -> SampleSource`` for a sensor or the virtual one; fills in
    ``metadata`` (leg, seed) for the virtual one."""
    from imu.live.acquire import BleSource, VirtualSource, simulated_session
    from imu.sensors import get_profile

    if getattr(args, "phone", None) is not None:
        return _phone_factory(args)
    if not args.simulate:

        def ble(on_status: StatusCallback) -> SampleSource:
            return BleSource(
                args.device,
                rate_hz=args.rate_hz,
                profile_key=args.profile,
                connect_timeout_s=args.connect_timeout_s,
                reconnect_timeout_s=args.reconnect_timeout_s,
                on_status=on_status,
            )

        return ble

    import secrets

    profile = get_profile(args.profile or "imu-ref")
    rate_hz = profile.nearest_rate_hz(args.rate_hz)
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    setup: Setup = "floor" if settings.exercise == "prone-leg-lift" else "bench"
    recording, sim_meta = simulated_session(seed=seed, rate_hz=rate_hz, setup=setup)
    metadata.setdefault("leg", sim_meta["leg"])
    metadata["simulated_seed"] = sim_meta["simulated_seed"]
    speed = 1.0 if args.speed is None else float(args.speed)

    def virtual(on_status: StatusCallback) -> SampleSource:
        return VirtualSource(
            recording,
            profile=profile,
            rate_hz=rate_hz,
            speed=speed,
            name=f"{profile.name_prefixes[0] if profile.name_prefixes else profile.key} virtual",
            on_status=on_status,
        )

    return virtual


async def _record(make: Any) -> RecordOutcome:
    """Run the recorder made by ``make()`` under Ctrl-C / SIGTERM handling: the first signal
    stops cleanly, a second one abandons the shutdown (the CSV is still closed whole)."""
    import asyncio  # here, not at the top: every command's module is imported to build the CLI

    recorder: LiveRecorder = make()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            recorder.request_stop()
        elif main is not None:
            main.cancel()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        return await recorder.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:

    from imu.batch import analyze_to_folder

    _check_options(args)
    settings = settings_from_args(args)
    if args.metronome and settings.tempo is None:
        raise ConfigError("--metronome needs a target tempo: add --tempo E-B-C-T, e.g. 3-0-2-1")
    csv, analysis = _paths(args)
    metadata = _recording_metadata(args)
    factory = _source_factory(args, settings, metadata)
    outcome = _capture(args, factory, settings, csv, analysis, metadata)
    if outcome.csv_path is None:
        raise _nothing_recorded(outcome)
    result, written, _session_id = analyze_to_folder(
        Path(outcome.csv_path), analysis, settings, output_options(args), keep=(EVENTS_FILE,)
    )
    if not args.quiet:
        print(
            f"recorded {outcome.rows} samples ({outcome.duration_s:.1f} s, "
            f"{_link_summary(outcome, phone=getattr(args, 'phone', None) is not None)}) "
            f"→ {outcome.csv_path}; {len(result.sets)} set(s), {result.rep_count} rep(s); "
            f"{len(written) + 1} file(s) in {analysis.path}/"
        )
    if outcome.live_error is not None:
        print(
            f"imu record: warning: {outcome.live_error}; the recording is complete", file=sys.stderr
        )
    if outcome.error is not None:
        raise outcome.error  # the link gave up: what arrived before is recorded and analysed
    return 0


def _recording_metadata(args: argparse.Namespace) -> dict[str, str]:
    """The recording CSV's metadata the options give: the leg, and a phone's app and axes."""
    metadata: dict[str, str] = {}
    if args.leg:
        metadata["leg"] = args.leg
    if getattr(args, "phone", None) is not None:
        metadata["source_app"] = {"sensorlogger": "Sensor Logger", "phyphox": "phyphox"}[args.phone]
        metadata["axes"] = "Android convention (specific force; right-handed rates)"
    return metadata


def _capture(
    args: argparse.Namespace,
    factory: Any,
    settings: Settings,
    csv: Path,
    analysis: OutputDir,
    metadata: dict[str, str],
) -> RecordOutcome:
    """Record from ``factory``'s source into ``csv`` with the live view and cues, the live
    events into ``analysis``; a second Ctrl-C raises KeyboardInterrupt (the CSV is closed)."""
    from imu.live.acquire import LiveRecorder
    from imu.live.audio import Cues
    from imu.live.view import LiveView

    speed = 1.0 if not args.simulate or args.speed is None else float(args.speed)
    view = LiveView(mode="off" if args.quiet else args.view)
    analysis.clear_earlier()  # this run's events.jsonl goes there as the samples arrive
    with Cues(_sink(args, speed=speed)) as cues, view:

        def make() -> LiveRecorder:
            return LiveRecorder(
                factory,
                settings=settings,
                csv_path=csv,
                events_path=analysis.path / EVENTS_FILE,
                view=view,
                cues=cues,
                metadata=metadata,
                max_duration_s=args.max_duration_s,
            )

        import asyncio  # here, not at the top: every command's module is imported for the CLI

        try:
            return asyncio.run(_record(make))
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None  # a second Ctrl-C: the CSV is closed, no analysis


def _nothing_recorded(outcome: RecordOutcome) -> ImuError:
    """Why a recording without a single sample wrote nothing: the link's error, a stop, or a
    silent sensor."""
    if outcome.error is not None:
        return outcome.error
    if outcome.stopped:
        return ImuError("stopped before the sensor streamed; nothing was recorded")
    return ImuError("the sensor sent no samples; nothing was recorded")


def _link_summary(outcome: RecordOutcome, *, phone: bool) -> str:
    """``N lost`` and, where there were any, the gaps (and for a phone, its reconnects and
    rejected requests), for the line ``imu record`` ends with."""
    stats = outcome.stats
    lost = stats.lost_samples if stats is not None else 0
    gaps = f", {len(outcome.gaps)} gap(s)" if outcome.gaps else ""
    if stats is not None and phone:
        if stats.reconnects:
            gaps += f", the phone went quiet and came back {stats.reconnects}×"
        if stats.malformed:
            gaps += f", {stats.malformed} request(s) rejected ({stats.last_error})"
    return f"{lost} lost{gaps}"
