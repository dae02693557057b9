"""A private ``dbus-daemon`` for one test: allow-all policy, socket in a temp directory."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DbusDaemon", "dbus_daemon_available", "start_dbus_daemon"]

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon_available() -> bool:
    return shutil.which("dbus-daemon") is not None


@dataclass
class DbusDaemon:
    """A running ``dbus-daemon``; :meth:`stop` ends it (only this process, by its own pid)."""

    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_dbus_daemon(directory: Path) -> DbusDaemon:
    """Start a private bus whose socket lives in ``directory``; return once it accepts clients."""
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "bus.sock"
    config = directory / "bus.conf"
    config.write_text(_CONFIG.format(socket=socket_path), encoding="utf-8")
    process = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # it warns that it cannot raise its fd limit
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()  # printed once the socket listens
    if not line:
        process.wait(timeout=5)
        process.stdout.close()
        raise RuntimeError(f"dbus-daemon did not start (exit code {process.returncode})")
    return DbusDaemon(address=line, process=process)
