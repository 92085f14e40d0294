"""The simulated platforms, one module each, looked up by their netmiko-style name."""

from __future__ import annotations

from functools import cache

from nettui.lab.platforms.base import Platform

__all__ = ["PLATFORM_NAMES", "Platform", "get_platform"]

PLATFORM_NAMES = ("cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos")


@cache
def get_platform(name: str) -> Platform:
    """The (shared, stateless) platform object for ``name``; ValueError names the known ones."""
    # Imported here: each module is only loaded when a lab uses that platform.
    if name == "cisco_ios":
        from nettui.lab.platforms.cisco_ios import CiscoIos

        return CiscoIos()
    if name == "cisco_nxos":
        from nettui.lab.platforms.cisco_nxos import CiscoNxos

        return CiscoNxos()
    if name == "arista_eos":
        from nettui.lab.platforms.arista_eos import AristaEos

        return AristaEos()
    if name == "juniper_junos":
        from nettui.lab.platforms.juniper_junos import JuniperJunos

        return JuniperJunos()
    raise ValueError(f"unknown lab platform {name!r}; choose from {', '.join(PLATFORM_NAMES)}")
