"""The state of one simulated device: a structured configuration model, files and software.

Each platform renders this one model into its own text formats (``show running-config``,
``show vlan``, ...), and configuration commands change the model, so what a test configures
is what it sees in every show command afterwards. Junos keeps its configuration as ``set``
statements (that is how Junos itself thinks of it), in :class:`JunosConfig`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Blob",
    "DeviceConfig",
    "DeviceState",
    "Interface",
    "JunosConfig",
    "LldpNeighbor",
    "StaticRoute",
    "Vrf",
    "intern_blob",
    "parse_vlan_list",
    "render_vlan_list",
]


@dataclass
class Interface:
    """One interface of the configuration model (physical, SVI, loopback or port-channel)."""

    name: str
    description: str = ""
    shutdown: bool = False
    switchport: bool = True
    mode: str = "access"  # "access" or "trunk" when switchport is true
    access_vlan: int = 1
    trunk_allowed: str = "1-4094"
    native_vlan: int = 1
    ipv4: str | None = None  # "address/prefixlen"
    vrf: str | None = None
    physical: bool = True
    speed: str = "1000"

    def ipv4_address_mask(self) -> tuple[str, str] | None:
        """The address and dotted mask of the interface, as IOS shows and takes them."""
        if self.ipv4 is None:
            return None
        iface = ipaddress.IPv4Interface(self.ipv4)
        return str(iface.ip), str(iface.netmask)


@dataclass
class Vrf:
    """A VRF: only what the lab's commands can set."""

    name: str
    rd: str | None = None


@dataclass(frozen=True)
class StaticRoute:
    """``ip route [vrf V] PREFIX [INTERFACE] [NEXT-HOP] [DISTANCE] [name N]``, as configured."""

    prefix: str  # "10.20.0.0/16"
    next_hop: str | None = None
    interface: str | None = None
    vrf: str | None = None
    distance: int = 1
    name: str | None = None


_Item = TypeVar("_Item")


def _clone(item: _Item) -> _Item:
    """A one-level copy of a plain dataclass instance (several times faster than copy.copy)."""
    new = object.__new__(type(item))
    new.__dict__.update(item.__dict__)
    return new


@dataclass
class DeviceConfig:
    """The configuration of an IOS, NX-OS or EOS device, rendered per platform."""

    hostname: str
    vlans: dict[int, str] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    vrfs: dict[str, Vrf] = field(default_factory=dict)
    ntp_servers: list[str] = field(default_factory=list)
    snmp_communities: dict[str, str] = field(default_factory=dict)
    ntp_vrfs: dict[str, str] = field(default_factory=dict)  # server -> the VRF it is reached through
    ntp_source: str | None = None  # the interface NTP packets come from
    ntp_source_vrf: str | None = None  # EOS: ``ntp local-interface vrf V IFACE``
    snmp_acls: dict[str, str] = field(default_factory=dict)  # community -> access list
    banner_motd: str | None = None
    aaa_new_model: bool = False
    domain_name: str = "lab.example"
    boot_system: str | None = None
    username: str = "admin"
    banner_login: str | None = None
    # AAA method lists (``aaa authentication login default group tacacs+ local``), as typed.
    aaa_lines: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # NX-OS: ``feature X`` beyond the defaults
    telnet_enabled: bool = False  # EOS: ``management telnet`` / ``no shutdown``
    ssh_version: int | None = 2  # IOS: ``ip ssh version 2``; None is the 1.99 default
    # IOS: VTY line ranges ("0 4") -> ``transport input`` (``ssh``, ``telnet ssh``, ``all``, ``none``).
    vty_transport: dict[str, str] = field(default_factory=lambda: {"0 4": "ssh", "5 15": "ssh"})
    # Local users beyond the login user: name -> the rest of the line as shown (hashes only).
    users: dict[str, str] = field(default_factory=dict)
    snmp_location: str | None = None
    snmp_contact: str | None = None
    static_routes: list[StaticRoute] = field(default_factory=list)

    def copy(self) -> DeviceConfig:
        """An independent copy (startup-config, Junos candidate).

        Field by field rather than ``copy.deepcopy``, which cost a twentieth of the lab's CPU
        when hundreds of devices are first used at once: the containers are new, and their
        items are either immutable or (interfaces, VRFs) dataclasses of immutable fields,
        copied one level deep. A mutable field added to those must be copied here too.
        """
        return dataclasses.replace(
            self,
            vlans=dict(self.vlans),
            interfaces={name: _clone(iface) for name, iface in self.interfaces.items()},
            vrfs={name: _clone(vrf) for name, vrf in self.vrfs.items()},
            ntp_servers=list(self.ntp_servers),
            snmp_communities=dict(self.snmp_communities),
            ntp_vrfs=dict(self.ntp_vrfs),
            snmp_acls=dict(self.snmp_acls),
            aaa_lines=list(self.aaa_lines),
            features=list(self.features),
            vty_transport=dict(self.vty_transport),
            users=dict(self.users),
            static_routes=list(self.static_routes),
        )


@dataclass
class JunosConfig:
    """A Junos configuration, as the ordered list of its ``set`` statements."""

    lines: list[str] = field(default_factory=list)

    def copy(self) -> JunosConfig:
        """An independent copy (candidate configuration, rollback history)."""
        return JunosConfig(list(self.lines))

    def value(self, prefix: str) -> str | None:
        """The rest of the last statement that starts with ``prefix`` (e.g. the host name)."""
        found = None
        for line in self.lines:
            if line.startswith(prefix + " "):
                found = line[len(prefix) + 1 :]
        return found

    def hostname(self) -> str:
        """``system host-name``, as the prompt shows it."""
        return self.value("set system host-name") or "junos"

    def add(self, statement: str) -> None:
        """Add one ``set`` statement; setting a leaf again replaces its value."""
        if statement in self.lines:
            return
        for key in _JUNOS_SINGLE_VALUED:
            if statement.startswith(key + " "):
                self.lines = [line for line in self.lines if not line.startswith(key + " ")]
        self.lines.append(statement)

    def delete(self, path: str) -> int:
        """Remove every statement at or below ``path`` (``delete`` takes the path without ``set``)."""
        prefix = "set " + path
        keep = [line for line in self.lines if not (line == prefix or line.startswith(prefix + " "))]
        removed = len(self.lines) - len(keep)
        self.lines = keep
        return removed


# Junos leaves that hold one value: setting them again replaces the old statement.
_JUNOS_SINGLE_VALUED = (
    "set system host-name",
    "set system login message",
    "set system domain-name",
    "set system authentication-order",
    "set system accounting events",
    "set system services ssh root-login",
)


@dataclass
class LldpNeighbor:
    """A neighbour seen on a local port, from the lab's topology."""

    local_port: str
    name: str
    port: str
    platform: str
    mgmt_address: str
    chassis_mac: str
    description: str


class Blob:
    """The content of a file, held once per process however many devices have a copy of it.

    A thousand devices given the same image keep one copy: :func:`intern_blob` returns the
    blob already held for identical content, and a blob goes away with the last file that
    refers to it (the registry holds it weakly).
    """

    __slots__ = ("__weakref__", "data", "md5", "sha256")

    def __init__(self, data: bytes, md5: str, sha256: str) -> None:
        self.data = data
        self.md5 = md5
        self.sha256 = sha256

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Blob({len(self.data)} bytes, md5 {self.md5})"


_BLOBS: weakref.WeakValueDictionary[str, Blob] = weakref.WeakValueDictionary()
_BLOBS_LOCK = threading.Lock()  # labs of several threads (tests) share the registry


def intern_blob(data: bytes | bytearray) -> Blob:
    """The one blob for ``data``: an existing one with the same SHA-256, or a new one."""
    sha256 = hashlib.sha256(data).hexdigest()
    with _BLOBS_LOCK:
        found = _BLOBS.get(sha256)
        if found is not None:
            return found
    blob = Blob(bytes(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), sha256)
    with _BLOBS_LOCK:
        return _BLOBS.setdefault(sha256, blob)


def virtual_digest(key: str, size: int, algorithm: str) -> str:
    """A stable stand-in digest for a file the lab holds no content for (the factory image,
    an image "downloaded" by a simulated ``copy http://...``): the same name and size always
    give the same value, as the same real file would."""
    name = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return hashlib.new(algorithm, f"nettui-lab:{name}:{size}".encode(), usedforsecurity=False).hexdigest()


@dataclass
class DeviceState:
    """Everything that lives for the life of the lab on one device."""

    name: str
    platform: str
    serial: str
    model: str
    version: str
    mac: str
    config: DeviceConfig | None = None
    startup: DeviceConfig | None = None
    junos: JunosConfig | None = None
    junos_history: list[JunosConfig] = field(default_factory=list)  # [0] is the active one
    files: dict[str, int] = field(default_factory=dict)  # "flash:name" -> size in bytes
    # The content of files written over SCP/SFTP or copied from one; files missing here are
    # simulated (a size and a stand-in digest, no bytes). Not saved in the state file.
    blobs: dict[str, Blob] = field(default_factory=dict)
    booted_at: float = field(default_factory=time.time)
    boot_image: str | None = None
    installed_version: str | None = None  # the version that a reload will boot
    unreachable_until: float = 0.0

    def hostname(self) -> str:
        """The configured host name (it is the prompt)."""
        if self.junos is not None:
            return self.junos.hostname()
        assert self.config is not None
        return self.config.hostname

    def uptime(self) -> str:
        """Uptime in the ``1 day, 2 hours, 3 minutes`` form that Cisco prints."""
        seconds = int(time.time() - self.booted_at)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60
        return f"{days} days, {hours} hours, {minutes} minutes"

    def file_digest(self, key: str, algorithm: str = "md5") -> str:
        """The ``md5`` or ``sha256`` of the file ``key`` (KeyError if there is none)."""
        size = self.files[key]
        blob = self.blobs.get(key)
        if blob is None:
            return virtual_digest(key, size, algorithm)
        if algorithm == "md5":
            return blob.md5
        if algorithm == "sha256":
            return blob.sha256
        return hashlib.new(algorithm, blob.data).hexdigest()

    def write_file(self, key: str, content: Blob | int) -> None:
        """Create or replace the file ``key``: real content, or a simulated file of a size."""
        if isinstance(content, Blob):
            self.files[key] = len(content)
            self.blobs[key] = content
        else:
            self.files[key] = content
            self.blobs.pop(key, None)

    def copy_file(self, source: str, destination: str) -> None:
        """Copy a file on the device; the copy shares the original's content."""
        blob = self.blobs.get(source)
        self.write_file(destination, blob if blob is not None else self.files[source])

    def delete_file(self, key: str) -> None:
        """Remove the file ``key`` (KeyError if there is none)."""
        del self.files[key]
        self.blobs.pop(key, None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot, for the lab's state file (file contents are not kept)."""
        from dataclasses import asdict

        data = asdict(dataclasses.replace(self, blobs={}))
        del data["blobs"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceState:
        """The inverse of :meth:`to_json`."""
        data = dict(data)
        data.pop("blobs", None)
        for key in ("config", "startup"):
            raw = data.get(key)
            if raw is not None:
                raw = dict(raw)
                raw["interfaces"] = {k: Interface(**v) for k, v in raw["interfaces"].items()}
                raw["vrfs"] = {k: Vrf(**v) for k, v in raw["vrfs"].items()}
                raw["vlans"] = {int(k): v for k, v in raw["vlans"].items()}
                raw["static_routes"] = [StaticRoute(**r) for r in raw.get("static_routes", [])]
                data[key] = DeviceConfig(**raw)
        if data.get("junos") is not None:
            data["junos"] = JunosConfig(**data["junos"])
        data["junos_history"] = [JunosConfig(**h) for h in data.get("junos_history", [])]
        return cls(**data)


def parse_vlan_list(text: str) -> set[int]:
    """``"10,20-22"`` -> {10, 20, 21, 22}; raises ValueError on anything else."""
    result: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = (int(p) for p in part.split("-", 1))
            if not 1 <= low <= high <= 4094:
                raise ValueError(part)
            result.update(range(low, high + 1))
        else:
            vid = int(part)
            if not 1 <= vid <= 4094:
                raise ValueError(part)
            result.add(vid)
    return result


def render_vlan_list(vlans: set[int]) -> str:
    """{10, 20, 21, 22} -> ``"10,20-22"``, the compact form devices print."""
    ordered = sorted(vlans)
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        start = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == ordered[index] + 1:
            index += 1
        end = ordered[index]
        parts.append(str(start) if start == end else f"{start}-{end}")
        index += 1
    return ",".join(parts)
