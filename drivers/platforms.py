"""What nettui knows per platform, keyed by the netutils-normalised network driver name.

Library names (netmiko device types, scrapli definitions, ntc-templates platforms) come from
netutils' lib_mapper, the one place platform names are translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netutils.lib_mapper import (
    NETMIKO_LIB_MAPPER_REVERSE,
    NTCTEMPLATES_LIB_MAPPER_REVERSE,
    SCRAPLI_LIB_MAPPER_REVERSE,
)

from catalog.naming import network_driver_for


@dataclass(frozen=True)
class PlatformProfile:
    network_driver: str
    running_config: str
    startup_config: str | None
    version_command: str
    # A line of device output that means "I did not accept that".
    error_pattern: re.Pattern[str]
    # Commands that leave configuration mode and, where needed, commit.
    commit: bool = False

    @property
    def netmiko_device_type(self) -> str:
        return str(NETMIKO_LIB_MAPPER_REVERSE.get(self.network_driver, self.network_driver))

    @property
    def scrapli_definition(self) -> str:
        return str(SCRAPLI_LIB_MAPPER_REVERSE.get(self.network_driver, self.network_driver))

    @property
    def ntc_platform(self) -> str:
        return str(NTCTEMPLATES_LIB_MAPPER_REVERSE.get(self.network_driver, self.network_driver))

    def rejection(self, output: str) -> str | None:
        """The device's complaint in ``output``, if it refused the command."""
        found = self.error_pattern.search(output)
        return found.group(0).strip() if found else None


_CISCO_ERRORS = re.compile(
    r"^\s*(% ?(Invalid input detected.*|Invalid command.*|Incomplete command.*|Ambiguous command.*|"
    r"Unknown command.*|Invalid input.*|Unrecognized command.*|Authorization failed.*|Permission denied.*)|"
    r"Command authorization failed.*)$",
    re.MULTILINE,
)
_JUNOS_ERRORS = re.compile(r"^\s*(syntax error.*|unknown command.*|error: .*|missing argument.*)$", re.MULTILINE)

PROFILES: dict[str, PlatformProfile] = {
    "cisco_ios": PlatformProfile(
        "cisco_ios", "show running-config", "show startup-config", "show version", _CISCO_ERRORS
    ),
    "cisco_nxos": PlatformProfile(
        "cisco_nxos", "show running-config", "show startup-config", "show version", _CISCO_ERRORS
    ),
    "arista_eos": PlatformProfile(
        "arista_eos", "show running-config", "show startup-config", "show version", _CISCO_ERRORS
    ),
    "juniper_junos": PlatformProfile(
        "juniper_junos",
        "show configuration | display set",
        None,
        "show version",
        _JUNOS_ERRORS,
        commit=True,
    ),
}


def profile_for(driver: str) -> PlatformProfile:
    """The profile of a network driver (any library's name for it is accepted)."""
    normalised = network_driver_for(driver) or driver
    if normalised in PROFILES:
        return PROFILES[normalised]
    # Unknown platforms still work through the libraries, with IOS-like defaults.
    return PlatformProfile(normalised, "show running-config", None, "show version", _CISCO_ERRORS)
