"""File transfer over real SSH to the lab: netmiko (its FileTransfer classes) and scrapli (SCP
through asyncssh, checked through the scrapli session) on every platform: the device's own
hash agrees, an identical file is not sent twice, a damaged copy or a full file system each
give their own error, and an image copied this way boots after a reload. Providers that do
not reach a device's files refuse clearly."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
import pytest

from catalog.secrets import Secret
from catalog.store import Store
from drivers.base import Provider
from drivers.connect import connect
from drivers.http_provider import HttpApiProvider
from drivers.nautobot_provider import NautobotProvider
from drivers.transfer import (
    ChecksumMismatch,
    InsufficientSpace,
    LocalFileError,
    RemoteFileNotFound,
    TransferNotSupported,
    require_file_transfer,
)
from nettui.lab import LabDevice, LabThread, run_lab_in_thread
from tests.conftest import run_cli
from tests.lab_store import add_lab_devices

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
DRIVERS = ["netmiko", "scrapli"]
PASSWORD = "Xfer-Pa55word-never-shown"
ENABLE = "Xfer-En4ble-never-shown"
SLOTS = 9  # devices per platform: each test below has its own, so tests run in parallel
# An image whose name carries the version it installs, where the platform keeps images.
IMAGES = {
    "cisco_ios": ("cat9k_iosxe.17.12.03.SPA.bin", "flash:", "Version 17.12.03"),
    "cisco_nxos": ("nxos64-cs.10.4.2.F.bin", "bootflash:", "NXOS: version 10.4(2)"),
    "arista_eos": ("EOS-4.32.1F.swi", "flash:", "Software image version: 4.32.1F"),
    "juniper_junos": ("junos-arm-32-22.4R3.25.tgz", "/var/tmp/", "Junos: 22.4R3.25"),
}
_T = TypeVar("_T")


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(
        devices=len(PLATFORMS) * SLOTS,
        platforms=PLATFORMS,
        password=PASSWORD,
        enable_secret=ENABLE,
        reload_seconds=0.5,
    ) as handle:
        yield handle


@pytest.fixture
def lab_store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The lab's devices in a store, with credentials referenced from the environment."""
    return add_lab_devices(sqlite_store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE, env_prefix="XFER")


def _device(lab: LabThread, platform: str, slot: int) -> LabDevice:
    return [d for d in lab.devices if d.platform_name == platform][slot]


def _on_lab(lab: LabThread, action: Callable[[], _T]) -> _T:
    """Run ``action`` in the lab's event loop (its state is only touched there)."""

    async def run() -> _T:
        return action()

    return lab.call(run())


def _image(tmp_path: Path, platform: str, size: int = 300_000) -> tuple[Path, bytes]:
    name = IMAGES[platform][0]
    content = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(content)
    return path, content


async def _reload(device: LabDevice) -> None:
    """Reload from an interactive session, the way an operator does."""
    async with asyncssh.connect(
        device.host, device.port, username=device.username, password=PASSWORD, known_hosts=None
    ) as conn:
        process = await conn.create_process(term_type="vt100")

        async def until(text: str) -> None:
            seen = ""
            while text not in seen:
                chunk = await asyncio.wait_for(process.stdout.read(4096), 10)
                if not chunk:
                    raise AssertionError(f"session ended before {text!r}: {seen[-300:]!r}")
                seen += str(chunk)

        if device.platform_name == "juniper_junos":
            await until("> ")
            process.stdin.write("request system reboot\n")
            await until("(no)")
            process.stdin.write("yes\n")
        else:
            prompt = ">" if device.platform_name in ("cisco_ios", "arista_eos") else "# "
            await until(prompt)
            if prompt == ">":
                process.stdin.write("enable\n")
                await until("Password:")
                process.stdin.write(ENABLE + "\n")
                await until("#")
            process.stdin.write("reload\n")
            await until("[confirm]")
            process.stdin.write("\n")
        await asyncio.wait_for(process.wait_closed(), 10)


BOOT = {
    "cisco_ios": (["boot system flash:{image}"], "write memory"),
    "cisco_nxos": (["boot nxos bootflash:{image}"], "copy running-config startup-config"),
    "arista_eos": (["boot system flash:{image}"], "write memory"),
    "juniper_junos": ([], "request system software add /var/tmp/{image}"),
}


@pytest.mark.parametrize("driver", [*DRIVERS, "asyncssh"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_image_is_sent_verified_not_sent_twice_and_boots_after_reload(
    lab: LabThread, lab_store: Store, tmp_path: Path, driver: str, platform: str
) -> None:
    device = _device(lab, platform, DRIVERS.index(driver) if driver in DRIVERS else 8)
    image, content = _image(tmp_path, platform)
    name, fs, version_line = IMAGES[platform]
    seen: list[tuple[int, int]] = []

    async def send_and_boot() -> None:
        async with await connect(lab_store, device.name, driver) as dev:
            first = await dev.put_file(image, progress=lambda done, total: seen.append((done, total)))
            assert first.remote_path == fs + name and not first.skipped and first.verified
            assert first.local_md5 == first.remote_md5 == hashlib.md5(content).hexdigest()
            assert first.local_sha256 == hashlib.sha256(content).hexdigest()
            assert first.remote_sha256 in (None, first.local_sha256)  # IOS has no sha256 command
            assert first.size == len(content) and first.method.startswith("scp")

            again = await dev.put_file(image)
            assert again.skipped and again.verified and again.remote_md5 == first.local_md5

            listing = await dev.send_command("file list /var/tmp/ detail" if platform == "juniper_junos" else "dir")
            assert name in listing.output and str(len(content)) in listing.output

            back = tmp_path / "back"
            got = await dev.get_file(first.remote_path, back)
            assert back.read_bytes() == content and not got.skipped and got.remote_md5 == first.local_md5
            assert (await dev.get_file(first.remote_path, back)).skipped

            with pytest.raises(RemoteFileNotFound) as missing:
                await dev.get_file(fs + "no-such-image.bin", tmp_path)
            assert "no-such-image.bin" in missing.value.render()

            config, command = BOOT[platform]
            if config:
                await dev.send_config([line.format(image=name) for line in config])
            await dev.send_command(command.format(image=name))
            assert version_line not in (await dev.send_command("show version")).output

        await _reload(device)
        async with await connect(lab_store, device.name, driver, retries=6) as dev:
            assert version_line in (await dev.send_command("show version")).output

    asyncio.run(send_and_boot())
    assert seen and seen[-1] == (len(content), len(content))


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_damaged_copy_fails_the_hash_check_and_is_replaced_on_the_next_put(
    lab: LabThread, lab_store: Store, tmp_path: Path, driver: str, platform: str
) -> None:
    device = _device(lab, platform, 2 + DRIVERS.index(driver))
    image, content = _image(tmp_path, platform, 50_000)
    lab.set_faults(device.name, corrupt_transfers=True)

    async def run() -> None:
        async with await connect(lab_store, device.name, driver) as dev:
            with pytest.raises(ChecksumMismatch) as damaged:
                await dev.put_file(image)
            text = damaged.value.render()
            assert IMAGES[platform][0] in text and hashlib.md5(content).hexdigest() in text
            assert "damaged" in text and device.name in text
            assert PASSWORD not in text and ENABLE not in text
            lab.clear_faults(device.name)
            fixed = await dev.put_file(image)  # the damaged file differs: it is sent again
            assert not fixed.skipped and fixed.remote_md5 == hashlib.md5(content).hexdigest()

    try:
        asyncio.run(run())
    finally:
        lab.clear_faults(device.name)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_full_file_system_refuses_the_image_before_sending_it(
    lab: LabThread, lab_store: Store, tmp_path: Path, driver: str, platform: str
) -> None:
    device = _device(lab, platform, 4 + DRIVERS.index(driver))
    image, _ = _image(tmp_path, platform, 200_000)
    filler = _fill(lab, device, leave=100_000)

    async def run() -> None:
        async with await connect(lab_store, device.name, driver) as dev:
            with pytest.raises(InsufficientSpace) as full:
                await dev.put_file(image)
            text = full.value.render()
            assert "no room" in text and "200,000 bytes" in text and device.name in text
            assert PASSWORD not in text
        assert not _on_lab(lab, lambda: [k for k in device.state.files if IMAGES[platform][0] in k])

    try:
        asyncio.run(run())
    finally:
        _on_lab(lab, lambda: device.state.delete_file(filler))


def _fill(lab: LabThread, device: LabDevice, leave: int) -> str:
    """Take all but ``leave`` bytes of the device's image file system with a (simulated) file."""

    def fill() -> str:
        platform, state = device.platform, device.state
        fs = platform.file_systems[0]
        key = fs.prefix + "filler.bin"
        state.write_file(key, platform.free_bytes(state, fs) - leave)
        return key

    return _on_lab(lab, fill)


def test_the_device_itself_refuses_data_beyond_its_free_space(lab: LabThread, tmp_path: Path) -> None:
    """Without nettui's space check: SCP and SFTP writes fail as a full device's do."""
    device = _device(lab, "cisco_ios", 6)
    filler = _fill(lab, device, leave=10_000)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(50_000))

    async def run() -> None:
        async with asyncssh.connect(
            device.host, device.port, username="admin", password=PASSWORD, known_hosts=None
        ) as conn:
            with pytest.raises(asyncssh.SFTPError) as scp_refused:
                await asyncssh.scp(str(big), (conn, "flash:big.bin"))
            assert "No space left on device" in str(scp_refused.value.reason)
            async with conn.start_sftp_client() as sftp:
                with pytest.raises(asyncssh.SFTPError) as sftp_refused:
                    await sftp.put(str(big), "flash:/big.bin")
                assert "No space left on device" in str(sftp_refused.value.reason)
            dir_output = str((await conn.run("dir flash:")).stdout)
            assert "big.bin" not in dir_output and "bytes free" in dir_output

    try:
        asyncio.run(run())
    finally:
        _on_lab(lab, lambda: device.state.delete_file(filler))


def test_identical_content_is_held_once_however_many_devices_have_it(lab: LabThread, tmp_path: Path) -> None:
    devices = [_device(lab, platform, 7) for platform in PLATFORMS]
    image = tmp_path / "shared.bin"
    image.write_bytes(os.urandom(100_000))
    remote = {
        "cisco_ios": "flash:",
        "cisco_nxos": "bootflash:",
        "arista_eos": "/mnt/flash/",
        "juniper_junos": "/var/tmp/",
    }

    async def run() -> None:
        for device in devices:
            async with asyncssh.connect(
                device.host, device.port, username="admin", password=PASSWORD, known_hosts=None
            ) as conn:
                await asyncssh.scp(str(image), (conn, remote[device.platform_name]))
                free_after = str((await conn.run("show file systems")).stdout)
                if device.platform_name != "juniper_junos":
                    assert "flash:" in free_after

    asyncio.run(run())

    def blobs() -> list[Any]:
        found = []
        for device in devices:
            key = device.platform.file_systems[0].prefix + "shared.bin"
            found.append(device.state.blobs[key])
        return found

    held = _on_lab(lab, blobs)
    assert all(blob is held[0] for blob in held) and held[0].md5 == hashlib.md5(image.read_bytes()).hexdigest()


def test_cli_put_and_get_report_progress_and_json(lab: LabThread, lab_store: Store, tmp_path: Path) -> None:
    device = _device(lab, "arista_eos", 6)
    image, content = _image(tmp_path, "arista_eos", 120_000)
    sent = run_cli(lab_store, "device", "put", device.name, str(image), "--driver", "scrapli", "--json")
    assert sent.exit_code == 0, sent.stderr
    record = json.loads(sent.stdout)
    assert record["remote_path"] == "flash:EOS-4.32.1F.swi" and record["remote_md5"] == hashlib.md5(content).hexdigest()
    assert record["skipped"] is False and record["driver"] == "scrapli"
    assert f"{device.name}: sent 100%" in sent.stderr

    again = run_cli(lab_store, "device", "put", device.name, str(image), "/mnt/flash/EOS-4.32.1F.swi")
    assert again.exit_code == 0 and "nothing sent" in again.stdout

    target = tmp_path / "fetched"
    target.mkdir()
    got = run_cli(lab_store, "device", "get", device.name, "flash:EOS-4.32.1F.swi", str(target), "--json")
    assert got.exit_code == 0, got.stderr
    assert (target / "EOS-4.32.1F.swi").read_bytes() == content
    assert json.loads(got.stdout)["local_path"] == str(target / "EOS-4.32.1F.swi")
    assert f"{device.name}: received 100%" in got.stderr

    missing = run_cli(lab_store, "device", "put", device.name, str(tmp_path / "nope.bin"))
    assert missing.exit_code == 1 and "no file" in missing.stderr
    bad_name = run_cli(lab_store, "device", "put", device.name, str(image), "flash:two words.bin")
    assert bad_name.exit_code == 1 and "not a file name" in bad_name.stderr


def test_a_missing_local_file_is_refused_before_connecting_anything(lab: LabThread, lab_store: Store) -> None:
    device = _device(lab, "cisco_ios", 6)

    async def run() -> None:
        dev: Provider
        async with await connect(lab_store, device.name, "netmiko") as dev:
            with pytest.raises(LocalFileError):
                await dev.put_file(Path("/nonexistent/image.bin"))

    asyncio.run(run())


def test_providers_without_a_device_file_system_refuse_transfers(tmp_path: Path) -> None:
    image = tmp_path / "x.bin"
    image.write_bytes(b"x")
    api = HttpApiProvider("lab-controller", {"base_url": "http://127.0.0.1:9/"})
    with pytest.raises(TransferNotSupported) as refused:
        asyncio.run(api.put_file(image))
    text = refused.value.render()
    assert "not supported by the http_api provider" in text and "--driver netmiko" in text
    with pytest.raises(TransferNotSupported):
        asyncio.run(api.get_file("flash:x.bin"))
    nautobot = NautobotProvider("http://127.0.0.1:9", Secret("y" * 40))
    with pytest.raises(TransferNotSupported, match="nautobot"):
        asyncio.run(nautobot.put_file(image))
    with pytest.raises(TransferNotSupported, match="python_hook"):
        require_file_transfer("python_hook")
    require_file_transfer("scrapli")  # an SSH driver: allowed


def test_ios_install_mode_boots_an_image_sent_over_scp(lab: LabThread, tmp_path: Path) -> None:
    """``install add file ... activate commit``: the IOS-XE way, asking before it reloads."""
    device = _device(lab, "cisco_ios", 7)
    image, _ = _image(tmp_path, "cisco_ios", 64_000)
    login = {"username": "admin", "password": PASSWORD, "known_hosts": None}

    async def run() -> None:
        async with asyncssh.connect(device.host, device.port, **login) as conn:
            await asyncssh.scp(str(image), (conn, "bootflash:"))  # another name of flash: on a Catalyst
            process = await conn.create_process(term_type="vt100")
            seen = ""
            for line, wait in [
                (None, ">"),
                ("enable", "Password:"),
                (ENABLE, "#"),
                (f"install add file flash:{image.name} activate commit", "[y/n]"),
                ("y", "Reloading"),
            ]:
                if line is not None:
                    process.stdin.write(line + "\n")
                while wait not in seen:
                    seen += str(await asyncio.wait_for(process.stdout.read(4096), 10))
                seen = ""
            await asyncio.wait_for(process.wait_closed(), 10)
        for _ in range(40):  # back after reload_seconds
            try:
                async with asyncssh.connect(device.host, device.port, **login) as conn:
                    assert "Version 17.12.03" in str((await conn.run("show version")).stdout)
                    return
            except OSError:
                await asyncio.sleep(0.25)
        raise AssertionError("the device did not come back after the reload")

    asyncio.run(run())
