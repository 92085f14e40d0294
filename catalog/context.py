"""The Jinja2 context every template renders with, and input validation against JSON Schema.

Top-level keys (the data model's context schema): ``device``, ``interfaces``, ``vlans``,
``vrfs``, ``prefixes``, ``ip_addresses``, ``intended``, ``facts``, ``meta``. Everything is plain
data (dicts, lists, strings, numbers): templates never see ORM objects, and never secrets.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from catalog import models as m
from catalog.errors import NettuiError
from catalog.matching import device_manufacturer, resolve_implementation
from catalog.rendering import render_template


class InputError(NettuiError):
    """Inputs that do not satisfy a JSON Schema; ``errors`` lists (json_path, message)."""

    def __init__(self, errors: list[tuple[str, str]], *, where: str) -> None:
        self.errors = errors
        lines = "\n".join(f"  {path}: {message}" for path, message in errors)
        super().__init__(f"{len(errors)} invalid input(s):\n{lines}", where=where)


def json_path(parts: Any) -> str:
    """['port', 'tagged_vlans', 1] -> '$.port.tagged_vlans[1]'."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    """Building a validator costs more than validating: one per distinct schema."""
    return Draft202012Validator(json.loads(schema_json))


# The validator of a schema object already seen (the same task's schema for each of 500
# devices), found by identity without serialising the schema for a cache key, with the inputs
# it passed (as JSON text: true is not 1). The entry holds the schema, so its id is not reused
# while cached; schemas come from the store or the catalog files and are not changed in place.
_BY_IDENTITY: dict[int, tuple[Mapping[str, Any], Draft202012Validator, set[str]]] = {}


def _validator_of(schema: Mapping[str, Any]) -> tuple[Draft202012Validator, set[str]]:
    seen = _BY_IDENTITY.get(id(schema))
    if seen is not None and seen[0] is schema:
        return seen[1], seen[2]
    validator, passed = _validator(json.dumps(schema, sort_keys=True)), set[str]()
    if len(_BY_IDENTITY) >= 512:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(schema)] = (schema, validator, passed)
    return validator, passed


def validate_inputs(schema: Mapping[str, Any], data: Any, *, where: str) -> None:
    """Check ``data`` against ``schema`` (Draft 2020-12) and report every error with its path."""
    if not schema:
        return
    validator, passed = _validator_of(schema)
    try:  # the same inputs for every device of a step: checked once
        key: str | None = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError):
        key = None
    if key is not None and key in passed:
        return
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        raise InputError([(json_path(e.absolute_path), e.message) for e in errors], where=where)
    if key is not None and len(key) <= 4096:
        if len(passed) >= 256:
            passed.clear()
        passed.add(key)


def _named(obj: Any) -> dict[str, Any] | None:
    return {"name": obj.name, "slug": obj.slug} if obj is not None else None


def _vlan(v: m.VLAN | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {"vid": v.vid, "name": v.name, "status": v.status.value, "description": v.description}


def device_dict(device: m.Device) -> dict[str, Any]:
    """The device as templates see it."""
    manufacturer = device_manufacturer(device)
    return {
        "name": device.name,
        "host": device.host,
        "ssh_port": device.ssh_port,
        "manufacturer": _named(manufacturer),
        "platform": (
            {
                "name": device.platform.name,
                "slug": device.platform.slug,
                "network_driver": device.platform.network_driver,
            }
            if device.platform
            else None
        ),
        "model": device.model,
        "role": _named(device.role),
        "status": device.status.value,
        "location": _named(device.location),
        "tenant": _named(device.tenant),
        "tags": [t.name for t in device.tags],
        "software_version": device.software_version,
        "serial": device.serial,
    }


def interface_dict(interface: m.Interface) -> dict[str, Any]:
    return {
        "name": interface.name,
        "type": interface.type,
        "enabled": interface.enabled,
        "description": interface.description,
        "mode": interface.mode.value if interface.mode else None,
        "untagged_vlan": _vlan(interface.untagged_vlan),
        "tagged_vlans": [_vlan(v) for v in interface.tagged_vlans],
        "mtu": interface.mtu,
        "mac_address": interface.mac_address,
        "ip_addresses": [
            {"address": a.address, "vrf": a.vrf.name if a.vrf else None, "status": a.status.value}
            for a in interface.ip_addresses
        ],
    }


def inventory_context(session: Session, device: m.Device) -> dict[str, Any]:
    """``device``, ``interfaces`` and the VLANs, VRFs, prefixes and addresses around it."""
    return inventory_contexts(session, [device])[device.id]


_CHUNK = 500  # ids per IN (...) query: well under every database's parameter limit


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def inventory_contexts(session: Session, devices: list[m.Device]) -> dict[int, dict[str, Any]]:
    """The inventory part of the context for many devices at once, keyed by device id: a few
    queries for the whole batch rather than a few per device (what fan-out over N devices needs)."""
    interfaces: dict[int, list[m.Interface]] = {d.id: [] for d in devices}
    for chunk in _chunks(list(interfaces)):
        for interface in session.scalars(
            select(m.Interface)
            .where(m.Interface.device_id.in_(chunk))
            .options(
                selectinload(m.Interface.untagged_vlan),
                selectinload(m.Interface.tagged_vlans),
                selectinload(m.Interface.ip_addresses).selectinload(m.IPAddress.vrf),
            )
            .order_by(m.Interface.device_id, m.Interface.name)
        ):
            interfaces[interface.device_id].append(interface)
    locations = {d.location_id for d in devices if d.location_id is not None}
    vlans_at: dict[int | None, list[m.VLAN]] = {}
    for vlan in session.scalars(
        select(m.VLAN).where(or_(m.VLAN.location_id.is_(None), m.VLAN.location_id.in_(locations))).order_by(m.VLAN.vid)
    ):
        vlans_at.setdefault(vlan.location_id, []).append(vlan)
    prefixes_at: dict[int | None, list[m.Prefix]] = {}
    for prefix in session.scalars(
        select(m.Prefix)
        .where(or_(m.Prefix.location_id.is_(None), m.Prefix.location_id.in_(locations)))
        .options(selectinload(m.Prefix.vrf))
        .order_by(m.Prefix.prefix)
    ):
        prefixes_at.setdefault(prefix.location_id, []).append(prefix)
    vrfs = {v.name: v for v in session.scalars(select(m.VRF).order_by(m.VRF.name))}

    contexts = {}
    for device in devices:
        here = [None, device.location_id] if device.location_id is not None else [None]
        vlans = sorted((v for key in here for v in vlans_at.get(key, [])), key=lambda v: v.vid)
        prefixes = sorted((p for key in here for p in prefixes_at.get(key, [])), key=lambda p: p.prefix)
        addresses = [a for i in interfaces[device.id] for a in i.ip_addresses]
        vrf_names = {a.vrf.name for a in addresses if a.vrf} | {p.vrf.name for p in prefixes if p.vrf}
        contexts[device.id] = {
            "device": device_dict(device),
            "interfaces": [interface_dict(i) for i in interfaces[device.id]],
            "vlans": [_vlan(v) for v in vlans],
            "vrfs": [
                {"name": v.name, "rd": v.rd, "description": v.description}
                for name, v in vrfs.items()
                if name in vrf_names
            ],
            "prefixes": [
                {"prefix": p.prefix, "vrf": p.vrf.name if p.vrf else None, "status": p.status.value} for p in prefixes
            ],
            "ip_addresses": [
                {
                    "address": a.address,
                    "interface": a.interface.name if a.interface else None,
                    "vrf": a.vrf.name if a.vrf else None,
                }
                for a in addresses
            ],
        }
    return contexts


def build_context(
    session: Session,
    device: m.Device,
    intended: Mapping[str, Any] | None = None,
    *,
    facts: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    context = inventory_context(session, device)
    context["intended"] = dict(intended or {})
    context["facts"] = dict(facts or {})
    context["meta"] = {"timestamp": datetime.now(UTC).isoformat(), **(meta or {})}
    return context


@dataclass(frozen=True)
class Rendered:
    implementation: m.TaskImplementation
    content: str
    context: dict[str, Any]


def render_for_device(
    session: Session,
    task_slug: str,
    device_name: str,
    intended: Mapping[str, Any] | None = None,
    *,
    meta: Mapping[str, Any] | None = None,
) -> Rendered:
    """Pick the implementation for the device, validate ``intended`` against the task's input
    schema, and render. Never touches the device."""
    impl = resolve_implementation(session, task_slug, device_name)
    validate_inputs(impl.task.input_schema, dict(intended or {}), where=f"task '{task_slug}' inputs")
    device = session.scalars(select(m.Device).where(m.Device.name == device_name)).one()
    context = build_context(
        session, device, intended, meta={"task": task_slug, "implementation": impl.slug, **(meta or {})}
    )
    content = render_template(impl.template_content, context, where=f"implementation '{impl.slug}'")
    return Rendered(impl, content, context)
