"""imu.ble.SensorLink through bleak's real BlueZ backend, against a fake BlueZ with virtual sensors.

Each test gets its own dbus-daemon and fake (fixtures in ``tests/fakebluez``); the code under test
runs in the main thread under one ``asyncio.run``, the fake in a background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest
from fakebluez import FakeBluezThread, Faults, Peripheral, VirtualSensor, leg_motion

from imu.ble import LinkState, LinkStats, LinkStatus, SensorLink, stream
from imu.errors import SensorError
from imu.sensors import get_profile
from imu.sensors.base import SampleBlock

pytestmark = pytest.mark.ble

StartFake = Callable[..., FakeBluezThread]


def sensor(
    key: str = "imu-ref",
    *,
    rate_hz: float = 100.0,
    n: int = 1,
    spn: int = 1,
    faults: Faults | None = None,
    **kwargs: object,
) -> VirtualSensor:
    profile = get_profile(key)
    return VirtualSensor(
        address=kwargs.pop("address", f"C0:FF:EE:00:00:{n:02X}"),  # type: ignore[arg-type]
        name=kwargs.pop("name", f"{profile.name_prefixes[0]} {n:02d}"),  # type: ignore[arg-type]
        profile=profile,
        rate_hz=profile.nearest_rate_hz(rate_hz),
        samples_per_notification=spn,
        faults=faults or Faults(),
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass
class Run:
    blocks: list[SampleBlock] = field(default_factory=list)
    statuses: list[LinkStatus] = field(default_factory=list)
    stats: LinkStats | None = None
    error: SensorError | None = None
    found_address: str | None = None

    @property
    def states(self) -> list[LinkState]:
        return [s.state for s in self.statuses]

    @property
    def time_s(self) -> npt.NDArray[np.float64]:
        if not self.blocks:
            return np.zeros(0)
        return np.concatenate([b.time_s for b in self.blocks])

    @property
    def acc_g(self) -> npt.NDArray[np.float64]:
        return np.concatenate([b.acc_g for b in self.blocks])


def stream_for(duration_s: float, device: str | None = None, **kwargs: object) -> Run:
    """Open a link, consume blocks for ``duration_s`` seconds of streaming, close it, and
    collect everything that arrived (the consumer drains the queue to the end)."""
    run = Run()
    kwargs.setdefault("rate_hz", 100.0)
    kwargs.setdefault("connect_timeout_s", 5.0)

    async def main() -> None:
        link = SensorLink(device, on_status=run.statuses.append, **kwargs)  # type: ignore[arg-type]
        async with link:
            run.found_address = link.found.address if link.found else None

            async def stop_later() -> None:
                await asyncio.sleep(duration_s)
                await link.aclose()

            stopper = asyncio.create_task(stop_later())
            try:
                async for block in link.blocks():
                    run.blocks.append(block)
            except SensorError as exc:
                run.error = exc
            finally:
                stopper.cancel()
                await asyncio.gather(stopper, return_exceptions=True)
            run.stats = link.stats

    asyncio.run(main())
    return run


def delivered(fake: FakeBluezThread, s: VirtualSensor) -> npt.NDArray[np.int64]:
    return fake.call(s.delivered_indices)


def assert_every_delivered_sample_arrived(run: Run, s: VirtualSensor, fake: FakeBluezThread):
    idx = delivered(fake, s)
    t = run.time_s
    assert len(idx) > 0
    assert len(t) == len(idx), f"received {len(t)} samples, the sensor delivered {len(idx)}"
    assert np.all(np.diff(t) > 0), "sample times must be strictly increasing"
    return idx, t


# --- streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize(("rate_hz", "spn"), [(100.0, 4), (400.0, 8)])
def test_imu_ref_streams_every_sample_in_order_with_device_clock(
    fake_bluez: StartFake, rate_hz: float, spn: int
) -> None:
    s = sensor("imu-ref", rate_hz=rate_hz, spn=spn)
    fake = fake_bluez(s)
    run = stream_for(2.0, rate_hz=rate_hz)

    idx, t = assert_every_delivered_sample_arrived(run, s, fake)
    assert len(idx) >= 1.5 * rate_hz
    # device-clock times, not arrival times: exactly the sensor's sample times
    np.testing.assert_allclose(t, s.sample_time_s(idx), atol=2e-6, rtol=0)
    assert np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx)))
    acc, _ = leg_motion(t - s.device_t0_s)
    np.testing.assert_allclose(run.acc_g, acc, atol=1e-3)
    assert run.stats is not None
    assert run.stats.notifications == len(idx) // spn
    assert run.stats.lost_samples == 0 and run.stats.malformed == 0
    assert run.stats.reconnects == 0
    assert run.stats.effective_rate_hz == pytest.approx(rate_hz, rel=0.15)
    assert run.states == [
        LinkState.SEARCHING,
        LinkState.CONFIGURING,
        LinkState.STREAMING,
        LinkState.CLOSED,
    ]
    profile = get_profile("imu-ref")
    written = fake.call(lambda: list(fake.fake.device(s.address).written))
    assert written == [
        (w.char_uuid, w.data) for w in profile.start_commands(rate_hz) + profile.stop_commands()
    ]


@pytest.mark.parametrize(
    ("key", "rate_hz", "spn"),
    [
        ("witmotion", 100.0, 1),
        ("movesense", 100.0, 4),
        ("movesense", 400.0, 8),
        ("thingy52", 100.0, 1),
        ("polar", 100.0, 4),
    ],
)
def test_other_profiles_stream_every_delivered_sample(
    fake_bluez: StartFake, key: str, rate_hz: float, spn: int
) -> None:
    s = sensor(key, rate_hz=rate_hz, spn=spn)
    fake = fake_bluez(s)
    run = stream_for(1.5, rate_hz=rate_hz)

    idx, t = assert_every_delivered_sample_arrived(run, s, fake)
    assert run.stats is not None and run.stats.malformed == 0
    period = 1.0 / s.rate_hz
    assert np.median(np.diff(t)) == pytest.approx(period, rel=0.05)
    acc, _ = leg_motion(s.sample_time_s(idx) - s.device_t0_s)
    np.testing.assert_allclose(run.acc_g, acc, atol=2e-3)


# --- reconnects -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["imu-ref", "movesense"])
def test_unexpected_disconnect_reconnects_and_reports_the_gap(
    fake_bluez: StartFake, key: str
) -> None:
    s = sensor(key, spn=4, faults=Faults(disconnect_after_s=0.8, away_s=0.6))
    fake = fake_bluez(s)
    run = stream_for(2.6, reconnect_timeout_s=5.0)

    assert run.error is None
    idx, t = assert_every_delivered_sample_arrived(run, s, fake)
    assert fake.call(lambda: s.disconnects) == 1
    states = run.states
    i = states.index(LinkState.DISCONNECTED)
    assert states[:3] == [LinkState.SEARCHING, LinkState.CONFIGURING, LinkState.STREAMING]
    assert LinkState.RECONNECTING in states[i:]
    assert states[i:].count(LinkState.CONFIGURING) >= 1
    assert states[i:].count(LinkState.STREAMING) == 1
    assert states[-1] is LinkState.CLOSED
    # the samples the sensor took while it was away are a real gap, reported once
    jumps = np.flatnonzero(np.diff(idx) > 1)
    assert len(jumps) == 1
    missing = int(idx[jumps[0] + 1] - idx[jumps[0]] - 1)
    assert missing >= 0.5 * s.rate_hz  # away ≥ 0.6 s
    gaps = [st.gap for st in run.statuses if st.state is LinkState.GAP]
    assert len(gaps) == 1 and gaps[0] is not None
    assert gaps[0].reconnect
    assert abs(gaps[0].missing_samples - missing) <= 1
    assert gaps[0].start_s == pytest.approx(t[jumps[0]])
    assert gaps[0].end_s == pytest.approx(t[jumps[0] + 1])
    assert run.stats is not None
    assert run.stats.reconnects == 1
    assert abs(run.stats.lost_samples - missing) <= 1
    if key == "imu-ref":
        np.testing.assert_allclose(t, s.sample_time_s(idx), atol=2e-6, rtol=0)


def test_gives_up_after_the_reconnect_timeout(fake_bluez: StartFake) -> None:
    s = sensor(spn=4, faults=Faults(disconnect_after_s=0.4, away_s=30.0))
    fake = fake_bluez(s)
    started = time.monotonic()
    run = stream_for(10.0, reconnect_timeout_s=1.0)
    elapsed = time.monotonic() - started

    assert run.error is not None
    assert "gave up" in str(run.error)
    assert elapsed < 5.0
    assert LinkState.GAVE_UP in run.states
    assert LinkState.RECONNECTING in run.states
    # what arrived before the drop was all decoded before the error
    assert_every_delivered_sample_arrived(run, s, fake)


# --- faults -------------------------------------------------------------------------------


def test_dropped_and_malformed_notifications_are_counted(fake_bluez: StartFake) -> None:
    faults = Faults(drop_every=7, garbage_every=5, truncate_every=11)
    s = sensor(spn=4, faults=faults)
    fake = fake_bluez(s)
    run = stream_for(1.5)

    idx, t = assert_every_delivered_sample_arrived(run, s, fake)
    np.testing.assert_allclose(t, s.sample_time_s(idx), atol=2e-6, rtol=0)
    dropped, garbage, truncated = fake.call(lambda: (s.dropped, s.garbage_sent, s.truncated_sent))
    assert dropped > 0 and garbage > 0 and truncated > 0
    assert run.stats is not None
    assert run.stats.malformed == garbage + truncated
    missing = int(idx[-1] - idx[0] + 1 - len(idx))
    assert run.stats.lost_samples == missing
    gaps = [st.gap for st in run.statuses if st.state is LinkState.GAP]
    assert gaps and all(g is not None and not g.reconnect for g in gaps)
    assert sum(g.missing_samples for g in gaps if g is not None) == missing
    assert run.error is None


# --- sensors that never answer --------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (Faults(connect_hangs=True), "did not accept a connection within 1.5 s"),
        (Faults(silent=True), "connected but sent no data within 1.5 s"),
    ],
)
def test_sensor_that_never_answers_raises_after_the_bounded_wait(
    fake_bluez: StartFake, faults: Faults, message: str
) -> None:
    fake_bluez(sensor(faults=faults))
    started = time.monotonic()
    with pytest.raises(SensorError, match=message):
        stream_for(1.0, connect_timeout_s=1.5)
    assert 1.4 < time.monotonic() - started < 4.0


def test_no_sensor_found(fake_bluez: StartFake) -> None:
    fake_bluez(Peripheral(address="11:22:33:44:55:66", name="Headphones"))
    with pytest.raises(SensorError, match="no supported sensor found within 1 s"):
        stream_for(1.0, connect_timeout_s=1.0)
    with pytest.raises(SensorError, match="sensor 'IMU-REF 09' not found within 1 s"):
        stream_for(1.0, "IMU-REF 09", connect_timeout_s=1.0)


def test_picks_the_requested_device_by_name_or_address(fake_bluez: StartFake) -> None:
    a, b = sensor(n=1, spn=4), sensor(n=2, spn=4)
    fake_bluez(a, b)
    assert stream_for(0.3, "IMU-REF 02").found_address == b.address
    assert stream_for(0.3, a.address.lower()).found_address == a.address


def test_unsupported_device_needs_a_profile(fake_bluez: StartFake) -> None:
    diy = sensor(name="DIY-IMU", spn=4, advertise_service=False)
    fake = fake_bluez(diy)
    started = time.monotonic()
    with pytest.raises(SensorError, match=r"DIY-IMU .* is not a sensor this tool knows"):
        stream_for(0.5, "DIY-IMU", connect_timeout_s=5.0)
    assert time.monotonic() - started < 3.0
    # --profile says which protocol it speaks
    run = stream_for(0.8, "DIY-IMU", profile_key="imu-ref")
    assert_every_delivered_sample_arrived(run, diy, fake)


def test_wrong_profile_is_a_clear_error(fake_bluez: StartFake) -> None:
    fake_bluez(sensor(name="DIY-IMU", spn=4, advertise_service=False))
    with pytest.raises(SensorError, match=r"has no characteristic .* \(try another --profile\)"):
        stream_for(0.5, "DIY-IMU", profile_key="witmotion")


def test_a_link_that_goes_silent_is_reconnected(fake_bluez: StartFake) -> None:
    s = sensor(spn=4, faults=Faults(mute_after_s=0.5, mute_s=1.0))
    fake = fake_bluez(s)
    run = stream_for(2.5, stall_timeout_s=0.4)

    assert run.error is None
    idx, _ = assert_every_delivered_sample_arrived(run, s, fake)
    assert "went silent" in next(
        st.message for st in run.statuses if st.state is LinkState.DISCONNECTED
    )
    assert run.stats is not None and run.stats.reconnects >= 1
    missing = int(idx[-1] - idx[0] + 1 - len(idx))
    assert missing >= 0.8 * s.rate_hz
    assert abs(run.stats.lost_samples - missing) <= 1


def test_stream_iterator(fake_bluez: StartFake) -> None:
    fake_bluez(sensor(spn=4))
    statuses: list[LinkStatus] = []

    async def main() -> int:
        n = 0
        blocks = stream(None, rate_hz=100.0, connect_timeout_s=5.0, on_status=statuses.append)
        async with contextlib.aclosing(blocks):
            async for block in blocks:
                n += len(block)
                if n >= 50:
                    break
        return n

    assert asyncio.run(main()) >= 50
    assert statuses[-1].state is LinkState.CLOSED
