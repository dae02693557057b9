"""``imu record --phone`` through real HTTP on loopback: a pusher replaying a recording as Sensor
Logger batches at real pace (drops, duplicates, reordering, garbage, a phone that stops) and a
fake phyphox remote-access server; the merger's rules on their own."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imu.cli import main
from imu.phone.live import StreamMerger
from imu.phone.streams import Convention
from imu.recording import Recording, read_recording
from imu.simulate import random_spec, simulate_session
from imu.simulate.phone import PhoneSamples, phone_samples, sensorlogger_push_batches

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402

DURATION_S = 7.0


@pytest.fixture(scope="module")
def samples() -> PhoneSamples:
    spec = random_spec(np.random.default_rng(3), setup="bench", faults=False)
    spec = dataclasses.replace(
        spec,
        rate_hz=50.0,
        reps_per_set=(3,),
        sensor=dataclasses.replace(spec.sensor, jitter_s=0.0, drop_runs_per_min=0.0),
    )
    rec: Recording = simulate_session(spec, seed=3).recording
    return phone_samples(rec.slice_time(5.0, 5.0 + DURATION_S))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _record_in_thread(argv: list[str]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["code"] = main(argv)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _events(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


# --------------------------------------------------------------------------------------------


def test_merger_takes_every_sample_once_whatever_the_order() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 4.0, 0.01)
    gyro = np.column_stack([np.sin(t), np.cos(t), t])
    acc_t = t + 0.004
    acc = np.column_stack([acc_t, -acc_t, np.full_like(acc_t, 9.8)])
    m = StreamMerger(convention=Convention(), gravity_separate=False, reorder_s=0.5)
    batches = [(k, "gyro", t[k : k + 20], gyro[k : k + 20]) for k in range(0, 400, 20)]
    batches += [(k, "acc_total", acc_t[k : k + 20], acc[k : k + 20]) for k in range(0, 400, 20)]
    order = sorted(batches, key=lambda b: b[0] + rng.uniform(0, 30))  # late and shuffled
    order += order[5:9]  # some sent twice
    out = []
    for _k, kind, bt, bv in order:
        m.add(kind, bt, bv)  # type: ignore[arg-type]
        block = m.release()
        if block is not None:
            out.append(block)
    final = m.release(final=True)
    if final is not None:
        out.append(final)
    times = np.concatenate([b.time_s for b in out])
    assert np.all(np.diff(times) > 0)  # in order, nothing twice
    assert m.stats.duplicates == 4 * 20  # the four batches sent twice
    assert m.stats.late == 0  # none later than the reorder window
    assert m.stats.released + m.stats.unmatched == 400  # every gyroscope sample, once
    np.testing.assert_allclose(
        np.concatenate([b.gyro_dps for b in out])[:, 2], np.degrees(t[np.isin(t - t[0], times)])
    )
    # a batch later than the window is counted as late, not slipped in out of order
    m.add("gyro", t[:5], gyro[:5])  # already released: duplicates
    m.add("gyro", t[:5] + 0.001, gyro[:5])  # new instants, too late
    assert m.stats.duplicates == 85 and m.stats.late == 5


def _flaky_phone_plan(n: int) -> list[int]:
    """The order in which a flaky phone sends ``n`` push batches: two pairs arrive swapped
    (20 and 21, 22 and 23), three are sent twice (5, 6, 30)."""
    order = list(range(n))
    for k in range(20, 24, 2):  # two pairs arrive swapped
        order[k], order[k + 1] = order[k + 1], order[k]
    plan: list[int] = []
    for k in order:
        plan.append(k)
        if k in (5, 6, 30):
            plan.append(k)  # sent twice
    return plan


def _bad_requests(
    url: str, token: str, message: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Requests the server must refuse, as ``(url, client.post's arguments)``: not JSON, not a
    push, no sensor imu uses, too large, and a good ``message`` with the wrong token."""
    return [
        (url, {"data": b"{not json"}),
        (url, {"json": {"hello": 1}}),
        (url, {"json": {"messageId": 1, "payload": [{"name": "battery", "time": 1}]}}),
        (url, {"data": io.BytesIO(b"[" + b"0," * (3 << 20) + b"0]")}),
        (url.replace(token, "wrong-token-xyz"), {"json": message}),
    ]


async def _wait_for_server(client: aiohttp.ClientSession, url: str) -> None:
    """Post empty batches to ``url`` until the recorder's server answers (5 s at most)."""
    for _ in range(100):
        try:
            async with client.post(url, json={"payload": []}) as r:
                await r.read()
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)


async def _push(
    url: str,
    batches: list[tuple[float, dict[str, Any]]],
    *,
    plan: list[int],
    dropped: set[int],
    bad: list[tuple[str, dict[str, Any]]],
) -> tuple[list[int], set[int]]:
    """Push the ``batches`` in the order of ``plan`` at their real pace, as Sensor Logger
    does, but for the ``dropped`` ones; the phone stops sending for 4 s before batch 25, and
    one of the ``bad`` requests follows every seventh batch. Returns the HTTP statuses and the
    times of the gyroscope samples sent."""
    statuses: list[int] = []
    sent_gyro: set[int] = set()
    bad = list(bad)
    async with aiohttp.ClientSession() as client:
        await _wait_for_server(client, url)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for i, k in enumerate(plan):
            due, message = batches[k]
            if k >= 25:
                due += 4.0  # the phone stops sending for 4 s
            await asyncio.sleep(max(0.0, t0 + due - loop.time()))
            if k in dropped:
                continue
            async with client.post(url, json=message) as r:
                statuses.append(r.status)
            sent_gyro.update(p["time"] for p in message["payload"] if p["name"] == "gyroscope")
            if i % 7 == 3 and bad:
                target, kwargs = bad.pop()
                try:
                    async with client.post(target, **kwargs) as r:
                        statuses.append(r.status)
                except aiohttp.ClientError:
                    statuses.append(413)  # the server may close on an oversized body
    return statuses, sent_gyro


def test_sensorlogger_push_through_real_http(
    tmp_path: Path, samples: PhoneSamples, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    token = "test-token-123"
    csv = tmp_path / "phone.csv"
    thread, result = _record_in_thread(
        [
            "record",
            "--phone",
            "sensorlogger",
            "--listen",
            f"127.0.0.1:{port}",
            "--token",
            token,
            "--out",
            str(csv),
            "--view",
            "off",
            "--audio",
            "quiet",
            "--no-plots",
            "--max-duration-s",
            "11",
            "--reconnect-timeout-s",
            "30",
        ]
    )
    batches = sensorlogger_push_batches(samples, batch_s=0.2)
    url = f"http://127.0.0.1:{port}/push/{token}"
    statuses, sent_gyro = asyncio.run(
        _push(
            url,
            batches,
            plan=_flaky_phone_plan(len(batches)),
            dropped={12, 13},  # lost on the Wi-Fi
            bad=_bad_requests(url, token, batches[0][1]),
        )
    )
    thread.join(timeout=60)
    assert not thread.is_alive() and result["code"] == 0
    assert sorted(set(statuses)) == [200, 400, 403, 413, 422]
    rec = read_recording(csv)
    assert rec.metadata["source_app"] == "Sensor Logger"
    # nothing doubled, nothing lost: every gyroscope sample that arrived is a row, once
    t0_ns = min(sent_gyro)
    sent = np.array(sorted(sent_gyro), dtype=np.int64)
    recorded_ns = t0_ns + np.rint(rec.time_s * 1e9).astype(np.int64)
    assert np.all(np.diff(rec.time_s) > 0)
    lost = np.setdiff1d(sent, recorded_ns + np.array([[-1], [0], [1]]))
    events = _events(csv.with_suffix(""))
    gaps = [e for e in events if e["event"] == "gap"]
    # at most the samples at the edges of the stream and of the gap, whose accelerometer
    # partner lies beyond them (a gyroscope sample is never paired across a gap)
    assert lost.shape[0] <= 2 + len(gaps), (lost - t0_ns) / 1e9
    assert len(rec) == sent.shape[0] - lost.shape[0]
    print(
        f"\nsensorlogger: {sent.shape[0]} gyroscope samples arrived, {len(rec)} recorded once "
        f"each, {lost.shape[0]} at stream/gap edges unpaired, "
        f"{sum(g['missing_samples'] for g in gaps)} reported missing in {len(gaps)} gap(s)"
    )
    assert gaps and sum(g["missing_samples"] for g in gaps) >= 18  # 2 batches of 10 at 50 Hz
    assert (csv.with_suffix("") / "summary.json").exists()
    printed = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/push/{token}" in printed  # the URL to type in
    assert "the phone went quiet and came back 1×" in printed
    assert "6 request(s) rejected" in printed  # 5 bad ones and the empty probe


class _FakePhyphox:
    """phyphox's remote access for a recording, released at real pace, with the odd failed or
    garbled answer, overlapping answers and a pause."""

    def __init__(self, s: PhoneSamples) -> None:
        self.s = s
        self.t0: float | None = None
        self.gets = 0
        self.measuring = False

    def elapsed(self) -> float:
        loop = asyncio.get_running_loop()
        if self.t0 is None:
            return -1.0
        e = loop.time() - self.t0
        return e if e < 3.0 else (3.0 if e < 7.0 else e - 4.0)  # 4 s without new data

    async def config(self, request: web.Request) -> web.Response:
        def out(prefix: str, t: str) -> list[dict[str, str]]:
            return [{"x": prefix + "X"}, {"y": prefix + "Y"}, {"z": prefix + "Z"}, {"t": t}]

        body = {"title": "acc+gyr", "inputs": [
            {"source": "accelerometer", "outputs": out("acc", "acc_time")},
            {"source": "gyroscope", "outputs": out("gyr", "gyr_time")},
        ]}  # fmt: skip
        return web.json_response(body)

    async def control(self, request: web.Request) -> web.Response:
        if request.query.get("cmd") == "start" and not self.measuring:
            self.measuring = True
            self.t0 = asyncio.get_running_loop().time()
        return web.json_response({"result": True})

    async def get(self, request: web.Request) -> web.Response:
        self.gets += 1
        if self.gets % 9 == 0:
            return web.Response(status=500, text="busy")
        if self.gets % 13 == 0:
            return web.Response(text='{"buffer": {"acc_time": ')
        now = self.elapsed()
        s = self.s
        streams = {
            "acc": (s.acc_t_s - s.gyro_t_s[0], s.acc_mps2),
            "gyr": (s.gyro_t_s - s.gyro_t_s[0], s.gyro_rads),
        }
        buffers = {}
        for name, (t, v) in streams.items():
            q = request.query.get(f"{name}_time", "full")
            since = -np.inf if q == "full" else float(q) - 0.05  # overlaps: duplicates
            sel = (t > since) & (t <= now)
            buffers[f"{name}_time"] = {
                "size": 0,
                "updateMode": "partial",
                "buffer": t[sel].tolist(),
            }
            for i, axis in enumerate("XYZ"):
                buffers[f"{name}{axis}"] = {"size": 0, "updateMode": "partial",
                                            "buffer": v[sel, i].tolist()}  # fmt: skip
        status = {"session": "abc", "measuring": self.measuring, "timedRun": False, "countDown": 0}
        return web.json_response({"buffer": buffers, "status": status})


def test_phyphox_remote_access_through_real_http(tmp_path: Path, samples: PhoneSamples) -> None:
    port = _free_port()
    fake = _FakePhyphox(samples)
    ready = threading.Event()
    stop: dict[str, Callable[[], None]] = {}

    def serve() -> None:
        async def run() -> None:
            app = web.Application()
            app.router.add_get("/config", fake.config)
            app.router.add_get("/control", fake.control)
            app.router.add_get("/get", fake.get)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            done = asyncio.Event()
            loop = asyncio.get_running_loop()
            stop["fn"] = lambda: loop.call_soon_threadsafe(done.set)
            ready.set()
            await done.wait()
            await runner.cleanup()

        asyncio.run(run())

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    assert ready.wait(10)
    csv = tmp_path / "phyphox.csv"
    try:
        code = main(
            [
                "record",
                "--phone",
                "phyphox",
                "--url",
                f"http://127.0.0.1:{port}",
                "--out",
                str(csv),
                "--view",
                "off",
                "--audio",
                "quiet",
                "--no-plots",
                "--max-duration-s",
                "10",
            ]
        )
    finally:
        stop["fn"]()
        server.join(10)
    assert code == 0
    rec = read_recording(csv)
    released = samples.gyro_t_s - samples.gyro_t_s[0]
    expected = released[released <= rec.time_s[-1] + 1e-9]
    assert np.all(np.diff(rec.time_s) > 0)  # no sample twice despite the overlapping answers
    assert len(rec) >= expected.shape[0] - 2  # none lost despite the failed answers
    print(
        f"\nphyphox: {expected.shape[0]} samples served up to the end, {len(rec)} recorded, "
        f"{fake.gets} polls (every 9th failed, every 13th garbled, answers overlapping)"
    )
    assert rec.metadata["source_app"] == "phyphox"
    events = _events(csv.with_suffix(""))
    assert not [e for e in events if e["event"] == "gap"]  # a pause in phyphox loses nothing
