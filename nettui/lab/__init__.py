"""``nettui lab``: simulated multi-vendor network devices over real SSH on 127.0.0.1.

Devices of the platforms cisco_ios, cisco_nxos, arista_eos and juniper_junos run in one
process and one event loop, one listening port each, realistic enough that unmodified
netmiko and scrapli run their normal session setup and commands against them.
"""

from __future__ import annotations

from nettui.lab.device import CliSession, LabDevice
from nettui.lab.faults import Faults
from nettui.lab.platforms import PLATFORM_NAMES, get_platform
from nettui.lab.server import Lab, LabThread, run_lab_in_thread

__all__ = [
    "PLATFORM_NAMES",
    "CliSession",
    "Faults",
    "Lab",
    "LabDevice",
    "LabThread",
    "get_platform",
    "run_lab_in_thread",
]
