"""Nautobot as the inventory's source of truth: ``nettui inventory sync nautobot``.

A sync reads Locations (with parents), Tenants, Tags, Manufacturers, Platforms, Devices,
Interfaces, VLANs, VRFs, Prefixes and IP addresses from Nautobot through GraphQL (one paged query
per kind: measured several times faster than REST paging, see tests/test_nautobot_sync.py), turns
them into the items of a YAML inventory import and applies them with the same planning and
upsert code (:mod:`catalog.inventory_io`), in one transaction: any problem leaves the store as
it was.

Matching: each nettui row a sync creates or updates is tied to its Nautobot UUID by an
:class:`~catalog.models.ExternalRef`; a later sync finds the row by that UUID first (so a rename
in Nautobot renames the row), else by natural key (name; device and interface name; location
and VID; VRF and prefix or address).

Incremental: the source's ``last_synced_at`` is when the last sync started; the next one
fetches only objects whose ``last_updated`` is at or after it, plus the ids of every object
(cheap) to see what disappeared. Disappeared objects follow the deletion policy: ``keep``
(report them), ``mark`` (``missing_since`` on the reference, and devices get the tag
``nautobot-deleted``), or ``delete`` (rows still used by something nettui-only are kept and
reported).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.errors import NettuiError
from catalog.inventory_io import (
    YAML_SECTIONS,
    ImportSummary,
    _Entry,
    _InventoryImport,
    _Origin,
    _validate,
    _write,
)
from catalog.models import (
    VLAN,
    VRF,
    Device,
    ExternalRef,
    Interface,
    InventorySource,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    Tag,
    Tenant,
    utcnow,
)
from catalog.models.choices import DeviceStatus, IPAMStatus
from catalog.naming import network_driver_for, slugify
from catalog.secrets import Secret
from catalog.store import Store
from drivers.nautobot_provider import NautobotProvider

Progress = Callable[[str], None]

DELETE_POLICIES: Final = ("keep", "mark", "delete")
MARK_TAG: Final = "nautobot-deleted"
PAGE_SIZE: Final = 1000
# Kinds whose GraphQL field has no last_updated filter in Nautobot 3.2 (measured): an incremental
# sync reads their ids and times, then fetches the changed ones by id, this many at a time.
_NO_SINCE_FILTER: Final = frozenset({"interfaces"})
_ID_CHUNK: Final = 500

# Kind -> (GraphQL field, the fields asked for). Kinds are the import's section names.
_QUERIES: Final[dict[str, tuple[str, str]]] = {
    "manufacturers": ("manufacturers", "id name description"),
    "platforms": ("platforms", "id name description network_driver manufacturer { name }"),
    "locations": ("locations", "id name description location_type { name } parent { id name }"),
    "tenants": ("tenants", "id name description"),
    "tags": ("tags", "id name color description"),
    "vlans": ("vlans", "id vid name description status { name } tenant { name } locations { name }"),
    "vrfs": ("vrfs", "id name rd description tenant { name }"),
    "devices": (
        "devices",
        "id name serial status { name } role { name } platform { name } location { name } tenant { name } "
        "tags { name } device_type { model manufacturer { name } } software_version { version } "
        "primary_ip4 { host } primary_ip6 { host }",
    ),
    "interfaces": (
        "interfaces",
        "id name type enabled description mtu mac_address mode device { name } "
        "untagged_vlan { vid locations { name } } tagged_vlans { vid locations { name } }",
    ),
    "prefixes": (
        "prefixes",
        "id prefix description status { name } tenant { name } vrfs { name } locations { name } "
        "vlan { vid locations { name } }",
    ),
    "ip_addresses": (
        "ip_addresses",
        "id address description dns_name status { name } tenant { name } interfaces { name device { name } }",
    ),
}
KINDS: Final = tuple(_QUERIES)

# The nettui model of each kind, for references and deletions.
_MODELS: Final[dict[str, Any]] = {
    "manufacturers": Manufacturer,
    "platforms": Platform,
    "locations": Location,
    "tenants": Tenant,
    "tags": Tag,
    "vlans": VLAN,
    "vrfs": VRF,
    "devices": Device,
    "interfaces": Interface,
    "prefixes": Prefix,
    "ip_addresses": IPAddress,
}
# Deletion order: what refers to others goes first.
_DELETE_ORDER: Final = (
    "ip_addresses",
    "prefixes",
    "interfaces",
    "devices",
    "vlans",
    "vrfs",
    "platforms",
    "manufacturers",
    "locations",
    "tenants",
    "tags",
)
_NAMED: Final = ("manufacturers", "platforms", "locations", "tenants", "tags", "vrfs", "devices")


class NautobotSyncError(NettuiError):
    """The sync could not run: bad arguments, or Nautobot's data cannot be imported."""


# -- the summary -----------------------------------------------------------------------------------


@dataclass
class SyncSummary:
    """What a sync did (or, in a dry run, would do), per kind of object."""

    source: str
    url: str
    dry_run: bool
    incremental: bool
    since: datetime | None
    delete_policy: str
    fetched: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, kind: str, what: str, number: int = 1) -> None:
        if number:
            counts = self.counts.setdefault(kind, {})
            counts[what] = counts.get(what, 0) + number

    def changed(self) -> int:
        """How many objects were (or would be) created, updated, renamed, marked or deleted."""
        return sum(
            n for c in self.counts.values() for what, n in c.items() if what not in ("unchanged", "missing_kept")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "dry_run": self.dry_run,
            "incremental": self.incremental,
            "since": self.since.isoformat() if self.since else None,
            "delete_policy": self.delete_policy,
            "fetched": self.fetched,
            "counts": self.counts,
            "changed": self.changed(),
            "warnings": self.warnings,
            "seconds": self.seconds,
        }

    def lines(self) -> list[str]:
        verb = "would change" if self.dry_run else "changed"
        mode = f"incremental since {self.since.isoformat()}" if self.incremental and self.since else "full"
        out = [f"{self.source} ({mode}): {verb} {self.changed()} object(s)"]
        for kind in KINDS:
            counts = self.counts.get(kind, {})
            if not counts and not self.fetched.get(kind):
                continue
            parts = [f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n]
            label = kind.replace("_", " ")
            out.append(f"  {label}: fetched {self.fetched.get(kind, 0)}; " + (", ".join(parts) or "nothing to do"))
        out += [f"  warning: {w}" for w in self.warnings[:20]]
        if len(self.warnings) > 20:
            out.append(f"  ... and {len(self.warnings) - 20} more warnings")
        return out


# -- fetching ----------------------------------------------------------------------------------------


@dataclass
class Fetched:
    """What one sync read from Nautobot: changed objects per kind, and every id per kind."""

    objects: dict[str, list[dict[str, Any]]]
    ids: dict[str, set[str]]
    started: datetime


def _changed_since(stamp: Any, since: datetime) -> bool:
    """Whether Nautobot's ``last_updated`` (ISO text) is at or after ``since``; unknown counts as changed."""
    if not isinstance(stamp, str):
        return True
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    return when.tzinfo is None or when >= since


async def _paged(nb: NautobotProvider, name: str, fields: str, filters: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        args = f"limit: {PAGE_SIZE}, offset: {offset}" + (f", {filters}" if filters else "")
        data = await nb.graphql(f"query {{ {name}({args}) {{ {fields} }} }}")
        page = data.get(name) or []
        out += page
        if len(page) < PAGE_SIZE:
            return out
        offset += PAGE_SIZE


async def fetch(nb: NautobotProvider, since: datetime | None, progress: Progress | None = None) -> Fetched:
    """Read every kind through GraphQL: objects changed since ``since`` (all when None), and all ids."""
    started = utcnow()
    filters = f'last_updated__gte: "{since.isoformat()}"' if since is not None else ""
    objects: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, set[str]] = {}
    for kind, (name, fields) in _QUERIES.items():
        began = time.perf_counter()
        if since is None:
            objects[kind] = await _paged(nb, name, fields, "")
            ids[kind] = {str(o["id"]) for o in objects[kind]}
        elif kind in _NO_SINCE_FILTER:
            # No last_updated filter for these: read every id with its time, then the changed ones by id.
            stamps = await _paged(nb, name, "id last_updated", "")
            ids[kind] = {str(o["id"]) for o in stamps}
            changed = [str(o["id"]) for o in stamps if _changed_since(o.get("last_updated"), since)]
            objects[kind] = []
            for start in range(0, len(changed), _ID_CHUNK):
                chunk = json.dumps(changed[start : start + _ID_CHUNK])
                objects[kind] += await _paged(nb, name, fields, f"id: {chunk}")
        else:
            objects[kind] = await _paged(nb, name, fields, filters)
            ids[kind] = {str(o["id"]) for o in await _paged(nb, name, "id", "")}
        if progress:
            progress(
                f"  fetched {len(objects[kind])} {kind.replace('_', ' ')} "
                f"(of {len(ids[kind])}) in {time.perf_counter() - began:.2f} s"
            )
    return Fetched(objects, ids, started)


# -- turning Nautobot objects into import items -----------------------------------------------------


def _name(obj: Any) -> str | None:
    return str(obj["name"]) if isinstance(obj, dict) and obj.get("name") else None


def _one_location(obj: dict[str, Any]) -> str | None:
    names = [str(loc["name"]) for loc in obj.get("locations") or [] if loc.get("name")]
    return names[0] if len(names) == 1 else None


def _vlan_ref(vlan: dict[str, Any]) -> str:
    location = _one_location(vlan)
    return f"{vlan['vid']}@{location}" if location else str(vlan["vid"])


def _status(obj: dict[str, Any], choices: type[DeviceStatus] | type[IPAMStatus], warnings: list[str]) -> str:
    text = slugify(_name(obj.get("status")) or "active")
    values = {str(c.value) for c in choices}
    if text in values:
        return text
    warnings.append(f"status {text!r} has no nettui equivalent; using active")
    return "active"


def _device_host(obj: dict[str, Any]) -> str:
    for key in ("primary_ip4", "primary_ip6"):
        ip = obj.get(key)
        if isinstance(ip, dict) and ip.get("host"):
            return str(ip["host"])
    return str(obj["name"])  # a DNS name, the only other way nettui can reach it


def _mode(value: Any) -> str | None:
    text = str(value or "").lower().replace("_", "-")
    return text if text in ("access", "tagged", "tagged-all") else None


def _type(value: Any) -> str:
    text = str(value or "other").lower()
    if text.startswith("a-") or text.startswith("a_"):  # a GraphQL enum name such as A_1000BASE_T
        text = text[2:]
    return text.replace("_", "-")[:50]


@dataclass
class _Items:
    """Import items per section, and the Nautobot id of each (by natural key) for references."""

    sections: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, kind: str, external_id: str, data: dict[str, Any]) -> None:
        self.sections.setdefault(kind, []).append((external_id, data))


def build_items(fetched: Fetched, session: Session, warnings: list[str]) -> _Items:
    """Nautobot's objects as the import's items (plain dicts, validated later)."""
    items = _Items()
    objects = fetched.objects
    skipped_platforms: set[str] = set()
    for obj in objects["manufacturers"]:
        items.add("manufacturers", obj["id"], {"name": obj["name"], "description": obj.get("description") or ""})
    known_platforms = set(session.scalars(select(Platform.name)))
    for obj in objects["platforms"]:
        driver = obj.get("network_driver") or ""
        if not network_driver_for(driver or obj["name"]) and obj["name"] not in known_platforms:
            warnings.append(
                f"platform {obj['name']!r} has no network driver nettui knows ({driver or 'none'}): "
                "skipped, and its devices have no platform"
            )
            skipped_platforms.add(obj["name"])
            continue
        data: dict[str, Any] = {"name": obj["name"], "description": obj.get("description") or ""}
        if driver and network_driver_for(driver):
            data["network_driver"] = driver
        if _name(obj.get("manufacturer")):
            data["manufacturer"] = _name(obj.get("manufacturer"))
        items.add("platforms", obj["id"], data)
    for obj in _parents_first(objects["locations"]):
        data = {
            "name": obj["name"],
            "description": obj.get("description") or "",
            "location_type": (_name(obj.get("location_type")) or "site")[:50],
            "parent": _name(obj.get("parent")),
        }
        items.add("locations", obj["id"], data)
    for obj in objects["tenants"]:
        items.add("tenants", obj["id"], {"name": obj["name"], "description": obj.get("description") or ""})
    for obj in objects["tags"]:
        data = {"name": obj["name"], "description": obj.get("description") or ""}
        if obj.get("color"):
            data["color"] = obj["color"]
        items.add("tags", obj["id"], data)
    seen_vlans: dict[tuple[str | None, int], str] = {}
    for obj in objects["vlans"]:
        location = _one_location(obj)
        key = (location, int(obj["vid"]))
        if key in seen_vlans:
            warnings.append(
                f"VLAN {obj['vid']} {obj['name']!r} at {location or 'no single location'}: skipped, "
                "nettui keeps one VLAN per VID and location"
            )
            continue
        seen_vlans[key] = obj["id"]
        items.add(
            "vlans",
            obj["id"],
            {
                "vid": obj["vid"],
                "name": obj["name"],
                "location": location,
                "tenant": _name(obj.get("tenant")),
                "status": _status(obj, IPAMStatus, warnings),
                "description": obj.get("description") or "",
            },
        )
    for obj in objects["vrfs"]:
        items.add(
            "vrfs",
            obj["id"],
            {
                "name": obj["name"],
                "rd": obj.get("rd") or None,
                "tenant": _name(obj.get("tenant")),
                "description": obj.get("description") or "",
            },
        )
    devices: dict[str, dict[str, Any]] = {}
    for obj in objects["devices"]:
        if not obj.get("name"):
            warnings.append(f"device {obj['id']} has no name: skipped")
            continue
        device_type = obj.get("device_type") or {}
        platform = _name(obj.get("platform"))
        version = obj.get("software_version") or {}
        data = {
            "name": obj["name"],
            "host": _device_host(obj),
            "platform": None if platform in skipped_platforms else platform,
            "manufacturer": _name(device_type.get("manufacturer")),
            "model": str(device_type.get("model") or "")[:100],
            "role": _name(obj.get("role")),
            "status": _status(obj, DeviceStatus, warnings),
            "location": _name(obj.get("location")),
            "tenant": _name(obj.get("tenant")),
            "tags": [t["name"] for t in obj.get("tags") or []],
            "software_version": str(version.get("version") or "")[:100],
            "serial": str(obj.get("serial") or "")[:100],
        }
        devices[obj["name"]] = data
        items.add("devices", obj["id"], data)
    # Interfaces sit under their device; a device not fetched this time (unchanged) is named
    # with its current host, which leaves its other fields as they are.
    hosts: dict[str, str] | None = None
    for obj in objects["interfaces"]:
        device = _name(obj.get("device"))
        if device is None:
            continue
        if device not in devices:
            if hosts is None:
                hosts = {n: h for n, h in session.execute(select(Device.name, Device.host))}  # noqa: C416
            if device not in hosts:
                warnings.append(f"interface {obj['name']!r} of device {device!r}: the device is not synced, skipped")
                continue
            devices[device] = {"name": device, "host": hosts[device]}
            items.add("devices", "", devices[device])
        mode = _mode(obj.get("mode"))
        iface: dict[str, Any] = {
            "name": obj["name"],
            "type": _type(obj.get("type")),
            "enabled": bool(obj.get("enabled", True)),
            "description": obj.get("description") or "",
            "mtu": obj.get("mtu") or None,
            "mac_address": obj.get("mac_address") or None,
            "mode": mode,
        }
        untagged = obj.get("untagged_vlan") if mode is not None else None
        iface["untagged_vlan"] = _vlan_ref(untagged) if untagged else None
        iface["tagged_vlans"] = [_vlan_ref(v) for v in obj.get("tagged_vlans") or []] if mode == "tagged" else []
        iface["_id"] = obj["id"]
        devices[device].setdefault("interfaces", []).append(iface)
    seen_prefixes: set[tuple[str | None, str]] = set()
    for obj in objects["prefixes"]:
        vrfs = [v["name"] for v in obj.get("vrfs") or []]
        vrf = vrfs[0] if len(vrfs) == 1 else None
        prefix = str(ipaddress.ip_network(obj["prefix"], strict=False))
        if (vrf, prefix) in seen_prefixes:
            warnings.append(f"prefix {prefix} (VRF {vrf or 'none'}) appears twice (namespaces?): the second skipped")
            continue
        seen_prefixes.add((vrf, prefix))
        vlan = obj.get("vlan")
        items.add(
            "prefixes",
            obj["id"],
            {
                "prefix": prefix,
                "vrf": vrf,
                "location": _one_location(obj),
                "tenant": _name(obj.get("tenant")),
                "vlan": _vlan_ref(vlan) if vlan else None,
                "status": _status(obj, IPAMStatus, warnings),
                "description": obj.get("description") or "",
            },
        )
    seen_ips: set[str] = set()
    for obj in objects["ip_addresses"]:
        address = obj["address"]
        if address in seen_ips:
            warnings.append(f"IP address {address} appears twice (namespaces?): the second skipped")
            continue
        seen_ips.add(address)
        assigned = [i for i in obj.get("interfaces") or [] if _name(i.get("device"))]
        data = {
            "address": address,
            "tenant": _name(obj.get("tenant")),
            "status": _status(obj, IPAMStatus, warnings),
            "dns_name": obj.get("dns_name") or None,
            "description": obj.get("description") or "",
        }
        if assigned:
            data["device"] = assigned[0]["device"]["name"]
            data["interface"] = assigned[0]["name"]
        else:
            data["device"] = data["interface"] = None
        items.add("ip_addresses", obj["id"], data)
    return items


def _parents_first(locations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {o["id"]: o for o in locations}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(obj: dict[str, Any], depth: int = 0) -> None:
        if obj["id"] in placed or depth > 100:
            return
        parent = obj.get("parent")
        if isinstance(parent, dict) and parent.get("id") in by_id:
            place(by_id[parent["id"]], depth + 1)
        placed.add(obj["id"])
        ordered.append(obj)

    for obj in locations:
        place(obj)
    return ordered


# -- references (Nautobot UUID <-> nettui row) ---------------------------------------------------------


def _natural_keys(session: Session, kind: str) -> dict[Any, int]:
    """Every nettui row of ``kind`` by its natural key, as :func:`_item_key` makes them."""
    if kind in _NAMED:
        model = _MODELS[kind]
        return {name: id_ for name, id_ in session.execute(select(model.name, model.id))}  # noqa: C416
    if kind == "interfaces":
        query = select(Device.name, Interface.name, Interface.id).join(Interface.device)
        return {(d, n): id_ for d, n, id_ in session.execute(query)}
    if kind == "vlans":
        vlans = select(Location.name, VLAN.vid, VLAN.id).outerjoin(Location, VLAN.location_id == Location.id)
        return {(loc, vid): id_ for loc, vid, id_ in session.execute(vlans)}
    if kind == "prefixes":
        query = select(VRF.name, Prefix.prefix, Prefix.id).outerjoin(VRF, Prefix.vrf_id == VRF.id)
        return {(vrf, p): id_ for vrf, p, id_ in session.execute(query)}
    query = select(VRF.name, IPAddress.address, IPAddress.id).outerjoin(VRF, IPAddress.vrf_id == VRF.id)
    return {(vrf, a): id_ for vrf, a, id_ in session.execute(query)}


def _item_key(kind: str, data: dict[str, Any], device: str | None = None) -> Any:
    if kind in _NAMED:
        return data["name"]
    if kind == "interfaces":
        return (device, data["name"])
    if kind == "vlans":
        return (data.get("location"), int(data["vid"]))
    if kind == "prefixes":
        return (data.get("vrf"), data["prefix"])
    return (None, str(ipaddress.ip_interface(data["address"])))


def _external_ids(items: _Items) -> dict[str, list[tuple[str, Any]]]:
    """(Nautobot id, natural key) of every item, per kind."""
    out: dict[str, list[tuple[str, Any]]] = {kind: [] for kind in KINDS}
    for kind, entries in items.sections.items():
        for external_id, data in entries:
            if external_id:
                out[kind].append((external_id, _item_key(kind, data)))
            if kind == "devices":
                for iface in data.get("interfaces") or []:
                    out["interfaces"].append((iface["_id"], (data["name"], iface["name"])))
    return out


def _apply_renames(session: Session, source: InventorySource, items: _Items, summary: SyncSummary) -> None:
    """Rows already tied to a Nautobot UUID take that object's current name (a rename there)."""
    refs = _refs(session, source)
    for kind in _NAMED:
        model = _MODELS[kind]
        by_external = refs.get(kind, {})
        for external_id, data in items.sections.get(kind, []):
            ref = by_external.get(external_id)
            if ref is None:
                continue
            row = session.get(model, ref.object_id)
            if row is None or row.name == data["name"]:
                continue
            taken = session.scalars(select(model.id).where(model.name == data["name"])).first()
            if taken is not None:
                summary.warnings.append(
                    f"{kind[:-1]} {row.name!r} was renamed {data['name']!r} in Nautobot, but nettui already has "
                    f"one of that name: matched by name instead"
                )
                continue
            row.name = data["name"]
            summary.add(kind, "renamed")
        session.flush()
    by_external = refs.get("interfaces", {})
    for _, device in items.sections.get("devices", []):
        for iface in device.get("interfaces") or []:
            ref = by_external.get(iface["_id"])
            if ref is None:
                continue
            row = session.get(Interface, ref.object_id)
            if row is None or row.name == iface["name"]:
                continue
            clash = session.scalars(
                select(Interface.id).where(Interface.device_id == row.device_id, Interface.name == iface["name"])
            ).first()
            if clash is None:
                row.name = iface["name"]
                summary.add("interfaces", "renamed")
    session.flush()


def _refs(session: Session, source: InventorySource) -> dict[str, dict[str, ExternalRef]]:
    out: dict[str, dict[str, ExternalRef]] = {}
    if source.id is None:
        return out
    for ref in session.scalars(select(ExternalRef).where(ExternalRef.source_id == source.id)):
        out.setdefault(ref.kind, {})[ref.external_id] = ref
    return out


def _record_refs(session: Session, source: InventorySource, items: _Items) -> None:
    """Tie every synced row to its Nautobot id; a row claimed by another id drops its old reference."""
    refs = _refs(session, source)
    for kind, pairs in _external_ids(items).items():
        if not pairs:
            continue
        keys = _natural_keys(session, kind)
        mine = refs.get(kind, {})
        by_object = {ref.object_id: ref for ref in mine.values()}
        for external_id, key in pairs:
            object_id = keys.get(key)
            if object_id is None:
                continue
            ref = mine.get(external_id)
            other = by_object.get(object_id)
            if other is not None and other is not ref:
                session.delete(other)  # the row now stands for another Nautobot object
                mine.pop(other.external_id, None)
                session.flush()
            if ref is None:
                ref = ExternalRef(source=source, kind=kind, external_id=external_id, object_id=object_id)
                session.add(ref)
                mine[external_id] = ref
            else:
                ref.object_id = object_id
                ref.missing_since = None
            by_object[object_id] = ref
    session.flush()


def _apply_deletions(
    session: Session, source: InventorySource, present: dict[str, set[str]], policy: str, summary: SyncSummary
) -> None:
    refs = _refs(session, source)
    now = utcnow()
    mark_tag: Tag | None = None
    for kind in _DELETE_ORDER:
        model = _MODELS[kind]
        gone = [ref for external_id, ref in refs.get(kind, {}).items() if external_id not in present.get(kind, set())]
        for ref in gone:
            row = session.get(model, ref.object_id)
            if row is None:
                session.delete(ref)
                continue
            if policy == "keep":
                summary.add(kind, "missing_kept")
            elif policy == "mark":
                if ref.missing_since is None:
                    ref.missing_since = now
                    summary.add(kind, "marked")
                    if kind == "devices":
                        mark_tag = mark_tag or _mark_tag(session)
                        if mark_tag not in row.tags:
                            row.tags.append(mark_tag)
                else:
                    summary.add(kind, "missing_kept")
            else:
                try:
                    with session.begin_nested():
                        session.delete(row)
                        session.flush()
                except IntegrityError:
                    summary.add(kind, "kept_in_use")
                    summary.warnings.append(
                        f"{kind[:-1].replace('_', ' ')} {_label(row)} is gone from Nautobot but still used "
                        "in nettui: kept"
                    )
                    continue
                session.execute(delete(ExternalRef).where(ExternalRef.id == ref.id))
                summary.add(kind, "deleted")
    session.flush()


def _label(row: Any) -> str:
    for attr in ("name", "address", "prefix"):
        value = getattr(row, attr, None)
        if value:
            return repr(value)
    return f"#{row.id}"


def _mark_tag(session: Session) -> Tag:
    tag = session.scalars(select(Tag).where(Tag.name == MARK_TAG)).first()
    if tag is None:
        tag = Tag(name=MARK_TAG, slug=MARK_TAG, color="f44336", description="Deleted in Nautobot (nettui sync)")
        session.add(tag)
        session.flush()
    return tag


# -- importing -----------------------------------------------------------------------------------------


def _import(session: Session, source_label: str, items: _Items) -> ImportSummary:
    """Plan and write the items with the inventory import's code (all or nothing)."""
    job = _InventoryImport(session, source_label)
    entries: dict[str, list[_Entry]] = {}
    for kind in YAML_SECTIONS:
        for index, (_, data) in enumerate(items.sections.get(kind, [])):
            clean = dict(data)
            if kind == "devices" and "interfaces" in clean:
                clean["interfaces"] = [{k: v for k, v in i.items() if k != "_id"} for i in clean["interfaces"]]
            label = clean.get("name") or clean.get("address") or clean.get("prefix") or index
            origin = _Origin(source_label, 0, label="key", base=(kind, str(label)))
            entry = _validate(YAML_SECTIONS[kind], origin, clean, job.problems)
            if entry is not None:
                entries.setdefault(kind, []).append(entry)
    for kind in ("manufacturers", "platforms", "locations", "tenants", "tags", "roles"):
        job.plan_named(kind, entries.get(kind, []))
    job.plan_vlans(entries.get("vlans", []))
    job.plan_vrfs(entries.get("vrfs", []))
    job.plan_devices(entries.get("devices", []))
    job.plan_interfaces()
    job.plan_prefixes(entries.get("prefixes", []))
    job.plan_ip_addresses(entries.get("ip_addresses", []))
    return _write(job)


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def source_name(url: str) -> str:
    return f"nautobot {url}"


def sync_nautobot(
    store: Store,
    url: str,
    token: Secret,
    *,
    dry_run: bool = False,
    delete_policy: str = "keep",
    full: bool = False,
    progress: Progress | None = None,
    timeout: float = 60.0,
) -> SyncSummary:
    """Sync the store's inventory from the Nautobot at ``url`` (see the module docstring)."""
    if delete_policy not in DELETE_POLICIES:
        raise NautobotSyncError(
            f"unknown deletion policy {delete_policy!r}", hint=f"use one of {', '.join(DELETE_POLICIES)}"
        )
    nb = NautobotProvider(url, token, timeout=timeout)
    name = source_name(nb.url)
    with store.read_session() as session:
        found = session.scalars(select(InventorySource).where(InventorySource.name == name)).first()
        since = None if full or found is None else found.last_synced_at
    summary = SyncSummary(name, nb.url, dry_run, since is not None, since, delete_policy)
    say = progress or (lambda _message: None)
    say(f"syncing from {nb.url} ({'incremental since ' + since.isoformat() if since else 'full'})")
    began = time.perf_counter()

    async def read() -> Fetched:
        async with nb:
            await nb.status()  # a clear error for a bad URL or token before anything else
            return await fetch(nb, since, say)

    fetched = asyncio.run(read())
    summary.seconds["fetch"] = round(time.perf_counter() - began, 3)
    summary.fetched = {kind: len(objs) for kind, objs in fetched.objects.items()}
    began = time.perf_counter()
    try:
        with store.session() as session:
            source = session.scalars(select(InventorySource).where(InventorySource.name == name)).first()
            if source is None:
                source = InventorySource(name=name, kind="nautobot", url=nb.url)
                session.add(source)
                session.flush()
            items = build_items(fetched, session, summary.warnings)
            _apply_renames(session, source, items, summary)
            imported = _import(session, name, items)
            for kind, counts in imported.counts.items():
                summary.add(kind, "created", counts.created)
                summary.add(kind, "updated", counts.updated)
                summary.add(kind, "unchanged", counts.unchanged)
            _record_refs(session, source, items)
            _apply_deletions(session, source, fetched.ids, delete_policy, summary)
            # A second of margin: an object saved in the same second as the start is fetched again.
            source.last_synced_at = fetched.started - timedelta(seconds=1)
            source.last_summary = summary.to_dict()
            if dry_run:
                raise _DryRun
    except _DryRun:
        say("dry run: nothing was written")
    summary.seconds["write"] = round(time.perf_counter() - began, 3)
    summary.warnings = list(dict.fromkeys(summary.warnings))
    return summary


def parse_delete_policy(value: str) -> str:
    if value not in DELETE_POLICIES:
        raise NautobotSyncError(f"unknown deletion policy {value!r}", hint=f"use one of {', '.join(DELETE_POLICIES)}")
    return value


def resolve_token(reference: str, *, where: str = "--token-ref") -> Secret:
    """The API token a reference (``env:``, ``file:``, ``keyring:``) points at; never echoed."""
    from catalog.models import SecretsGroup, SecretsGroupEntry
    from catalog.secrets import SecretResolutionError, parse_reference, resolve_entry

    parsed = parse_reference(reference, where=where)
    entry = SecretsGroupEntry(name="token", backend=parsed.backend, reference=parsed.reference)
    entry.group = SecretsGroup(name=where)
    failure: NettuiError | None = None
    try:
        return resolve_entry(entry)
    except SecretResolutionError as exc:
        failure = NautobotSyncError(exc.what, where=where, hint=exc.hint)
    raise failure


def iter_kinds() -> Iterable[str]:
    return iter(KINDS)
