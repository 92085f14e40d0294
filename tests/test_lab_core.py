"""The lab without client libraries: exec over OpenSSH, faults, reload, topology, state file, inventory."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import asyncssh
import pytest
import yaml

from nettui.lab import Lab, run_lab_in_thread
from nettui.lab.inventory import inventory_data, secrets_command, write_env_file
from nettui.lab.topology import TopologyError, load_topology


async def _connect(lab: Lab, name: str, password: str | None = None) -> asyncssh.SSHClientConnection:
    device = lab.device(name)
    return await asyncssh.connect(
        device.host,
        device.port,
        username=device.username,
        password=password or device.password,
        known_hosts=None,
        connect_timeout=10,
    )


async def _read_until(process: asyncssh.SSHClientProcess[str], text: str, timeout: float = 5) -> str:
    buffer = ""
    async with asyncio.timeout(timeout):
        while text not in buffer:
            chunk = await process.stdout.read(4096)
            if not chunk:
                break
            buffer += chunk
    return buffer


async def test_exec_request_and_shell_line_discipline() -> None:
    async with Lab(devices=2, platforms=["cisco_ios", "juniper_junos"]) as lab:
        async with await _connect(lab, "sw1") as conn:
            result = await conn.run("show version", check=True)
            assert "Cisco IOS XE Software" in str(result.stdout)
            process = await conn.create_process(term_type="vt100")
            banner = await _read_until(process, "sw1>")
            assert banner.endswith("\r\nsw1>")
            # Echo, backspace and CR LF: "shox" + BS + "w ver" runs "show ver".
            process.stdin.write("shox\x7fw ver\r\n")
            output = await _read_until(process, "\r\nsw1>")
            assert output.startswith("shox\x08 \x08w ver\r\n")
            assert "Cisco IOS XE Software" in output and output.count("sw1>") == 1
            process.stdin.write("enable\n")
            await _read_until(process, "Password: ")
            process.stdin.write("enable\n")  # the default secret, not echoed
            output = await _read_until(process, "sw1#")
            assert "enable" not in output
            process.close()
        async with await _connect(lab, "sw2") as conn:
            result = await conn.run("show interfaces terse")
            assert "ge-0/0/0" in str(result.stdout)


async def test_faults_each_give_their_own_failure() -> None:
    async with Lab(devices=1, platforms=["cisco_ios"], reload_seconds=0.3) as lab:
        await lab.set_faults("sw1", wrong_password=True)
        with pytest.raises(asyncssh.PermissionDenied):
            await _connect(lab, "sw1")
        await lab.clear_faults("sw1")

        await lab.set_faults("sw1", refuse_connections=True)
        with pytest.raises(OSError):
            await _connect(lab, "sw1")
        await lab.set_faults("sw1", refuse_connections=False)

        await lab.set_faults("sw1", reject_commands=["show running-config"])
        async with await _connect(lab, "sw1") as conn:
            assert "Command authorization failed." in str((await conn.run("show running-config")).stdout)
        await lab.clear_faults("sw1")

        await lab.set_faults("sw1", slow_output=0.5)
        async with await _connect(lab, "sw1") as conn:
            loop = asyncio.get_running_loop()
            started = loop.time()
            await conn.run("show clock")
            assert loop.time() - started >= 0.5
        await lab.clear_faults("sw1")

        await lab.set_faults("sw1", drop_after_bytes=300)
        conn = await _connect(lab, "sw1")
        try:
            output = str((await conn.run("show version")).stdout)
        except (asyncssh.Error, ConnectionError):
            output = ""
        assert len(output) <= 300  # the full output is about 3,000 bytes
        await asyncio.wait_for(conn.wait_closed(), 5)  # and the connection is gone
        await lab.clear_faults("sw1")


async def test_upgrade_copy_boot_reload_changes_version() -> None:
    async with Lab(devices=1, platforms=["cisco_ios"], reload_seconds=0.3) as lab:
        async with await _connect(lab, "sw1") as conn:
            process = await conn.create_process(term_type="vt100")
            await _read_until(process, "sw1>")
            for line, wait in [
                ("enable", "Password: "),
                ("enable", "sw1#"),
                ("copy http://192.0.2.1/cat9k_iosxe.17.12.03.SPA.bin flash:", "sw1#"),
                ("configure terminal", "(config)#"),
                ("boot system flash:cat9k_iosxe.17.12.03.SPA.bin", "(config)#"),
                ("end", "sw1#"),
                ("write memory", "[OK]"),
                ("reload", "[confirm]"),
            ]:
                process.stdin.write(line + "\n")
                await _read_until(process, wait)
            process.stdin.write("\n")
            await process.wait_closed()
        with pytest.raises(OSError):
            await _connect(lab, "sw1")  # unreachable while it reloads
        await asyncio.sleep(0.6)
        async with await _connect(lab, "sw1") as conn:
            assert "Version 17.12.03" in str((await conn.run("show version")).stdout)


async def test_topology_file_state_file_and_inventory(tmp_path: Path) -> None:
    topology = tmp_path / "lab.yaml"
    topology.write_text(
        "devices:\n  - {name: core1, platform: cisco_ios}\n  - {name: leaf1, platform: arista_eos}\n"
        "links:\n  - [core1:Gi1/0/3, leaf1:Ethernet7]\n"
    )
    state_file = tmp_path / "state.json"
    async with Lab(topology=topology, state_file=state_file, state_dir=tmp_path / "state") as lab:
        async with await _connect(lab, "core1") as conn:
            text = str((await conn.run("show lldp neighbors detail")).stdout)
            assert "System Name: leaf1" in text and "Port id: Ethernet7" in text
        lab.device("core1").state.config.ntp_servers.append("192.0.2.55")  # type: ignore[union-attr]
        data = inventory_data(lab.devices)
        assert [d["name"] for d in data["devices"]] == ["core1", "leaf1"]
        assert data["devices"][0]["secrets_group"] == "lab" and "password" not in str(data)
    key = tmp_path / "state" / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    async with Lab(topology=topology, state_file=state_file, state_dir=tmp_path / "state") as lab:
        assert "192.0.2.55" in lab.device("core1").state.config.ntp_servers  # type: ignore[union-attr]
    bad = tmp_path / "bad.yaml"
    bad.write_text("links:\n  - [core1:Gi1/0/99, leaf1:Ethernet1]\ndevices:\n  - {name: core1}\n  - {name: leaf1}\n")
    with pytest.raises(TopologyError, match="has no port"):
        Lab(topology=load_topology(bad)).topology.apply(Lab(topology=load_topology(bad)).devices)


def test_env_file_is_private_and_secrets_command(tmp_path: Path) -> None:
    env = tmp_path / "lab.env"
    write_env_file(env, "admin", "pa ss", "en")
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "export NETTUI_LAB_PASSWORD='pa ss'" in env.read_text()
    assert secrets_command() == (
        "nettui secrets set lab username=env:NETTUI_LAB_USERNAME "
        "password=env:NETTUI_LAB_PASSWORD enable_secret=env:NETTUI_LAB_ENABLE"
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ssh") is None, reason="OpenSSH client not installed")
def test_openssh_exec_request(tmp_path: Path) -> None:
    # No sshpass here: OpenSSH reads the password from an askpass program (SSH_ASKPASS_REQUIRE=force).
    askpass = tmp_path / "askpass.sh"
    askpass.write_text('#!/bin/sh\necho "$LAB_PW"\n')
    askpass.chmod(0o700)
    with run_lab_in_thread(devices=1, platforms=["arista_eos"], password="open-ssh-pw") as lab:
        device = lab.devices[0]
        env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force", "LAB_PW": "open-ssh-pw"}
        env.pop("DISPLAY", None)
        result = subprocess.run(
            [
                "ssh",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
                "-p",
                str(device.port),
                f"{device.username}@127.0.0.1",
                "show version",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Arista DCS-7050SX3-48YC8" in result.stdout


@pytest.mark.slow
def test_cli_start_writes_inventory_and_stops_on_sigint(tmp_path: Path) -> None:
    inventory = tmp_path / "lab.yaml"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from nettui.cli.lab import group; group()",
            "start",
            "--devices",
            "3",
            "--base-port",
            "0",
            "--inventory-out",
            str(inventory),
            "--state-dir",
            str(tmp_path / "s"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("lab ready: 3 devices on 127.0.0.1 ports ")
        devices = yaml.safe_load(inventory.read_text())["devices"]
        assert [d["platform"] for d in devices] == ["cisco_ios", "cisco_nxos", "arista_eos"]
        assert stat.S_IMODE((tmp_path / "lab.env").stat().st_mode) == 0o600
    finally:
        process.send_signal(2)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "nettui secrets set lab" in err
