"""netmiko and scrapli through nettui's providers, over real SSH to the lab: every platform and
command family, one error type per fault, host keys trusted on first use and changes refused,
and no secret in any log line or exception."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from catalog import models as m
from catalog.store import Store
from drivers.connect import connect
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
from nettui.lab import LabThread, run_lab_in_thread
from tests.conftest import run_cli
from tests.lab_store import add_lab_devices

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
DRIVERS = ["netmiko", "scrapli"]
PASSWORD = "Lab-Pa55word-never-shown"
ENABLE = "Lab-En4ble-never-shown"
SHOWS = {
    "cisco_ios": [
        "show ip interface brief",
        "show interfaces status",
        "show vlan brief",
        "show lldp neighbors detail",
        "show inventory",
    ],
    "cisco_nxos": [
        "show ip interface brief",
        "show interface status",
        "show vlan brief",
        "show lldp neighbors detail",
        "show inventory",
    ],
    "arista_eos": [
        "show ip interface brief",
        "show interfaces status",
        "show vlan",
        "show lldp neighbors detail",
        "show inventory",
    ],
    "juniper_junos": ["show interfaces terse", "show vlans", "show lldp neighbors", "show chassis hardware"],
}
CHANGE = {
    "cisco_ios": ["vlan 321", "name from-nettui"],
    "cisco_nxos": ["vlan 321", "name from-nettui"],
    "arista_eos": ["vlan 321", "name from-nettui"],
    "juniper_junos": ["set vlans from-nettui vlan-id 321"],
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


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_command_family(lab: LabThread, lab_store: Store, driver: str, platform: str) -> None:
    name = _device(lab, platform, DRIVERS.index(driver))

    async def session() -> None:
        async with await connect(lab_store, name, driver) as dev:
            facts = await dev.get_facts()
            assert facts["hostname"] == name
            assert facts["version"] and facts["model"]
            for command in SHOWS[platform]:
                assert (await dev.send_command(command)).output.strip(), command
            parsed = await dev.send_command("show version", parse=True)
            assert parsed.parsed, "ntc-templates parsed show version"
            before = await dev.get_config()
            assert "321" not in before
            await dev.send_config(CHANGE[platform])
            after = await dev.get_config()
            assert "from-nettui" in after
            if platform != "juniper_junos":
                assert await dev.get_config("startup")
            with pytest.raises(CommandRejected) as info:
                await dev.send_command("show fnord")
            assert info.value.device == name and info.value.command == "show fnord"

    _run(session())


def test_host_key_is_trusted_on_first_use_and_a_change_is_refused(lab: LabThread, lab_store: Store) -> None:
    name = _device(lab, "cisco_ios", 2)
    _run(_close_after(connect(lab_store, name)))
    with lab_store.read_session() as session:
        key = session.query(m.DeviceHostKey).one()
        assert key.fingerprint.startswith("SHA256:")
        trusted = key.fingerprint
    # Someone else's key is now "trusted": the real device no longer matches it.
    with lab_store.session() as session:
        row = session.query(m.DeviceHostKey).one()
        row.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcHcJ8vwyS7iS0JxzU/7GJyuYwBXFUX5G1AJhe3xQpA"
        row.fingerprint = "SHA256:not-the-device"
    for driver in DRIVERS:
        with pytest.raises(HostKeyChanged) as info:
            _run(connect(lab_store, name, driver))
        text = info.value.render()
        assert f"presented ssh-ed25519 {trusted}" in text and "SHA256:not-the-device is trusted" in text
        assert f"nettui device trust {name}" in text
    result = run_cli(lab_store, "device", "trust", name, "--yes")
    assert result.exit_code == 0 and f"now trusting ssh-ed25519 {trusted}" in result.stderr
    _run(_close_after(connect(lab_store, name, "scrapli")))


async def _close_after(opening: Any) -> None:
    provider = await opening
    await provider.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_each_fault_gives_its_own_error(
    lab: LabThread, lab_store: Store, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = _device(lab, "cisco_ios", 1)
    errors: list[DeviceError] = []

    def expect(kind: type[DeviceError], opening: Any) -> DeviceError:
        with pytest.raises(kind) as info:
            _run(opening)
        assert info.value.device == name
        errors.append(info.value)
        return info.value

    _run(_close_after(connect(lab_store, name, driver)))  # trust its key first

    lab.set_faults(name, wrong_password=True)
    expect(AuthenticationFailed, connect(lab_store, name, driver, timeout=5))
    lab.clear_faults(name)

    lab.set_faults(name, refuse_connections=True)
    expect(DeviceUnreachable, connect(lab_store, name, driver, timeout=3))
    lab.clear_faults(name)

    lab.set_faults(name, reject_commands=["show running-config"])

    async def rejected() -> None:
        async with await connect(lab_store, name, driver) as dev:
            await dev.get_config()

    err = expect(CommandRejected, rejected())
    assert err.command == "show running-config"
    lab.clear_faults(name)

    async def refused_config() -> None:
        async with await connect(lab_store, name, driver) as dev:
            await dev.send_config(["vlan 10", "frobnicate the network"])

    expect(ConfigurationError, refused_config())

    async def dropped() -> None:
        async with await connect(lab_store, name, driver, timeout=5) as dev:
            lab.set_faults(name, drop_after_bytes=200)
            await dev.send_command("show running-config")

    expect(ConnectionDropped, dropped())
    lab.clear_faults(name)

    with lab_store.session() as session:
        group = session.query(m.SecretsGroup).one()
        enable = next(e for e in group.entries if e.name == "enable_secret")
        enable.reference = "LAB_WRONG_ENABLE"
    import os

    os.environ["LAB_WRONG_ENABLE"] = "not-the-enable-secret"
    try:
        expect(EnableFailed, connect(lab_store, name, driver, timeout=5))
    finally:
        del os.environ["LAB_WRONG_ENABLE"]
    err = expect(CredentialsError, connect(lab_store, name, driver))  # the variable is gone now
    assert "secrets group 'lab' entry 'enable_secret' (env)" in err.render()

    for error in errors:
        for text in (str(error), repr(error), error.render()):
            assert PASSWORD not in text and ENABLE not in text
    assert PASSWORD not in caplog.text and ENABLE not in caplog.text
    assert caplog.records, "the libraries logged something, so the check above looked at real lines"


@pytest.mark.parametrize("driver", DRIVERS)
def test_connecting_is_retried_until_the_device_answers(lab: LabThread, lab_store: Store, driver: str) -> None:
    import threading

    name = _device(lab, "arista_eos", 2)
    _run(_close_after(connect(lab_store, name, driver)))  # trust its key first
    lab.set_faults(name, refuse_connections=True)
    with pytest.raises(DeviceUnreachable):
        _run(connect(lab_store, name, driver, timeout=3))  # no retries: fails at once
    timer = threading.Timer(0.5, lab.clear_faults, args=(name,))
    timer.start()
    try:
        _run(_close_after(connect(lab_store, name, driver, timeout=3, retries=3)))  # back after 0.5 s
    finally:
        timer.join()


def test_device_commands(lab: LabThread, lab_store: Store) -> None:
    import json

    name = _device(lab, "cisco_ios", 0)
    ran = run_cli(lab_store, "device", "run", name, "show ip interface brief")
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.startswith("Interface") and "GigabitEthernet0/0" in ran.stdout
    parsed = json.loads(run_cli(lab_store, "device", "run", name, "show version", "--json").stdout)
    assert parsed["parsed"][0]["hostname"] == name and parsed["driver"] == "netmiko"
    facts = json.loads(run_cli(lab_store, "device", "facts", name, "--driver", "scrapli", "--json").stdout)
    assert facts["hostname"] == name and facts["version"]
    config = run_cli(lab_store, "device", "config", name)
    assert config.exit_code == 0 and f"hostname {name}" in config.stdout
    rejected = run_cli(lab_store, "device", "run", name, "show fnord")
    assert rejected.exit_code == 1
    assert f"error: device {name}, command 'show fnord': the device rejected the command" in rejected.stderr
    missing = run_cli(lab_store, "device", "facts", "ghost")
    assert missing.exit_code == 1 and "no device 'ghost'" in missing.stderr
    for result in (ran, config, rejected):
        assert PASSWORD not in result.output and ENABLE not in result.output


def test_the_driver_and_its_settings_come_from_provider_selection(lab: LabThread, lab_store: Store) -> None:
    import json

    from drivers.connect import choose_driver

    name = _device(lab, "juniper_junos", 1)
    assert choose_driver(lab_store, name).driver == "netmiko"  # nothing configured: the default
    from sqlalchemy import select

    with lab_store.session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == name)).one()
        tag = m.Tag(name="edge", slug="edge")
        device.tags.append(tag)
        session.add(
            m.ProviderConfig(
                provider=m.Provider(name="scrapli", driver_class="drivers.scrapli_provider:ScrapliProvider"),
                name="edge via scrapli",
                settings={"timeout": 7, "retries": 2},
                scope_tags=[tag],
            )
        )
    choice = choose_driver(lab_store, name)
    assert (choice.driver, choice.timeout, choice.retries) == ("scrapli", 7.0, 2)
    assert "edge via scrapli" in choice.reason
    ran = run_cli(lab_store, "device", "run", name, "show version", "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["driver"] == "scrapli"
    forced = run_cli(lab_store, "device", "run", name, "show version", "--json", "--driver", "netmiko")
    assert json.loads(forced.stdout)["driver"] == "netmiko"


def test_a_secrets_group_is_resolved_once_for_all_its_devices(
    lab: LabThread, lab_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine prepares its targets together: the one group the lab's devices share is
    resolved once, not once per device; when it cannot be, each device says so by name."""
    import catalog.secrets
    from drivers.connect import prepare_each

    names = [d.name for d in lab.devices]
    calls: list[str] = []
    resolve = catalog.secrets.resolve_group

    def counting(group: Any) -> Any:
        calls.append(group.name)
        return resolve(group)

    monkeypatch.setattr("drivers.connect.resolve_group", counting)
    prepared = prepare_each(lab_store, names)
    assert calls == ["lab"]
    assert all(p.target.credentials.password.reveal() == PASSWORD for p in prepared.values())  # type: ignore[union-attr]

    monkeypatch.delenv("LAB_PASSWORD")
    failed = prepare_each(lab_store, names)
    assert all(isinstance(failed[n], CredentialsError) for n in names)
    assert all(n in failed[n].render() for n in names)
    assert all("entry 'password' (env)" in failed[n].render() for n in names)
