"""The asyncssh provider over real SSH to the lab: every platform and command family, one error
type per fault, host keys trusted on first use and changes refused, no secret in any log line
or exception, and a fan-out over many devices in one event loop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.store import Store
from drivers.connect import choose_driver, connect
from drivers.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConfigurationError,
    ConnectionDropped,
    CredentialsError,
    DeviceError,
    DeviceUnreachable,
    EnableFailed,
    HostKeyChanged,
)
from drivers.fanout import for_each_device
from nettui.lab import LabThread, run_lab_in_thread
from tests.conftest import run_cli
from tests.lab_store import add_lab_devices

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
PASSWORD = "Lab-Pa55word-kept-secret"
ENABLE = "Lab-En4ble-kept-secret"
SHOWS = {
    "cisco_ios": ["show ip interface brief", "show interfaces status", "show vlan brief", "show inventory"],
    "cisco_nxos": ["show ip interface brief", "show interface status", "show vlan brief", "show inventory"],
    "arista_eos": ["show ip interface brief", "show interfaces status", "show vlan", "show inventory"],
    "juniper_junos": ["show interfaces terse", "show vlans", "show lldp neighbors", "show chassis hardware"],
}
CHANGE = {
    "cisco_ios": ["vlan 321", "name from-asyncssh"],
    "cisco_nxos": ["vlan 321", "name from-asyncssh"],
    "arista_eos": ["vlan 321", "name from-asyncssh"],
    "juniper_junos": ["set vlans from-asyncssh vlan-id 321"],
}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(
        devices=12, platforms=PLATFORMS, password=PASSWORD, enable_secret=ENABLE, reload_seconds=1
    ) as handle:
        yield handle


@pytest.fixture
def lab_store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The lab's devices in a store, with credentials referenced from the environment."""
    return add_lab_devices(sqlite_store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)


def _device(lab: LabThread, platform: str, index: int = 0) -> str:
    return [d for d in lab.devices if d.platform_name == platform][index].name


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _close_after(opening: Any) -> None:
    provider = await opening
    await provider.close()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_command_family_on_each_platform(lab: LabThread, lab_store: Store, platform: str) -> None:
    name = _device(lab, platform, 0)

    async def session() -> None:
        async with await connect(lab_store, name, "asyncssh") as dev:
            assert dev.name == "asyncssh"
            facts = await dev.get_facts()
            assert facts["hostname"] == name
            assert facts["version"] and facts["model"]
            for command in SHOWS[platform]:
                output = (await dev.send_command(command)).output
                assert output.strip(), command
                assert command not in output.splitlines()[0], "the echoed command is not part of the output"
            parsed = await dev.send_command("show version", parse=True)
            assert parsed.parsed, "ntc-templates parsed show version"
            before = await dev.get_config()
            assert "321" not in before
            assert not before.rstrip().endswith(("#", ">")), "the prompt is not part of the output"
            await dev.send_config(CHANGE[platform])
            after = await dev.get_config()
            assert "from-asyncssh" in after
            if platform != "juniper_junos":
                assert "from-asyncssh" not in await dev.get_config("startup")  # not saved yet
            with pytest.raises(CommandRejected) as info:
                await dev.send_command("show fnord")
            assert info.value.device == name and info.value.command == "show fnord"
            assert (await dev.send_command(SHOWS[platform][0])).output.strip(), "the session goes on after a rejection"

    _run(session())
    with lab_store.read_session() as session_:
        assert session_.scalars(select(m.DeviceHostKey)).one().fingerprint.startswith("SHA256:")


@pytest.mark.parametrize("platform", ["cisco_ios", "juniper_junos"])
def test_a_refused_configuration_line_stops_the_change(lab: LabThread, lab_store: Store, platform: str) -> None:
    name = _device(lab, platform, 1)
    lines = {
        "cisco_ios": ["vlan 654", "frobnicate the network", "vlan 655"],
        "juniper_junos": ["set vlans first-half vlan-id 654", "set frobnicate network", "set vlans other vlan-id 655"],
    }[platform]

    async def session() -> None:
        async with await connect(lab_store, name, "asyncssh") as dev:
            with pytest.raises(ConfigurationError) as info:
                await dev.send_config(lines)
            assert info.value.command == lines[1]
            assert "lines before the refused one may have been applied" in info.value.render()
            config = await dev.get_config()
            if platform == "juniper_junos":
                assert "vlans other" not in config, "nothing after the refused line was sent"
                assert "first-half" not in config, "Junos: the candidate was rolled back, nothing committed"
            else:
                assert "vlan 654" in config.splitlines(), "IOS applies each line as it comes"
                assert "vlan 655" not in config.splitlines(), "nothing after the refused line was sent"
            facts = await dev.get_facts()  # back at the operational prompt
            assert facts["hostname"] == name

    _run(session())


def test_host_key_is_trusted_on_first_use_and_a_change_is_refused(lab: LabThread, lab_store: Store) -> None:
    name = _device(lab, "arista_eos", 1)
    _run(_close_after(connect(lab_store, name, "asyncssh")))
    with lab_store.read_session() as session:
        trusted = session.scalars(select(m.DeviceHostKey)).one().fingerprint
    with lab_store.session() as session:
        row = session.scalars(select(m.DeviceHostKey)).one()
        row.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcHcJ8vwyS7iS0JxzU/7GJyuYwBXFUX5G1AJhe3xQpA"
        row.fingerprint = "SHA256:not-the-device"
    with pytest.raises(HostKeyChanged) as info:
        _run(connect(lab_store, name, "asyncssh"))
    text = info.value.render()
    assert f"presented ssh-ed25519 {trusted}" in text and "SHA256:not-the-device is trusted" in text
    assert f"nettui device trust {name}" in text
    result = run_cli(lab_store, "device", "trust", name, "--yes")
    assert result.exit_code == 0, result.output
    _run(_close_after(connect(lab_store, name, "asyncssh")))


def test_each_fault_gives_its_own_error(lab: LabThread, lab_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = _device(lab, "cisco_ios", 2)
    errors: list[DeviceError] = []

    def expect(kind: type[DeviceError], opening: Any) -> DeviceError:
        with pytest.raises(kind) as info:
            _run(opening)
        assert info.value.device == name
        errors.append(info.value)
        return info.value

    _run(_close_after(connect(lab_store, name, "asyncssh")))  # trust its key first

    lab.set_faults(name, wrong_password=True)
    expect(AuthenticationFailed, connect(lab_store, name, "asyncssh", timeout=5))
    lab.clear_faults(name)

    lab.set_faults(name, refuse_connections=True)
    expect(DeviceUnreachable, connect(lab_store, name, "asyncssh", timeout=3))
    lab.clear_faults(name)

    lab.set_faults(name, reject_commands=["show running-config"])

    async def rejected() -> None:
        async with await connect(lab_store, name, "asyncssh") as dev:
            await dev.get_config()

    assert expect(CommandRejected, rejected()).command == "show running-config"
    lab.clear_faults(name)

    async def refused_config() -> None:
        async with await connect(lab_store, name, "asyncssh") as dev:
            await dev.send_config(["vlan 10", "frobnicate the network"])

    expect(ConfigurationError, refused_config())

    async def dropped() -> None:
        async with await connect(lab_store, name, "asyncssh", timeout=5) as dev:
            lab.set_faults(name, drop_after_bytes=200)
            await dev.send_command("show running-config")

    assert expect(ConnectionDropped, dropped()).command == "show running-config"
    lab.clear_faults(name)

    async def slow() -> None:
        async with await connect(lab_store, name, "asyncssh", timeout=1) as dev:
            lab.set_faults(name, slow_output=3)
            await dev.send_command("show version")

    timed_out = expect(DeviceError, slow())
    assert "no prompt within 1 s" in timed_out.render() and timed_out.command == "show version"
    lab.clear_faults(name)

    with lab_store.session() as session:
        group = session.scalars(select(m.SecretsGroup)).one()
        enable = next(e for e in group.entries if e.name == "enable_secret")
        enable.reference = "LAB_WRONG_ENABLE"
    os.environ["LAB_WRONG_ENABLE"] = "not-the-enable-secret"
    try:
        expect(EnableFailed, connect(lab_store, name, "asyncssh", timeout=5))
    finally:
        del os.environ["LAB_WRONG_ENABLE"]
    err = expect(CredentialsError, connect(lab_store, name, "asyncssh"))  # the variable is gone now
    assert "secrets group 'lab' entry 'enable_secret' (env)" in err.render()

    for error in errors:
        for text in (str(error), repr(error), error.render()):
            assert PASSWORD not in text and ENABLE not in text
    assert PASSWORD not in caplog.text and ENABLE not in caplog.text
    assert caplog.records, "asyncssh logged something, so the check above looked at real lines"


def test_connecting_is_retried_until_the_device_answers(lab: LabThread, lab_store: Store) -> None:
    name = _device(lab, "cisco_nxos", 1)
    _run(_close_after(connect(lab_store, name, "asyncssh")))  # trust its key first
    lab.set_faults(name, refuse_connections=True)
    with pytest.raises(DeviceUnreachable):
        _run(connect(lab_store, name, "asyncssh", timeout=3))  # no retries: fails at once
    timer = threading.Timer(0.5, lab.clear_faults, args=(name,))
    timer.start()
    try:
        _run(_close_after(connect(lab_store, name, "asyncssh", timeout=3, retries=3)))
    finally:
        timer.join()


def test_a_fan_out_reads_every_device_and_reports_the_one_that_fails(lab: LabThread, lab_store: Store) -> None:
    names = [d.name for d in lab.devices]
    down = _device(lab, "juniper_junos", 2)
    lab.set_faults(down, refuse_connections=True)
    done: list[str] = []
    try:
        outcomes = _run(
            for_each_device(
                lab_store,
                names,
                lambda p: p.get_config(),
                driver="asyncssh",
                timeout=3,
                on_done=lambda o: done.append(o.device),
            )
        )
    finally:
        lab.clear_faults(down)
    assert [o.device for o in outcomes] == names and sorted(done) == sorted(names)
    failed = {o.device: o.error for o in outcomes if not o.ok}
    assert list(failed) == [down] and isinstance(failed[down], DeviceUnreachable)
    for outcome in outcomes:
        if outcome.ok:
            device = lab.device(outcome.device)
            expected = f"host-name {device.name}" if device.platform_name == "juniper_junos" else device.name
            assert expected in outcome.value


def test_the_cli_and_provider_selection_offer_asyncssh(lab: LabThread, lab_store: Store) -> None:
    name = _device(lab, "cisco_ios", 0)
    ran = run_cli(lab_store, "device", "run", name, "show version", "--driver", "asyncssh", "--json")
    assert ran.exit_code == 0, ran.output
    data = json.loads(ran.stdout)
    assert data["driver"] == "asyncssh" and data["parsed"][0]["hostname"] == name
    config = run_cli(lab_store, "device", "config", name, "--driver", "asyncssh")
    assert config.exit_code == 0 and f"hostname {name}" in config.stdout
    for result in (ran, config):
        assert PASSWORD not in result.output and ENABLE not in result.output

    with lab_store.session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == name)).one()
        tag = m.Tag(name="fast", slug="fast")
        device.tags.append(tag)
        session.add(
            m.ProviderConfig(
                provider=m.Provider(name="asyncssh", driver_class="drivers.asyncssh_provider:AsyncsshProvider"),
                name="fast lane",
                settings={"timeout": 9},
                scope_tags=[tag],
            )
        )
    choice = choose_driver(lab_store, name)
    assert (choice.driver, choice.timeout) == ("asyncssh", 9.0)
    chosen = run_cli(lab_store, "device", "run", name, "show version", "--json")
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout)["driver"] == "asyncssh"
