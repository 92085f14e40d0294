"""Lab topologies: which device port is cabled to which, so that LLDP shows neighbours.

A topology file is YAML::

    devices:                       # optional: names and platforms of the lab's first devices
      - {name: core1, platform: cisco_ios}
      - {name: leaf1, platform: arista_eos}
    links:
      - [core1:GigabitEthernet1/0/1, leaf1:Ethernet1]
      - {a: core1:Gi1/0/2, b: leaf2:Ethernet1/1}

Interface names may be abbreviated as on the device's CLI. Without a file, the lab cables
each device's first port to the next device's second port (a chain), so discovery has
something to find.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nettui.lab.platforms import PLATFORM_NAMES, get_platform
from nettui.lab.state import LldpNeighbor

if TYPE_CHECKING:
    from nettui.lab.device import LabDevice

__all__ = ["Link", "Topology", "TopologyDevice", "TopologyError", "load_topology", "mgmt_address_map"]


class TopologyError(ValueError):
    """A topology file that cannot be used; the message says where and why."""


@dataclass
class TopologyDevice:
    """A device the topology names."""

    name: str
    platform: str


@dataclass
class Link:
    """A cable between two device ports."""

    a_device: str
    a_port: str
    b_device: str
    b_port: str


@dataclass
class Topology:
    """Devices and links of a lab."""

    devices: list[TopologyDevice] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    chain: bool = False  # cable device i to device i+1 when no links are given

    def apply(self, devices: Sequence[LabDevice]) -> None:
        """Set every device's LLDP neighbours from the links (or the default chain)."""
        by_name = {d.name: d for d in devices}
        for device in devices:
            device.neighbors = []
        links = list(self.links)
        if self.chain and not links:
            for left, right in itertools.pairwise(devices):
                left_ports = get_platform(left.platform_name).port_names()
                right_ports = get_platform(right.platform_name).port_names()
                if left_ports and len(right_ports) > 1:
                    links.append(Link(left.name, left_ports[0], right.name, right_ports[1]))
        for number, link in enumerate(links, start=1):
            ends = []
            for device_name, port in ((link.a_device, link.a_port), (link.b_device, link.b_port)):
                end = by_name.get(device_name)
                if end is None:
                    raise TopologyError(f"link {number}: no lab device named {device_name!r}")
                ends.append((end, _canonical_port(end, port, number)))
            (a, a_port), (b, b_port) = ends
            a.neighbors.append(_neighbor(a_port, b, b_port))
            b.neighbors.append(_neighbor(b_port, a, a_port))


def mgmt_address_map(devices: Sequence[LabDevice]) -> dict[str, str]:
    """Where each device's advertised LLDP management address is reached: ``host:port``.

    Lab devices share one listening address, one port each, so a crawler that follows LLDP
    (``nettui discover --lldp-seed``) needs this map from advertised address to SSH endpoint.
    """
    return {get_platform(d.platform_name).mgmt_ip(d.index): f"{d.host}:{d.port}" for d in devices}


def _canonical_port(device: LabDevice, port: str, number: int) -> str:
    platform = get_platform(device.platform_name)
    names = platform.port_names()
    canonical = platform.canonical_port(port)
    if canonical not in names:
        raise TopologyError(
            f"link {number}: {device.name} ({device.platform_name}) has no port {port!r}; "
            f"its ports are {names[0]} .. {names[-1]}"
        )
    return canonical


def _neighbor(local_port: str, remote: LabDevice, remote_port: str) -> LldpNeighbor:
    platform = get_platform(remote.platform_name)
    return LldpNeighbor(
        local_port=local_port,
        name=remote.name,
        port=remote_port,
        platform=remote.platform_name,
        mgmt_address=platform.mgmt_ip(remote.index),
        chassis_mac=platform.chassis_mac(remote.index),
        description=platform.system_description(),
    )


def _split_end(text: Any, where: str) -> tuple[str, str]:
    if not isinstance(text, str) or ":" not in text:
        raise TopologyError(f"{where}: expected 'device:port', got {text!r}")
    device, port = text.split(":", 1)
    return device.strip(), port.strip()


def load_topology(path: Path) -> Topology:
    """Read a topology file; TopologyError names the file and the entry that is wrong."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TopologyError(f"{path}: cannot read the topology: {exc}") from exc
    if not isinstance(data, dict):
        raise TopologyError(f"{path}: expected a mapping with 'devices' and 'links'")
    topology = Topology()
    for number, item in enumerate(data.get("devices") or [], start=1):
        if not isinstance(item, dict) or "name" not in item:
            raise TopologyError(f"{path}: devices[{number}]: expected {{name: ..., platform: ...}}")
        platform = item.get("platform", "cisco_ios")
        if platform not in PLATFORM_NAMES:
            raise TopologyError(
                f"{path}: devices[{number}] ({item['name']}): unknown platform {platform!r}; "
                f"choose from {', '.join(PLATFORM_NAMES)}"
            )
        topology.devices.append(TopologyDevice(str(item["name"]), platform))
    for number, item in enumerate(data.get("links") or [], start=1):
        where = f"{path}: links[{number}]"
        if isinstance(item, dict):
            ends = [item.get("a"), item.get("b")]
        elif isinstance(item, list) and len(item) == 2:
            ends = item
        else:
            raise TopologyError(f"{where}: expected [device:port, device:port] or {{a: ..., b: ...}}")
        (a_dev, a_port), (b_dev, b_port) = (_split_end(end, where) for end in ends)
        topology.links.append(Link(a_dev, a_port, b_dev, b_port))
    return topology
