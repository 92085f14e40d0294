"""One provider, one SSH session: ``async with await connect(...)`` logs in once with every SSH
driver, and libscrapli never calls back into a scrapli Cli that Python has freed.

``connect()`` returns an open provider and ``async with`` opened it again: netmiko and asyncssh
logged in twice and leaked the first connection, and scrapli dropped its first Cli while
libscrapli's I/O thread still ran with a pointer to the Cli's logger callback. When the device
later closed that connection (a lab stopping at the end of a test module), libscrapli logged the
read error through the freed callback and the process died with SIGSEGV or SIGILL: an xdist
worker crashing in whichever test it ran at that moment.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.store import Store
from drivers.connect import connect
from nettui.lab import LabThread, run_lab_in_thread
from tests.lab_store import add_lab_devices

pytestmark = pytest.mark.slow

PASSWORD = "Lab-Pa55word-sessions"
ENABLE = "Lab-En4ble-sessions"
DRIVERS = ["netmiko", "scrapli", "asyncssh"]
REPO = Path(__file__).resolve().parent.parent
_ESTABLISHED = "01"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=3, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


@pytest.fixture
def lab_store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    return add_lab_devices(sqlite_store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)


def _connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:``port`` (the device), as the kernel lists them;
    the lab's own end of each has the device's port as its local port, so it is not counted."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if state == _ESTABLISHED and int(remote.split(":")[1], 16) == port:
            count += 1
    return count


@pytest.mark.parametrize("driver", DRIVERS)
def test_async_with_on_a_connected_provider_logs_in_once(lab: LabThread, lab_store: Store, driver: str) -> None:
    device = lab.devices[DRIVERS.index(driver)]
    seen: list[int] = []

    async def session() -> None:
        async with await connect(lab_store, device.name, driver) as dev:
            await dev.send_command("show version")
            seen.append(_connections_to(device.port))
            await dev.open()  # open on an open provider changes nothing either
            seen.append(_connections_to(device.port))
            assert (await dev.send_command("show clock")).output.strip()

    asyncio.run(session())
    assert seen == [1, 1]
    # Closed: the kernel may list the socket a moment longer under load (CI saw one), so wait
    # for it, a bounded while; a leaked session stays established and fails this.
    deadline = time.monotonic() + 5
    while _connections_to(device.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connections_to(device.port) == 0


# Run in a process of its own: before the fix it died of SIGSEGV/SIGILL once the lab stopped.
_SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, sys
    from catalog.secrets import Secret
    from drivers.base import Credentials, DeviceTarget
    from drivers.scrapli_provider import ScrapliProvider
    from nettui.lab import run_lab_in_thread

    PASSWORD, ENABLE = sys.argv[1], sys.argv[2]

    def provider(device):
        creds = Credentials(Secret("admin"), Secret(PASSWORD), Secret(ENABLE))
        return ScrapliProvider(DeviceTarget(device.name, device.host, device.port, "cisco_ios", creds, timeout=5))

    async def main(lab):
        first, second, third = lab.devices
        for device in (first, second):  # what `async with await connect(...)` does, twice
            dev = provider(device)
            await dev.open()
            async with dev:
                await dev.send_command("show version")
            del dev
            gc.collect()
        dropped = provider(second)  # opened and never closed
        await dropped.open()
        del dropped
        lab.set_faults(third.name, slow_output=30.0)  # the open is cancelled half-way
        try:
            await asyncio.wait_for(provider(third).open(), 1.0)
        except TimeoutError:
            print("open cancelled")
        gc.collect()

    with run_lab_in_thread(devices=3, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE) as lab:
        asyncio.run(main(lab))
    # The lab has closed every connection: libscrapli's I/O threads log the read errors now.
    gc.collect()
    junk = [bytearray(64) for _ in range(10_000)]
    print("lab stopped")
    """
)


def test_scrapli_sessions_outlive_neither_their_callbacks_nor_the_device(tmp_path: Path) -> None:
    script = tmp_path / "scrapli_sessions.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}
    done = subprocess.run(
        [sys.executable, str(script), PASSWORD, ENABLE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    assert done.stdout.split() == ["open", "cancelled", "lab", "stopped"]
    assert PASSWORD not in done.stderr and ENABLE not in done.stderr
