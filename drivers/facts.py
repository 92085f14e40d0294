"""Device facts from `show version`, the same keys whatever the platform.

ntc-templates names things differently per platform (``serial`` or ``serial_number``, ``os`` or
``image`` or ``junos_version``); this maps them onto hostname, model, serial, version, uptime.
"""

from __future__ import annotations

import re
from typing import Any

# For each fact, the ntc-templates fields that hold it, in order of preference.
_FIELDS = {
    "hostname": ("hostname",),
    "model": ("hardware", "platform", "model"),
    "serial": ("serial", "serial_number"),
    "version": ("version", "os", "image", "junos_version"),
    "uptime": ("uptime",),
}
_FALLBACK = {
    "version": re.compile(r"(?:Version|version|Software Image version:|Junos:)\s*([0-9][\w.()\-]*)"),
    "serial": re.compile(r"(?:System [Ss]erial [Nn]umber|Processor board ID|Serial number)\s*:?\s*(\S+)"),
    "hostname": re.compile(r"^(?:Hostname|Device name):\s*(\S+)", re.MULTILINE),
}


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def facts_from_show_version(driver: str, output: str, parsed: list[dict[str, Any]] | None) -> dict[str, Any]:
    """hostname, model, serial, version and uptime (empty strings where unknown)."""
    row = parsed[0] if parsed else {}
    facts: dict[str, Any] = {"network_driver": driver}
    for fact, fields in _FIELDS.items():
        facts[fact] = next((_first(row[f]) for f in fields if _first(row.get(f))), "")
        if not facts[fact] and fact in _FALLBACK and (found := _FALLBACK[fact].search(output)):
            facts[fact] = found.group(1)
    # NX-OS reports "10.3(4a) [Maintenance Release]": the version is the first word.
    facts["version"] = facts["version"].split(" ")[0]
    return facts


def hostname_from_prompt(prompt: str) -> str:
    """ "sw3#" / "admin@sw4>" / "sw1(config)#" -> the host name."""
    text = prompt.strip().splitlines()[-1] if prompt.strip() else ""
    text = re.sub(r"\(.*?\)", "", text).rstrip("#>$% ")
    return text.split("@")[-1]
