"""drivers.ssh_wire's logging shortcut: asyncssh still logs what its levels ask for, and a
session still works with it. Real SSH to a lab device on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import asyncssh
import pytest

from catalog.secrets import Secret
from drivers.asyncssh_provider import AsyncsshProvider
from drivers.base import Credentials, DeviceTarget
from nettui.lab import LabThread, run_lab_in_thread

PASSWORD, ENABLE = "Lab-Pa55word-wire", "Lab-En4ble-wire"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=1, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


def _session(lab: LabThread) -> str:
    device = lab.devices[0]
    creds = Credentials(Secret("admin"), Secret(PASSWORD), Secret(ENABLE))
    target = DeviceTarget(device.name, device.host, device.port, "cisco_ios", creds, timeout=10)

    async def run() -> str:
        async with AsyncsshProvider(target) as provider:
            return (await provider.send_command("show version")).output

    return asyncio.run(run())


def _asyncssh_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("asyncssh")]


def test_info_lines_are_logged_when_info_is_on(lab: LabThread, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="asyncssh"):
        assert "Cisco IOS" in _session(lab)
    lines = _asyncssh_lines(caplog)
    assert any("Opening SSH connection to" in line for line in lines)
    assert any("Auth for user admin succeeded" in line for line in lines)
    assert not any(line.startswith("[pktid") or "Sent MSG_" in line for line in lines)


def test_nothing_below_the_level_is_logged(lab: LabThread, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="asyncssh"):
        assert "Cisco IOS" in _session(lab)
    assert _asyncssh_lines(caplog) == []


def test_packets_are_logged_at_debug_level_3(lab: LabThread, caplog: pytest.LogCaptureFixture) -> None:
    asyncssh.set_debug_level(3)
    try:
        with caplog.at_level(logging.DEBUG, logger="asyncssh"):
            assert "Cisco IOS" in _session(lab)
    finally:
        asyncssh.set_debug_level(1)
    lines = _asyncssh_lines(caplog)
    assert any("Sent MSG_KEXINIT" in line for line in lines)
    assert any("Received MSG_CHANNEL_DATA" in line for line in lines)
