"""Configuration text as a backup keeps it: volatile lines dropped, secrets masked, checked.

Per platform (netutils network driver names), in the spirit of Oxidized's models:

- *volatile* lines change without anyone changing the configuration (the time the command ran,
  byte counts, "Last configuration change", ntp clock-period): they are dropped, so a backup
  is stored only when the configuration itself changed;
- *secret* lines (enable secrets, user passwords, SNMP communities, TACACS+/RADIUS keys, key
  strings, ...) are masked (the secret replaced by ``<removed>``), removed, or kept, by policy,
  before anything is stored;
- *validation*: not empty, complete (the platform's end marker), parses (netutils' parser
  for the platform reads it).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog.errors import NettuiError

if TYPE_CHECKING:
    from hier_config import Platform
    from hier_config.platforms.driver_base import HConfigDriverBase

MASK = "<removed>"
# Documented factory defaults are not secrets: masking them would hide exactly what the CIS
# check "no default SNMP communities" looks for.
WELL_KNOWN = frozenset({"public", "private"})


class SecretPolicy(enum.StrEnum):
    MASK = "mask"
    REMOVE = "remove"
    KEEP = "keep"


def secret_policy(value: str) -> SecretPolicy:
    """The policy named ``value``; a clear error for anything else."""
    try:
        return SecretPolicy(value)
    except ValueError:
        raise NettuiError(f"unknown secrets policy {value!r}", hint="use mask (the default), remove or keep") from None


_IOS_VOLATILE = [
    r"^Building configuration\.\.\.",
    r"^Current configuration\s*:\s*\d+ bytes",
    r"^Using \d+ out of \d+ bytes",
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^! Time: ",
    r"^ntp clock-period \d+",
    r"^\s*! Uptime",
]
VOLATILE: dict[str, list[str]] = {
    "cisco_ios": _IOS_VOLATILE,
    "cisco_nxos": [
        r"^!Time:",
        r"^!Running configuration last done at:",
        r"^!Startup config saved at:",
        r"^!Command: show ",
        r"^ntp clock-period",
    ],
    "arista_eos": [
        r"^! Command: show ",
        r"^! Time: ",
        r"^! Startup-config last modified at",
        r"^! device: ",  # says the running software and uptime-like details, not configuration
        r"^ntp clock-period",
    ],
    "juniper_junos": [r"^## Last (commit|changed): ", r"^## Image name: ", r"^\s*/\* .* \*/$"],
}

# (pattern, where): group 1 is kept, group 2 is the secret, group 3 (if any) is kept after it.
_VALUE = r"(\"[^\"]*\"|\S+)"
_CISCO_SECRETS = [
    r"^(enable (?:secret|password)(?: level \d+)?(?: \d+| sha512)? )" + _VALUE + r"(.*)$",
    r"^(username \S+ .*?(?:secret|password)(?: \d+| sha512)? )" + _VALUE + r"(.*)$",
    r"^(snmp-server community )" + _VALUE + r"(.*)$",
    r"^(snmp-server host \S+ (?:informs |traps )?(?:version \S+ )?(?:auth |noauth |priv )?)" + _VALUE + r"(.*)$",
    r"^(snmp-server user \S+ .*?(?:auth \S+|priv \S+(?: \d+)?) )" + _VALUE + r"(.*)$",
    r"^(\s*(?:tacacs-server|radius-server) (?:host \S+ .*?)?key(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(\s+(?:server-private \S+ )?key(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(\s*key-string(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(\s*(?:ip )?ospf (?:message-digest-key \d+ md5|authentication-key)(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(\s*neighbor \S+ password(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(\s*password(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(crypto isakmp key(?: \d+)? )" + _VALUE + r"(.*)$",
    r"^(ntp authentication-key \d+ md5 )" + _VALUE + r"(.*)$",
    r"^(\s*pre-shared-key(?: \d+)? )" + _VALUE + r"(.*)$",
]
SECRETS: dict[str, list[str]] = {
    "cisco_ios": _CISCO_SECRETS,
    "cisco_nxos": _CISCO_SECRETS,
    "arista_eos": _CISCO_SECRETS,
    "juniper_junos": [
        r"^(.*(?:encrypted-password|plain-text-password-value|authentication-key|secret|pre-shared-key "
        r"(?:ascii-text|hexadecimal)|hello-authentication-key|simple-password|md5 \d+ key) )" + _VALUE + r"(.*)$",
        r"^((?:set|delete|deactivate) snmp community )" + _VALUE + r"(.*)$",
        r"^((?:set|delete|deactivate) snmp trap-group \S+ .*?community )" + _VALUE + r"(.*)$",
        r"^(\s*community )" + _VALUE + r"(.*)$",
    ],
}

_SNMP_USER = re.compile(r"^\s*snmp-server user ")
_SNMP_USER_KEYS = re.compile(
    r"\b((?:auth (?:md5|sha\S*)|priv(?: aes(?:[- ]?\d+)?| 3?des)?)(?: \d)? )(?!localizedkey)(\S+)"
)
_COMPILED: dict[str, tuple[re.Pattern[str] | None, list[re.Pattern[str]]]] = {}


def _patterns(driver: str) -> tuple[re.Pattern[str] | None, list[re.Pattern[str]]]:
    found = _COMPILED.get(driver)
    if found is None:
        volatile = VOLATILE.get(driver, [])
        joined = re.compile("|".join(f"(?:{p})" for p in volatile)) if volatile else None
        secrets = [re.compile(p) for p in SECRETS.get(driver, _CISCO_SECRETS)]
        found = _COMPILED[driver] = (joined, secrets)
    return found


@dataclass
class CleanConfig:
    """A configuration as stored: what changed on the way, and what validation found."""

    text: str
    secret_lines: int = 0  # lines masked or removed
    problems: list[str] = field(default_factory=list)

    @property
    def validated(self) -> bool:
        return not self.problems


def strip_volatile(text: str, driver: str) -> str:
    """``text`` without the lines that change by themselves; trailing blanks trimmed."""
    volatile, _ = _patterns(driver)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = [line for line in lines if volatile is None or not volatile.match(line)]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def hide_secrets(text: str, driver: str, policy: SecretPolicy = SecretPolicy.MASK) -> tuple[str, int]:
    """Mask (or remove) every secret ``text`` holds; returns the text and how many lines."""
    if policy == SecretPolicy.KEEP:
        return text, 0
    _, secrets = _patterns(driver)
    out: list[str] = []
    count = 0
    for line in text.split("\n"):
        removed = False
        if _SNMP_USER.match(line):  # SNMPv3 users carry two keys (auth and priv) on one line
            masked = _SNMP_USER_KEYS.sub(lambda f: f"{f.group(1)}{MASK}", line)
            if masked != line:
                count += 1
                if policy == SecretPolicy.REMOVE:
                    continue
                out.append(masked)
                continue
        for pattern in secrets:
            found = pattern.match(line)
            if found is None:
                continue
            secret = found.group(2).strip('"')
            if secret in WELL_KNOWN or secret == MASK:
                break
            count += 1
            if policy == SecretPolicy.REMOVE:
                removed = True
            else:
                quote = '"' if found.group(2).startswith('"') else ""
                rest = found.group(3) if (found.lastindex or 0) >= 3 else ""
                line = f"{found.group(1)}{quote}{MASK}{quote}{rest}"
            break
        if not removed:
            out.append(line)
    return "\n".join(out), count


def completeness_problem(text: str, driver: str) -> str | None:
    """Why ``text`` looks cut short (None when it is whole): the platform's end marker."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return "empty"
    if driver in ("cisco_ios", "arista_eos"):
        return None if lines[-1] == "end" else "no 'end' line at the end: the output was cut short"
    if driver == "cisco_nxos":
        if not any(line.startswith("version ") for line in lines[:10]):
            return "no 'version' line near the top: not a whole NX-OS configuration"
        return None
    if driver == "juniper_junos":
        if lines[0].startswith("set ") or lines[0].startswith("## "):
            bad = [line for line in lines if not line.startswith(("set ", "deactivate ", "## ", "#"))]
            if bad:
                return f"not every line is a set command: {bad[0][:60]!r}"
            return None if any(line.startswith("set version ") for line in lines) else "no 'set version' line"
        return None if text.count("{") == text.count("}") else "unbalanced braces: the output was cut short"
    return None


def parse_problem(text: str, driver: str) -> str | None:
    """None when netutils' parser for the platform reads ``text`` into configuration lines,
    else what went wrong. (hier-config reads whatever netutils does, at twenty times the cost,
    so it is left to the restores and remediations that need it.)"""
    from netutils.config.compliance import parser_map

    parser = parser_map.get(driver)
    if parser is None:
        return f"netutils has no parser for {driver}"
    try:
        if not parser(text).config_lines:
            return "netutils found no configuration lines"
    except Exception as exc:  # a third-party parser may raise anything on odd input
        return f"does not parse: {type(exc).__name__}: {exc}"
    return None


def hier_platform(driver: str) -> Platform:
    """hier-config's Platform for a netutils network driver (GENERIC when it has none)."""
    from hier_config import Platform

    return {
        "cisco_ios": Platform.CISCO_IOS,
        "cisco_nxos": Platform.CISCO_NXOS,
        "arista_eos": Platform.ARISTA_EOS,
        "juniper_junos": Platform.JUNIPER_JUNOS,
        "cisco_xr": Platform.CISCO_XR,
    }.get(driver, Platform.GENERIC)


@functools.cache
def hier_driver(driver: str) -> HConfigDriverBase:
    """hier-config's driver for a netutils network driver, built once (building one costs
    several times more than parsing a short configuration with it)."""
    from hier_config import get_hconfig_driver

    return get_hconfig_driver(hier_platform(driver))


def clean_config(raw: str, driver: str, policy: SecretPolicy = SecretPolicy.MASK) -> CleanConfig:
    """Validate ``raw`` as the device printed it, then drop volatile lines and hide secrets."""
    problems = []
    if not raw.strip():
        problems.append("empty")
    else:
        incomplete = completeness_problem(raw, driver)
        if incomplete:
            problems.append(incomplete)
    text = strip_volatile(raw, driver)
    text, hidden = hide_secrets(text, driver, policy)
    if text.strip():
        unparsable = parse_problem(text, driver)
        if unparsable:
            problems.append(unparsable)
    return CleanConfig(text, hidden, problems)
