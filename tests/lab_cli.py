"""Unmodified netmiko sessions to lab devices, as the lab's CLI tests open them: log in
(:func:`netmiko_session`), push configuration (:func:`apply_config`) and read it back
(:func:`running_config`) the way each platform does."""

from __future__ import annotations

import netmiko

from nettui.lab import LabDevice

ENABLED = ("cisco_ios", "arista_eos")  # platforms whose sessions start in user EXEC


def netmiko_session(device: LabDevice, *, enable: bool = True) -> netmiko.BaseConnection:
    """A netmiko session to ``device`` with its credentials; in privileged mode if ``enable``
    (on the platforms that log in to user EXEC)."""
    conn = netmiko.ConnectHandler(
        device_type=device.platform_name,
        host=device.host,
        port=device.port,
        username=device.username,
        password=device.password,
        secret=device.enable_secret,
        timeout=20,
        conn_timeout=10,
    )
    if enable and device.platform_name in ENABLED:
        conn.enable()
    return conn


def apply_config(conn: netmiko.BaseConnection, platform: str, lines: list[str]) -> str:
    """Configure ``lines`` (committed on Junos); what the device said."""
    if platform == "juniper_junos":
        output = str(conn.send_config_set(lines, exit_config_mode=False))
        return output + str(conn.commit(and_quit=True))
    return str(conn.send_config_set(lines))


def running_config(conn: netmiko.BaseConnection, platform: str) -> str:
    """The running configuration (as set commands on Junos)."""
    command = "show configuration | display set" if platform == "juniper_junos" else "show running-config"
    return str(conn.send_command(command))
