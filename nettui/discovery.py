"""Network discovery: find devices at addresses, log in, learn what they are, record them.

A :class:`~catalog.models.DiscoveryJob` says where to look (``discovery_type`` and
``discovery_config``); :func:`run_discovery` probes every target with bounded concurrency:

1. SSH to the address, trying the configured SecretsGroups in order (a refused login moves
   on to the next group; an unreachable address stops at once: connect timeout ~2 s, a
   closed port fails immediately);
2. detect the platform from ``show version`` (typed at whatever prompt the device gives,
   so it works before nettui knows the platform), or take the platform given;
3. gather facts (hostname, serial, model, version, interfaces, and LLDP neighbours for a
   crawl) through the platform's own CLI session;
4. create or update the Device, matched by serial, then name, then address; its SSH host
   key is trusted on first use, and a changed key is refused.

Every address that yields no device gets a reason in the job's ``errors``. Every address's
outcome (the device created or updated, with its name and platform, or the reason) is kept
in ``discovery_config["results"]``, which :func:`job_record` shows as the job's ``results``
(and leaves out of its ``discovery_config``, so that a re-run takes the settings alone).

Sources: ``cidr`` and ``ip_range`` (each address on each of ``ports``), ``csv_import`` (rows
of host, ssh_port, name, platform, secrets_group; bad rows are reported and the rest
probed), ``controller_api`` (a device list from an HTTP API provider config) and
``lldp_crawl`` (from seed devices along LLDP neighbours, to a depth and a count, only to
management addresses inside the allowed prefixes; ``address_map`` says where to reach an
advertised address when that is not the address itself, as for the lab on loopback).
"""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncssh
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import DiscoveryType, JobStatus
from catalog.naming import manufacturer_for_driver, network_driver_for, slugify
from catalog.secrets import SecretResolutionError, resolve_group
from catalog.store import Store
from drivers.asyncssh_provider import AsyncsshProvider
from drivers.base import Credentials, DeviceTarget
from drivers.errors import DeviceError
from drivers.redaction import first_line, register
from drivers.trust import HostKey, stored_host_key

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DiscoveryConfigError",
    "DiscoveryProgress",
    "create_job",
    "detect_platform",
    "discover",
    "get_job",
    "list_jobs",
    "parse_lldp_neighbors",
    "parse_ports",
    "range_bounds",
    "run_discovery",
]

DEFAULT_CONNECT_TIMEOUT_S: Final = 2.0
DEFAULT_COMMAND_TIMEOUT_S: Final = 15.0
DEFAULT_CONCURRENCY: Final = 20
DEFAULT_MAX_DEVICES: Final = 1000
MAX_TARGETS: Final = 65536  # addresses x ports in one job: a /16 on one port
CSV_COLUMNS: Final = ("host", "ssh_port", "name", "platform", "secrets_group")
CONFIG_KEYS: Final = frozenset(
    {
        "cidr",
        "range",
        "csv",
        "controller",
        "controller_path",
        "probe",
        "seeds",
        "depth",
        "max_devices",
        "allowed_prefixes",
        "address_map",
        "ports",
        "secrets_groups",
        "connect_timeout",
        "timeout",
        "concurrency",
        "detect",
    }
)

# show version says what it is; the first pattern that matches wins (NX-OS before IOS).
PLATFORM_SIGNATURES: Final = (
    (re.compile(r"Cisco Nexus Operating System|\bNX-OS\b"), "cisco_nxos"),
    (re.compile(r"Cisco IOS XR|IOS-XR"), "cisco_xr"),
    (re.compile(r"\bArista\b"), "arista_eos"),
    (re.compile(r"\bJUNOS\b|^Junos:", re.MULTILINE), "juniper_junos"),
    (re.compile(r"Cisco IOS XE|IOS-XE|Cisco IOS Software|Cisco Internetwork Operating System"), "cisco_ios"),
)
# Per platform: the command listing interfaces, and the one listing LLDP neighbours.
INTERFACE_COMMANDS: Final = {
    "cisco_ios": "show ip interface brief",
    "cisco_nxos": "show interface brief",
    "arista_eos": "show interfaces status",
    "juniper_junos": "show interfaces terse",
}
LLDP_COMMANDS: Final = {
    "cisco_ios": "show lldp neighbors detail",
    "cisco_nxos": "show lldp neighbors detail",
    "arista_eos": "show lldp neighbors detail",
    "juniper_junos": "show lldp neighbors",
}
DETECTORS: Final = ("show_version", "netmiko")
_ANY_PROMPT = re.compile(r"[\w.\-@/:+~]{1,63}(?:\([\w.\-@/:+ ]{1,40}\))?[>#%$] ?")
_MORE = re.compile(r"(?i)\s*-+ ?\(?more.*")
_PASSWORD_PROMPT = re.compile(r"(?i)\s*password: ?")


class DiscoveryConfigError(NettuiError):
    """The job's configuration cannot be used; nothing was probed."""


@dataclass(frozen=True)
class DiscoveryProgress:
    """One address done (or the job's start, with ``address`` None): for progress displays."""

    done: int
    total: int
    address: str | None
    outcome: str  # "created", "updated", "failed", "skipped", "started"
    detail: str = ""


ProgressCallback = Callable[[DiscoveryProgress], None]


# -- configuration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One place to probe."""

    host: str
    port: int
    name: str | None = None  # given by a CSV row or a controller: used when facts have no hostname
    platform: str | None = None  # given: no detection
    secrets_group: str | None = None  # tried before the job's groups
    origin: str = ""  # "file.csv:3", "seed", "neighbour of sw1"
    advertised: str | None = None  # the LLDP management address it was found by
    depth: int = 0
    known: dict[str, Any] = field(default_factory=dict)  # facts a controller gave

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_ports(text: str | int | Sequence[int | str] | None) -> list[int]:
    """``"22"``, ``"22,830"``, ``"10022-10041"`` (or a list of those) -> sorted port numbers."""
    if text is None or text == "":
        return [22]
    items: Iterable[int | str] = [text] if isinstance(text, str | int) else text
    ports: set[int] = set()
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part:
                    low, high = (int(p) for p in part.split("-", 1))
                else:
                    low = high = int(part)
            except ValueError:
                raise DiscoveryConfigError(
                    f"bad port {part!r}", where="ports", hint="give numbers and ranges: 22,830 or 10022-10041"
                ) from None
            if not 1 <= low <= high <= 65535:
                raise DiscoveryConfigError(
                    f"bad port range {part!r}", where="ports", hint="ports are 1 to 65535, low-high"
                )
            ports.update(range(low, high + 1))
    return sorted(ports) or [22]


def _cidr_hosts(text: str) -> list[str]:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise DiscoveryConfigError(f"not a prefix: {exc}", where="cidr", hint="e.g. 10.0.0.0/24") from None
    if network.num_addresses > MAX_TARGETS:
        raise DiscoveryConfigError(
            f"{network} has {network.num_addresses} addresses, more than {MAX_TARGETS} in one job",
            where="cidr",
            hint="split it into smaller prefixes",
        )
    hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
    return [str(h) for h in hosts]


def range_bounds(text: str) -> tuple[int, int]:
    """The first and last address (as numbers) of ``A-B``, or of ``10.0.0.5-20`` (the last
    octet); :class:`DiscoveryConfigError` (where ``range``) when it is not a range to probe."""
    where = "range"
    if "-" not in text:
        raise DiscoveryConfigError("not a range", where=where, hint="give A-B, e.g. 10.0.0.1-10.0.0.20 or 10.0.0.1-20")
    first_text, last_text = (p.strip() for p in text.split("-", 1))
    try:
        first = ipaddress.ip_address(first_text)
        if last_text.isdigit() and first.version == 4:
            last = ipaddress.ip_address(".".join([*first_text.split(".")[:3], last_text]))
        else:
            last = ipaddress.ip_address(last_text)
    except ValueError as exc:
        raise DiscoveryConfigError(f"bad address: {exc}", where=where) from None
    if first.version != last.version or int(last) < int(first):
        raise DiscoveryConfigError("the range must go from a lower to a higher address", where=where)
    if int(last) - int(first) + 1 > MAX_TARGETS:
        raise DiscoveryConfigError(f"more than {MAX_TARGETS} addresses in one job", where=where, hint="split it")
    return int(first), int(last)


def _range_hosts(text: str) -> list[str]:
    """``A-B`` with two addresses, or ``10.0.0.5-20`` (the last octet)."""
    first, last = range_bounds(text)
    return [str(ipaddress.ip_address(number)) for number in range(first, last + 1)]


def _prefixes(values: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    prefixes = []
    for value in values or []:
        try:
            prefixes.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as exc:
            raise DiscoveryConfigError(f"not a prefix: {exc}", where="allowed_prefixes") from None
    return prefixes


def _host_port(text: str, default_port: int, where: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port``."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise DiscoveryConfigError(
            f"bad port in {text!r}", where=where, hint="host:port, e.g. 127.0.0.1:10022"
        ) from None
    if not host or not 1 <= port <= 65535:
        raise DiscoveryConfigError(f"bad address {text!r}", where=where, hint="host:port, e.g. 127.0.0.1:10022")
    return host, port


@dataclass(frozen=True)
class _Settings:
    kind: DiscoveryType
    config: dict[str, Any]
    ports: list[int]
    groups: list[str]
    connect_timeout: float
    timeout: float
    concurrency: int
    depth: int
    max_devices: int
    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    address_map: dict[str, tuple[str, int]]
    detect: str  # "show_version" (read its banner) or "netmiko" (netmiko's SSHDetect)


def _number(config: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DiscoveryConfigError(f"{key} must be a number from {low:g} to {high:g}, not {value!r}", where=key)
    return float(value)


def _settings(kind: DiscoveryType | str, config: Mapping[str, Any]) -> _Settings:
    """Check a job's configuration; every problem names the setting."""
    try:
        kind = DiscoveryType(kind)
    except ValueError:
        raise DiscoveryConfigError(
            f"unknown discovery type {kind!r}", hint=f"use one of: {', '.join(t.value for t in DiscoveryType)}"
        ) from None
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise DiscoveryConfigError(
            f"unknown setting {', '.join(unknown)}",
            where="discovery_config",
            hint=f"known: {', '.join(sorted(CONFIG_KEYS))}",
        )
    needs = {
        DiscoveryType.CIDR: "cidr",
        DiscoveryType.IP_RANGE: "range",
        DiscoveryType.CSV_IMPORT: "csv",
        DiscoveryType.CONTROLLER_API: "controller",
        DiscoveryType.LLDP_CRAWL: "seeds",
    }[kind]
    if not config.get(needs):
        raise DiscoveryConfigError(f"a {kind.value} discovery needs {needs}", where="discovery_config")
    groups = config.get("secrets_groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise DiscoveryConfigError("secrets_groups must be a list of group names", where="secrets_groups")
    allowed = _prefixes(config.get("allowed_prefixes"))
    if kind is DiscoveryType.LLDP_CRAWL and not allowed:
        raise DiscoveryConfigError(
            "an LLDP crawl follows neighbours only inside allowed prefixes, and none are given",
            where="allowed_prefixes",
            hint="give the management prefixes to crawl, e.g. --allow 10.0.0.0/16",
        )
    detect = str(config.get("detect") or "show_version")
    if detect not in DETECTORS:
        raise DiscoveryConfigError(
            f"unknown detection {detect!r}", where="detect", hint=f"use {' or '.join(DETECTORS)}"
        )
    ports = parse_ports(config.get("ports"))
    if kind is DiscoveryType.CIDR:
        _cidr_hosts(str(config["cidr"]))
    elif kind is DiscoveryType.IP_RANGE:
        range_bounds(str(config["range"]))
    raw_map = config.get("address_map") or {}
    if not isinstance(raw_map, dict):
        raise DiscoveryConfigError("address_map must map addresses to host:port", where="address_map")
    address_map = {str(k): _host_port(str(v), ports[0], f"address_map[{k}]") for k, v in raw_map.items()}
    return _Settings(
        kind=kind,
        config=dict(config),
        ports=ports,
        groups=list(groups),
        connect_timeout=_number(config, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S, 0.05, 120),
        timeout=_number(config, "timeout", DEFAULT_COMMAND_TIMEOUT_S, 0.5, 600),
        concurrency=int(_number(config, "concurrency", DEFAULT_CONCURRENCY, 1, 1000)),
        depth=int(_number(config, "depth", 1, 0, 64)),
        max_devices=int(_number(config, "max_devices", DEFAULT_MAX_DEVICES, 1, 100000)),
        allowed=allowed,
        address_map=address_map,
        detect=detect,
    )


# -- jobs in the store -------------------------------------------------------------------------------


def create_job(
    store: Store, discovery_type: DiscoveryType | str, config: Mapping[str, Any], *, requested_by: str | None = None
) -> int:
    """Check the configuration (and that its secrets groups, seeds and controller exist) and
    record a pending job; its id. Nothing is written when the configuration is wrong."""
    settings = _settings(discovery_type, config)
    with store.session() as session:
        _check_names(session, settings)
        user_id = None
        if requested_by is not None:
            user_id = session.scalar(select(m.User.id).where(m.User.username == requested_by))
        job = m.DiscoveryJob(
            discovery_type=settings.kind,
            discovery_config=settings.config,
            status=JobStatus.PENDING,
            requested_by_id=user_id,
        )
        session.add(job)
        session.flush()
        return job.id


def _check_names(session: Session, settings: _Settings) -> None:
    known = set(session.scalars(select(m.SecretsGroup.name).where(m.SecretsGroup.name.in_(settings.groups))))
    for name in settings.groups:
        if name not in known:
            raise NotFoundError(f"no secrets group '{name}'", hint="`nettui secrets list` lists them")
    # A crawl's seeds bring their own groups; a controller's list may be taken as it is.
    needs_groups = settings.kind not in (DiscoveryType.LLDP_CRAWL, DiscoveryType.CSV_IMPORT) and (
        settings.kind is not DiscoveryType.CONTROLLER_API or settings.config.get("probe", True)
    )
    if needs_groups and not settings.groups:
        raise DiscoveryConfigError(
            "no secrets groups to log in with",
            where="secrets_groups",
            hint="give one or more, tried in order: --secrets-group NAME",
        )
    if settings.kind is DiscoveryType.CSV_IMPORT and not Path(str(settings.config["csv"])).expanduser().is_file():
        raise DiscoveryConfigError(
            "no such file", where=str(settings.config["csv"]), hint="give the path of a CSV file"
        )
    if settings.kind is DiscoveryType.CONTROLLER_API:
        name = str(settings.config["controller"])
        if session.scalar(select(m.ProviderConfig.id).where(m.ProviderConfig.name == name)) is None:
            raise NotFoundError(
                f"no provider config '{name}'",
                hint="add an http_api provider config with settings.base_url (nettui catalog)",
            )
    if settings.kind is DiscoveryType.LLDP_CRAWL:
        for seed in settings.config["seeds"]:
            if session.scalar(select(m.Device.id).where(m.Device.name == seed)) is None and ":" not in str(seed):
                raise NotFoundError(
                    f"no device '{seed}' to start the crawl from",
                    hint="name a device in the inventory, or give host:port",
                )


RESULTS_KEY = "results"  # in discovery_config: the per-address outcomes of the run
_RESULT_FACTS = ("serial", "model", "version")


def job_record(job: m.DiscoveryJob) -> dict[str, Any]:
    """A JSON-able view of a job; ``results`` has one entry per address tried: ``{address,
    outcome: created|updated|failed, device, platform, serial, model, version}`` or
    ``{address, outcome: failed, stage, reason}`` (``origin`` too, for CSV rows and crawls)."""
    config = dict(job.discovery_config or {})
    results = config.pop(RESULTS_KEY, [])
    return {
        "id": job.id,
        "discovery_type": job.discovery_type.value,
        "status": job.status.value,
        "discovery_config": config,
        "devices_discovered": job.devices_discovered,
        "devices_created": job.devices_created,
        "devices_updated": job.devices_updated,
        "results": results,
        "errors": job.errors,
        "run_timestamp": job.run_timestamp,
        "requested_by": job.requested_by.username if job.requested_by is not None else None,
    }


def list_jobs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The latest jobs, newest first."""
    with store.read_session() as session:
        jobs = session.scalars(
            select(m.DiscoveryJob)
            .options(selectinload(m.DiscoveryJob.requested_by))
            .order_by(m.DiscoveryJob.id.desc())
            .limit(limit)
        )
        return [job_record(j) for j in jobs]


def get_job(store: Store, job_id: int) -> dict[str, Any]:
    with store.read_session() as session:
        job = session.get(m.DiscoveryJob, job_id, options=[selectinload(m.DiscoveryJob.requested_by)])
        if job is None:
            raise NotFoundError(f"no discovery job {job_id}", hint="`nettui discover list` lists them")
        return job_record(job)


# -- probing one address -----------------------------------------------------------------------------


class _Failed(Exception):
    """Why an address yields no device (a plain message, no secrets)."""

    def __init__(self, reason: str, stage: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


@dataclass
class Found:
    """What one address turned out to be."""

    target: Target
    network_driver: str
    facts: dict[str, Any]
    interfaces: list[dict[str, Any]]
    neighbors: list[dict[str, str]]
    secrets_group: str | None
    host_key: HostKey | None


def detect_platform(show_version: str) -> str | None:
    """The network driver ``show version`` output belongs to, or None."""
    for pattern, driver in PLATFORM_SIGNATURES:
        if pattern.search(show_version):
            return driver
    return None


async def _read_until_prompt(process: asyncssh.SSHClientProcess[str], timeout: float, marker: str = "") -> str:
    """Read the shell's output until its last line is a prompt (after ``marker`` was seen),
    answering --More-- with a space."""
    text = ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError
        chunk = await asyncio.wait_for(process.stdout.read(65536), remaining)
        if not chunk:
            raise _Failed("the device closed the session", "detect")
        text += chunk
        last = text.rsplit("\n", 1)[-1].lstrip("\r")
        if _MORE.fullmatch(last):
            process.stdin.write(" ")
            continue
        if (not marker or marker in text) and _ANY_PROMPT.fullmatch(last):
            return text


async def _login(target: Target, creds: Credentials, settings: _Settings) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        target.host,
        target.port,
        username=creds.username.reveal(),
        password=creds.password.reveal() if creds.password else None,
        known_hosts=None,  # the key is read here and checked against the store before use
        client_keys=None,
        agent_path=None,
        config=[],
        gss_host=None,
        connect_timeout=settings.connect_timeout,
        login_timeout=settings.timeout,
    )


async def _probe_shell(conn: asyncssh.SSHClientConnection, timeout: float) -> str:
    """``show version`` at whatever prompt the device gives."""
    process = await conn.create_process(term_type="vt100", term_size=(511, 24))
    try:
        await _read_until_prompt(process, timeout)
        process.stdin.write("show version\n")
        return await _read_until_prompt(process, timeout, marker="show version")
    finally:
        process.close()


def _parse_interfaces(driver: str, output: str) -> list[dict[str, Any]]:
    """Physical and logical interfaces from the platform's brief interface listing."""
    interfaces: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in output.splitlines():
        words = line.split()
        if not words or not re.search(r"\d", words[0]) or words[0].lower().startswith(("interface", "port", "eth ")):
            continue
        name = words[0]
        if driver == "juniper_junos" and "." in name:
            continue  # logical units: the physical port is enough
        if not re.fullmatch(r"[A-Za-z][\w\-/.:]*\d[\w/.:]*", name) or name in seen:
            continue
        lowered = line.lower()
        enabled = "administratively down" not in lowered and "disabled" not in lowered
        if driver == "juniper_junos" and len(words) > 1:
            enabled = words[1] == "up"
        seen.add(name)
        interfaces.append({"name": name, "enabled": enabled, "type": _interface_type(name)})
    return interfaces


def _interface_type(name: str) -> str:
    lowered = name.lower()
    if lowered.startswith(("vlan", "lo", "tunnel", "irb", "me0", "mgmt", "management", "port-channel", "po", "ae")):
        return "virtual" if not lowered.startswith(("port-channel", "po", "ae")) else "lag"
    if lowered.startswith(("tengig", "te", "xe-")):
        return "10gbase-x-sfpp"
    if lowered.startswith(("gigabit", "gi", "ge-")):
        return "1000base-t"
    return "other"


_LLDP_NAME = re.compile(r'System Name\s*:\s*"?([^"\s]+)"?')
_LLDP_ADDRESS = re.compile(r"(?:Management Address(?:es)?\s*:\s*|^\s*IP:\s*)(\d{1,3}(?:\.\d{1,3}){3})", re.MULTILINE)


def parse_lldp_neighbors(driver: str, output: str) -> list[dict[str, str]]:
    """Neighbours (``name``, ``mgmt_address``, which may be empty) from LLDP detail output.
    Junos' plain ``show lldp neighbors`` has names only."""
    neighbors: list[dict[str, str]] = []
    if driver == "juniper_junos":
        for line in output.splitlines()[1:]:
            words = line.split()
            if len(words) >= 5:
                neighbors.append({"name": words[-1], "mgmt_address": ""})
        return neighbors
    for line in output.splitlines():
        if found := _LLDP_NAME.search(line):
            neighbors.append({"name": found.group(1), "mgmt_address": ""})
        elif (found := _LLDP_ADDRESS.search(line)) and neighbors and not neighbors[-1]["mgmt_address"]:
            neighbors[-1]["mgmt_address"] = found.group(1)
    return neighbors


def _netmiko_detect(target: Target, creds: Credentials, settings: _Settings) -> str:
    """netmiko's SSHDetect (its own session; about 12 s a device, as it tries many commands)."""
    from netmiko.ssh_autodetect import SSHDetect

    try:
        guesser = SSHDetect(
            device_type="autodetect",
            host=target.host,
            port=target.port,
            username=creds.username.reveal(),
            password=creds.password.reveal() if creds.password else None,
            secret=creds.enable_secret.reveal() if creds.enable_secret else "",
            timeout=settings.timeout,
            conn_timeout=settings.connect_timeout,
            ssh_config_file=None,
            allow_agent=False,
        )
    except Exception as exc:  # netmiko raises many types; none may carry a secret out
        raise _Failed(f"netmiko autodetect could not log in: {type(exc).__name__}", "detect") from None
    try:
        best = guesser.autodetect()
    except Exception as exc:
        raise _Failed(f"netmiko autodetect failed: {type(exc).__name__}", "detect") from None
    finally:
        guesser.connection.disconnect()
    driver = network_driver_for(best) if best else None
    if driver is None:
        raise _Failed("netmiko autodetect recognised no platform", "detect")
    return driver


async def _facts(
    target: Target, driver: str, creds: Credentials, key: HostKey, settings: _Settings, want_neighbors: bool
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, str]]]:
    device_target = DeviceTarget(
        name=target.name or target.address,
        host=target.host,
        port=target.port,
        network_driver=driver,
        credentials=creds,
        known_hosts_line=key.known_hosts_line(target.host, target.port),
        timeout=settings.timeout,
    )
    async with AsyncsshProvider(device_target) as session:
        facts = await session.get_facts()
        if driver == "juniper_junos" and not facts.get("serial"):
            hardware = (await session.send_command("show chassis hardware")).output
            if found := re.search(r"^Chassis\s+(\S+)", hardware, re.MULTILINE):
                facts["serial"] = found.group(1)
        if driver in ("cisco_ios", "cisco_nxos"):
            # The orderable part number (N9K-C93180YC-FX), as inventories name models, is in
            # show inventory; show version may give the chassis name without its prefix.
            try:
                inventory = (await session.send_command("show inventory")).output
            except DeviceError:
                inventory = ""
            if found := re.search(r"\bPID:\s*([^\s,]+)", inventory):
                facts["model"] = found.group(1)
        interfaces: list[dict[str, Any]] = []
        if driver in INTERFACE_COMMANDS:
            interfaces = _parse_interfaces(driver, (await session.send_command(INTERFACE_COMMANDS[driver])).output)
        neighbors: list[dict[str, str]] = []
        if want_neighbors and driver in LLDP_COMMANDS:
            neighbors = parse_lldp_neighbors(driver, (await session.send_command(LLDP_COMMANDS[driver])).output)
    return facts, interfaces, neighbors


async def _probe(
    target: Target, groups: Sequence[tuple[str, Credentials]], settings: _Settings, want_neighbors: bool
) -> Found:
    """Reach, log in, detect, gather facts; _Failed says why not."""
    order = list(groups)
    if target.secrets_group is not None:
        order.sort(key=lambda item: item[0] != target.secrets_group)
    if not order:
        raise _Failed("no secrets group to log in with", "login")
    refused: list[str] = []
    for group_name, creds in order:
        try:
            conn = await _login(target, creds, settings)
        except asyncssh.PermissionDenied:
            refused.append(group_name)
            continue
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            detail = first_line(str(exc)) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                detail = f"no answer within {settings.connect_timeout:g} s"
            raise _Failed(f"unreachable: {detail}", "reach") from None
        async with conn:
            server_key = conn.get_server_host_key()
            key = None
            if server_key is not None:
                key_type, blob = server_key.export_public_key("openssh").decode().split()[:2]
                key = HostKey(key_type, f"{key_type} {blob}", server_key.get_fingerprint("sha256"))
            driver = network_driver_for(target.platform) if target.platform else None
            if driver is None and settings.detect == "netmiko":
                driver = await asyncio.to_thread(_netmiko_detect, target, creds, settings)
            if driver is None:
                try:
                    banner = await _probe_shell(conn, settings.timeout)
                except TimeoutError:
                    raise _Failed(f"logged in, but no prompt within {settings.timeout:g} s", "detect") from None
                except (OSError, asyncssh.Error) as exc:
                    raise _Failed(f"logged in, but no shell: {first_line(str(exc))}", "detect") from None
                driver = detect_platform(banner)
                if driver is None:
                    raise _Failed("logged in, but show version names no platform nettui knows", "detect")
        if key is None:
            raise _Failed("the device sent no SSH host key", "reach")
        if driver is None:  # the session's exit may have swallowed the detection's failure
            raise _Failed("logged in, but the platform could not be detected", "detect")
        try:
            facts, interfaces, neighbors = await _facts(target, driver, creds, key, settings, want_neighbors)
        except DeviceError as exc:
            raise _Failed(f"{driver}: facts failed: {exc.what}", "facts") from None
        return Found(target, driver, facts, interfaces, neighbors, group_name, key)
    raise _Failed(f"login refused with every secrets group tried ({', '.join(refused)})", "login")


# -- recording devices -----------------------------------------------------------------------------


def _platform(session: Session, driver: str) -> m.Platform:
    platform = session.scalars(
        select(m.Platform).where(m.Platform.network_driver == driver).order_by(m.Platform.id)
    ).first()
    if platform is not None:
        return platform
    manufacturer = None
    maker = manufacturer_for_driver(driver)
    if maker is not None:
        manufacturer = session.scalars(select(m.Manufacturer).where(m.Manufacturer.name == maker)).one_or_none()
        if manufacturer is None:
            manufacturer = m.Manufacturer(name=maker, slug=slugify(maker))
            session.add(manufacturer)
    platform = session.scalars(select(m.Platform).where(m.Platform.name == driver)).one_or_none()
    if platform is None:
        platform = m.Platform(name=driver, slug=slugify(driver), network_driver=driver, manufacturer=manufacturer)
        session.add(platform)
    return platform


def _match(session: Session, serial: str, name: str, host: str, port: int) -> tuple[m.Device | None, str]:
    if serial:
        device = session.scalars(select(m.Device).where(m.Device.serial == serial).order_by(m.Device.id)).first()
        if device is not None:
            return device, "serial"
    if name:
        device = session.scalars(select(m.Device).where(m.Device.name == name)).one_or_none()
        if device is not None:
            return device, "name"
    device = session.scalars(
        select(m.Device).where(m.Device.host == host, m.Device.ssh_port == port).order_by(m.Device.id)
    ).first()
    return device, "address"


def _free_name(session: Session, wanted: str) -> str:
    name, number = wanted, 1
    while session.scalar(select(func.count()).select_from(m.Device).where(m.Device.name == name)):
        number += 1
        name = f"{wanted}-{number}"
    return name


def _record(session: Session, found: Found, touched: dict[int, str]) -> tuple[str, str]:
    """Create or update the device; ("created"|"updated", device name). _Failed when the
    host key changed or the device was already found at another address in this job."""
    facts = found.facts
    target = found.target
    serial = str(facts.get("serial") or target.known.get("serial") or "")
    hostname = str(facts.get("hostname") or target.name or "")
    device, matched_by = _match(session, serial, hostname, target.host, target.port)
    if device is not None and device.id in touched:
        raise _Failed(f"the same device as {touched[device.id]} (matched by {matched_by}), found twice", "store")
    if device is not None and found.host_key is not None:
        trusted = stored_host_key(session, device.id)
        if trusted is not None and trusted.public_key != found.host_key.public_key:
            raise _Failed(
                f"matches device {device.name} by {matched_by}, but its SSH host key changed "
                f"({trusted.fingerprint} trusted, {found.host_key.fingerprint} presented); not updated. "
                f"If the change is expected: nettui device trust {device.name}",
                "store",
            )
    platform = _platform(session, found.network_driver)
    group = None
    if found.secrets_group is not None:
        group = session.scalars(select(m.SecretsGroup).where(m.SecretsGroup.name == found.secrets_group)).one_or_none()
    outcome = "updated"
    if device is None:
        outcome = "created"
        device = m.Device(name=_free_name(session, hostname or f"{target.host}-{target.port}"), host=target.host)
        session.add(device)
    device.host, device.ssh_port = target.host, target.port
    device.platform = platform
    if platform.manufacturer is not None:
        device.manufacturer = platform.manufacturer
    device.model = str(facts.get("model") or target.known.get("model") or device.model or "")[:100]
    device.software_version = str(facts.get("version") or target.known.get("version") or device.software_version or "")[
        :100
    ]
    device.serial = serial[:100] or device.serial
    if group is not None:
        device.secrets_group = group
    session.flush()
    existing = {i.name: i for i in session.scalars(select(m.Interface).where(m.Interface.device_id == device.id))}
    for item in found.interfaces:
        interface = existing.get(item["name"])
        if interface is None:
            interface = m.Interface(device_id=device.id, name=item["name"], type=item["type"])
            session.add(interface)
        interface.enabled = item["enabled"]
    if found.host_key is not None and stored_host_key(session, device.id) is None:
        key = found.host_key
        session.add(
            m.DeviceHostKey(
                device_id=device.id, key_type=key.key_type, public_key=key.public_key, fingerprint=key.fingerprint
            )
        )
    touched[device.id] = f"{target.address}"
    return outcome, device.name


# -- sources -----------------------------------------------------------------------------------------


def _csv_targets(path: Path, settings: _Settings, errors: list[dict[str, Any]]) -> list[Target]:
    """Rows of the CSV file as targets; bad rows go to ``errors`` with their line."""
    source = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DiscoveryConfigError(f"cannot read the file: {exc.strerror}", where=source) from None
    targets: list[Target] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = [c.strip().lower() for c in next(reader, [])]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DiscoveryConfigError(f"not a CSV file: {exc}", where=source) from None
        if not header:
            raise DiscoveryConfigError("the file is empty; the first line names the columns", where=source)
        if "address" in header and "host" not in header:
            header[header.index("address")] = "host"
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown or "host" not in header:
            raise DiscoveryConfigError(
                f"bad header: {'unknown column ' + ', '.join(unknown) if unknown else 'no host column'}",
                where=f"{source}:1",
                hint=f"columns: {', '.join(CSV_COLUMNS)} (host is required)",
            )
        line = reader.line_num
        try:
            for cells in reader:
                line, row_line = reader.line_num, line + 1
                if not any(c.strip() for c in cells):
                    continue
                where = f"{source}:{row_line}"
                if len(cells) != len(header):
                    errors.append(_error(where, f"has {len(cells)} cells but the header has {len(header)}", "input"))
                    continue
                row = {k: v.strip() for k, v in zip(header, cells, strict=True)}
                host = row.get("host", "")
                try:
                    ipaddress.ip_address(host)
                except ValueError:
                    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,252})", host):
                        errors.append(_error(where, f"host {host!r} is not an address or a host name", "input"))
                        continue
                port_text = row.get("ssh_port") or ""
                if port_text and (not port_text.isdigit() or not 1 <= int(port_text) <= 65535):
                    errors.append(_error(where, f"ssh_port {port_text!r} is not a port (1-65535)", "input"))
                    continue
                platform = row.get("platform") or None
                if platform is not None and network_driver_for(platform) is None:
                    errors.append(_error(where, f"platform {platform!r} is not a network driver nettui knows", "input"))
                    continue
                ports = [int(port_text)] if port_text else settings.ports
                for port in ports:
                    targets.append(
                        Target(
                            host,
                            port,
                            name=row.get("name") or None,
                            platform=platform,
                            secrets_group=row.get("secrets_group") or None,
                            origin=where,
                        )
                    )
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DiscoveryConfigError(f"cannot read CSV: {exc}", where=f"{source}:{line}") from None
    return targets


_CONTROLLER_FIELDS: Final = {
    "name": ("hostname", "name", "deviceName"),
    "host": ("managementIpAddress", "management_ip", "host", "address", "primary_ip", "ip"),
    "port": ("ssh_port", "port"),
    "serial": ("serialNumber", "serial", "serial_number"),
    "model": ("platformId", "model"),
    "version": ("softwareVersion", "software_version", "version"),
    "platform": ("network_driver", "platform", "os"),
}


def _pick(item: Mapping[str, Any], key: str) -> str:
    for name in _CONTROLLER_FIELDS[key]:
        value = item.get(name)
        if isinstance(value, dict):
            value = value.get("address") or value.get("name")
        if value not in (None, ""):
            return str(value).split("/")[0] if key == "host" else str(value)
    return ""


async def _controller_targets(store: Store, settings: _Settings, errors: list[dict[str, Any]]) -> list[Target]:
    from drivers.http_provider import ApiError, HttpApiProvider

    name = str(settings.config["controller"])

    def load() -> tuple[HttpApiProvider, str]:
        with store.read_session() as session:
            config = session.scalars(
                select(m.ProviderConfig)
                .where(m.ProviderConfig.name == name)
                .options(
                    selectinload(m.ProviderConfig.credentials).selectinload(m.SecretsGroup.entries),
                    selectinload(m.ProviderConfig.provider),
                )
            ).one_or_none()
            if config is None:
                raise NotFoundError(f"no provider config '{name}'")
            path = settings.config.get("controller_path") or config.settings.get("devices_path") or "/devices"
            return HttpApiProvider.from_config(config), str(path)

    api, path = await asyncio.to_thread(load)
    try:
        async with api:
            data = (await api.get(path)).json
    except ApiError as exc:
        raise DiscoveryConfigError(
            f"the controller's device list: {exc.what}", where=f"provider config {name}, GET {path}"
        ) from None
    if isinstance(data, dict):
        data = next(
            (data[k] for k in ("devices", "results", "response", "data", "items") if isinstance(data.get(k), list)),
            None,
        )
    if not isinstance(data, list):
        raise DiscoveryConfigError(
            "the answer is not a device list",
            where=f"provider config {name}, GET {path}",
            hint="a JSON list, or {devices|results|response: [...]}",
        )
    targets = []
    for number, item in enumerate(data, start=1):
        where = f"{name}{path}[{number}]"
        if not isinstance(item, dict):
            errors.append(_error(where, "not an object", "input"))
            continue
        host = _pick(item, "host")
        if not host:
            errors.append(_error(where, f"{_pick(item, 'name') or 'a device'} has no management address", "input"))
            continue
        port_text = _pick(item, "port")
        if port_text and not (port_text.isdigit() and 1 <= int(port_text) <= 65535):
            errors.append(_error(where, f"port {port_text!r} is not a port", "input"))
            continue
        platform = _pick(item, "platform")
        known = {k: _pick(item, k) for k in ("serial", "model", "version")}
        targets.append(
            Target(
                host,
                int(port_text) if port_text else settings.ports[0],
                name=_pick(item, "name") or None,
                platform=platform if platform and network_driver_for(platform) else None,
                origin=where,
                known={k: v for k, v in known.items() if v},
            )
        )
    return targets


def _error(address: str | None, reason: str, stage: str, **extra: Any) -> dict[str, Any]:
    return {"address": address, "reason": reason, "stage": stage, **extra}


# -- the run -------------------------------------------------------------------------------------------


@dataclass
class _Run:
    store: Store
    job_id: int
    settings: _Settings
    groups: list[tuple[str, Credentials]]
    progress: ProgressCallback | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    discovered: int = 0
    created: int = 0
    updated: int = 0
    done: int = 0
    total: int = 0
    touched: dict[int, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one device written at a time
    row_groups: dict[str, Credentials] = field(default_factory=dict)  # groups named by CSV rows
    found: list[dict[str, Any]] = field(default_factory=list)  # the devices created or updated, per address

    def results(self) -> list[dict[str, Any]]:
        """Every address's outcome: the devices found, then the addresses that yielded none."""
        failed = [
            {"address": e["address"], "outcome": "failed", **{k: v for k, v in e.items() if k != "address"}}
            for e in self.errors
            if e.get("address")
        ]
        return [*self.found, *failed]

    def tell(self, address: str | None, outcome: str, detail: str = "") -> None:
        if self.progress is not None:
            self.progress(DiscoveryProgress(self.done, self.total, address, outcome, detail))

    def save(self, session: Session, status: JobStatus | None = None) -> None:
        job = session.get(m.DiscoveryJob, self.job_id)
        assert job is not None
        job.devices_discovered, job.devices_created, job.devices_updated = self.discovered, self.created, self.updated
        job.errors = list(self.errors)
        job.discovery_config = {**(job.discovery_config or {}), RESULTS_KEY: self.results()}
        if status is not None:
            job.status = status

    def _store_found(self, found: Found) -> tuple[str, str]:
        with self.lock, self.store.session() as session:
            outcome, name = _record(session, found, self.touched)
            facts = found.facts
            entry: dict[str, Any] = {
                "address": found.target.address,
                "outcome": outcome,
                "device": name,
                "platform": found.network_driver,
                **{
                    key: str(facts.get(key) or found.target.known.get(key) or "")
                    for key in ("serial", "model", "version")
                },
            }
            if found.target.origin:
                entry["origin"] = found.target.origin
            self.found.append(entry)
            self.discovered += 1
            if outcome == "created":
                self.created += 1
            else:
                self.updated += 1
            self.save(session)
            return outcome, name

    async def one(self, target: Target, semaphore: asyncio.Semaphore, want_neighbors: bool) -> Found | None:
        async with semaphore:
            try:
                groups = self.groups
                own = target.secrets_group
                if own is not None and own in self.row_groups and all(name != own for name, _ in groups):
                    groups = [(own, self.row_groups[own]), *groups]
                found = await _probe(target, groups, self.settings, want_neighbors)
                outcome, name = await asyncio.to_thread(self._store_found, found)
            except _Failed as failed:
                extra: dict[str, Any] = {"origin": target.origin} if target.origin else {}
                if target.advertised:
                    extra["advertised"] = target.advertised
                self.errors.append(_error(target.address, failed.reason, failed.stage, **extra))
                self.done += 1
                self.tell(target.address, "failed", failed.reason)
                return None
            except Exception as exc:  # one address must not end the job
                self.errors.append(_error(target.address, f"{type(exc).__name__}: {first_line(str(exc))}", "internal"))
                self.done += 1
                self.tell(target.address, "failed", str(exc))
                return None
        self.done += 1
        self.names.append(name)
        self.tell(target.address, outcome, f"{name} ({found.network_driver})")
        return found

    async def many(self, targets: Sequence[Target], want_neighbors: bool = False) -> list[Found]:
        semaphore = asyncio.Semaphore(self.settings.concurrency)
        results = await asyncio.gather(*(self.one(t, semaphore, want_neighbors) for t in targets))
        return [r for r in results if r is not None]

    async def crawl(self, seeds: list[Target]) -> None:
        settings = self.settings
        seen_names: set[str] = set()
        seen_addresses: set[str] = set()
        refused: set[str] = set()
        level = seeds
        for depth in range(settings.depth + 1):
            if not level:
                break
            budget = settings.max_devices - self.discovered
            found: list[Found] = []
            queue = list(level)
            while queue and budget > 0:
                batch, queue = queue[:budget], queue[budget:]
                for t in batch:
                    seen_addresses.update({t.address, t.advertised or t.address})
                self.total = self.done + len(batch) + len(queue)
                result = await self.many(batch, want_neighbors=depth < settings.depth)
                found += result
                budget -= len(result)
            for left in queue:
                self.errors.append(
                    _error(
                        left.address,
                        f"not probed: the count limit of {settings.max_devices} devices was reached",
                        "limit",
                    )
                )
            for item in found:
                seen_names.add(str(item.facts.get("hostname") or "").lower())
            next_level: list[Target] = []
            for item in found:
                source = str(item.facts.get("hostname") or item.target.address)
                for neighbor in item.neighbors:
                    name, address = neighbor["name"], neighbor["mgmt_address"]
                    if name.lower() in seen_names:
                        continue
                    if not address:
                        if name.lower() not in refused:
                            refused.add(name.lower())
                            self.errors.append(
                                _error(None, f"neighbour {name} of {source} advertises no management address", "lldp")
                            )
                        continue
                    if address in seen_addresses:
                        continue
                    seen_addresses.add(address)
                    ip = ipaddress.ip_address(address)
                    if not any(ip in prefix for prefix in settings.allowed):
                        self.errors.append(
                            _error(
                                address,
                                f"neighbour {name} of {source} is outside the allowed prefixes; not probed",
                                "filter",
                            )
                        )
                        continue
                    host, port = settings.address_map.get(address, (address, settings.ports[0]))
                    seen_names.add(name.lower())
                    next_level.append(
                        Target(
                            host, port, name=name, origin=f"neighbour of {source}", advertised=address, depth=depth + 1
                        )
                    )
            # Breadth first, in address order, so that a count limit cuts the same way every time.
            level = sorted(next_level, key=lambda t: ipaddress.ip_address(t.advertised or t.host))


def _row_groups(run: _Run, targets: list[Target]) -> list[Target]:
    """Resolve the secrets groups CSV rows name; a row whose group cannot be used is reported."""
    named = {t.secrets_group for t in targets if t.secrets_group is not None}
    problems: dict[str, str] = {}
    for name in sorted(named - {g for g, _ in run.groups}):
        try:
            ((_, creds),) = _resolve_groups(run.store, [name])
            run.row_groups[name] = creds
        except NettuiError as exc:
            problems[name] = exc.render()
    for target in targets:
        if target.secrets_group in problems:
            run.errors.append(_error(target.address, problems[target.secrets_group], "input", origin=target.origin))
    return [t for t in targets if t.secrets_group not in problems]


def _resolve_groups(store: Store, names: Sequence[str]) -> list[tuple[str, Credentials]]:
    """The groups' credentials now, in order; NettuiError naming the group and entry if not."""
    groups = []
    with store.read_session() as session:
        rows = {
            g.name: g
            for g in session.scalars(
                select(m.SecretsGroup)
                .where(m.SecretsGroup.name.in_(names))
                .options(selectinload(m.SecretsGroup.entries))
            )
        }
        for name in names:
            group = rows.get(name)
            if group is None:
                raise NotFoundError(f"no secrets group '{name}'", hint="`nettui secrets list` lists them")
            try:
                secrets = resolve_group(group)
            except SecretResolutionError as exc:
                raise DiscoveryConfigError(
                    exc.what, where=exc.where or f"secrets group {name}", hint=exc.hint
                ) from None
            username = secrets.get("username") or secrets.get("user")
            if username is None:
                raise DiscoveryConfigError(
                    f"secrets group '{name}' has no username entry",
                    hint=f"nettui secrets set {name} username=env:VARIABLE",
                )
            password = secrets.get("password")
            enable = secrets.get("enable_secret") or secrets.get("enable") or secrets.get("secret")
            register(s.reveal() for s in (password, enable) if s is not None)
            groups.append((name, Credentials(username, password, enable)))
    return groups


def _seed_targets(store: Store, settings: _Settings) -> tuple[list[Target], list[str]]:
    """Seeds as targets (a device's own secrets group goes first), and the extra groups they need."""
    targets, extra_groups = [], []
    with store.read_session() as session:
        for seed in settings.config["seeds"]:
            device = session.scalars(
                select(m.Device)
                .where(m.Device.name == str(seed))
                .options(selectinload(m.Device.platform), selectinload(m.Device.secrets_group))
            ).one_or_none()
            if device is None:
                host, port = _host_port(str(seed), settings.ports[0], "seeds")
                targets.append(Target(host, port, origin="seed"))
                continue
            group = device.secrets_group.name if device.secrets_group is not None else None
            if group is not None and group not in settings.groups and group not in extra_groups:
                extra_groups.append(group)
            targets.append(
                Target(
                    device.host,
                    device.ssh_port,
                    name=device.name,
                    platform=device.platform.network_driver if device.platform is not None else None,
                    secrets_group=group,
                    origin="seed",
                )
            )
    return targets, extra_groups


async def run_discovery(store: Store, job_id: int, *, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Run a pending job to its end; the job's record. A configuration that fails when the run
    starts (an unreadable file, an unresolvable secret, a controller that does not answer)
    marks the job failed with the reason in ``errors``; per-address failures do not."""
    started = time.monotonic()
    with store.session() as session:
        job = session.get(m.DiscoveryJob, job_id)
        if job is None:
            raise NotFoundError(f"no discovery job {job_id}")
        if job.status is not JobStatus.PENDING:
            raise NettuiError(f"discovery job {job_id} is {job.status.value}, not pending", hint="start a new job")
        job.status = JobStatus.RUNNING
        kind, config = job.discovery_type, dict(job.discovery_config)
        config.pop(RESULTS_KEY, None)
    run: _Run | None = None
    try:
        settings = _settings(kind, config)
        seeds: list[Target] = []
        group_names = list(settings.groups)
        if settings.kind is DiscoveryType.LLDP_CRAWL:
            seeds, extra = await asyncio.to_thread(_seed_targets, store, settings)
            group_names += extra
        groups = await asyncio.to_thread(_resolve_groups, store, group_names)
        run = _Run(store, job_id, settings, groups, progress)
        targets: list[Target] = []
        if settings.kind is DiscoveryType.CIDR:
            targets = [Target(h, p) for h in _cidr_hosts(str(config["cidr"])) for p in settings.ports]
        elif settings.kind is DiscoveryType.IP_RANGE:
            targets = [Target(h, p) for h in _range_hosts(str(config["range"])) for p in settings.ports]
        elif settings.kind is DiscoveryType.CSV_IMPORT:
            targets = _csv_targets(Path(str(config["csv"])).expanduser(), settings, run.errors)
            targets = await asyncio.to_thread(_row_groups, run, targets)
        elif settings.kind is DiscoveryType.CONTROLLER_API:
            targets = await _controller_targets(store, settings, run.errors)
        if len(targets) > MAX_TARGETS:
            raise DiscoveryConfigError(
                f"{len(targets)} targets, more than {MAX_TARGETS} in one job", hint="split the job"
            )
        if settings.kind is DiscoveryType.LLDP_CRAWL:
            run.total = len(seeds)
            run.tell(None, "started")
            await run.crawl(seeds)
        elif settings.kind is DiscoveryType.CONTROLLER_API and not config.get("probe", True):
            run.total = len(targets)
            run.tell(None, "started")
            for target in targets:
                await asyncio.to_thread(_record_unprobed, run, target)
        else:
            run.total = len(targets)
            run.tell(None, "started")
            await run.many(targets)
    except NettuiError as exc:
        with store.session() as session:
            if run is None:
                job = session.get(m.DiscoveryJob, job_id)
                assert job is not None
                job.status = JobStatus.FAILED
                job.errors = [_error(None, exc.render(), "job")]
            else:
                run.errors.append(_error(None, exc.render(), "job"))
                run.save(session, JobStatus.FAILED)
        return get_job(store, job_id) | {"elapsed": round(time.monotonic() - started, 3)}
    except BaseException:
        with store.session() as session:
            if run is not None:
                run.errors.append(_error(None, "the run was interrupted", "job"))
                run.save(session, JobStatus.FAILED)
        raise
    with store.session() as session:
        run.save(session, JobStatus.COMPLETED)
    return get_job(store, job_id) | {"elapsed": round(time.monotonic() - started, 3), "devices": sorted(run.names)}


def _record_unprobed(run: _Run, target: Target) -> None:
    """A controller's device as the controller describes it, without logging in."""
    driver = network_driver_for(target.platform) if target.platform else None
    found = Found(
        target,
        driver or "",
        {"hostname": target.name or "", **target.known},
        [],
        [],
        None,
        None,
    )
    try:
        if driver is None:
            raise _Failed("the controller names no platform nettui knows; probe it instead (probe: true)", "input")
        outcome, name = run._store_found(found)
    except _Failed as failed:
        run.errors.append(_error(target.address, failed.reason, failed.stage, origin=target.origin))
        run.done += 1
        run.tell(target.address, "failed", failed.reason)
        return
    run.done += 1
    run.names.append(name)
    run.tell(target.address, outcome, name)


async def discover(
    store: Store,
    discovery_type: DiscoveryType | str,
    config: Mapping[str, Any],
    *,
    requested_by: str | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Create a job and run it: the job's record (with ``elapsed`` seconds and ``devices``)."""
    job_id = await asyncio.to_thread(create_job, store, discovery_type, config, requested_by=requested_by)
    return await run_discovery(store, job_id, progress=progress)
