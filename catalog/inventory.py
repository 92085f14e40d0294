"""Finding devices and describing them: the queries behind ``nettui inventory`` and the TUI.

Filters are ``key=value`` pairs. The same key given twice matches either value (OR);
different keys must all match (AND). A value with ``*`` is a glob (case-insensitive);
otherwise it must match exactly. References (location, tenant, tag, role, platform,
manufacturer) match by name or slug; a platform also matches by its network driver.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from catalog.errors import NettuiError, NotFoundError
from catalog.models import Device, DeviceRole, Interface, IPAddress, Location, Manufacturer, Platform, Tag, Tenant
from catalog.models.choices import DeviceStatus

# Filter keys, in the order help texts list them.
DEVICE_FILTER_KEYS: Final = (
    "name",
    "host",
    "location",
    "tenant",
    "tag",
    "role",
    "platform",
    "manufacturer",
    "status",
    "software_version",
    "serial",
)

DeviceFilters = Mapping[str, Sequence[str]]


def parse_filters(pairs: Iterable[str]) -> dict[str, list[str]]:
    """``["location=dc1", "location=dc2", "role=core"]`` as ``{"location": [...], "role": [...]}``."""
    filters: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise NettuiError(f"filter {pair!r} is not KEY=VALUE", hint=f"keys: {', '.join(DEVICE_FILTER_KEYS)}")
        filters.setdefault(key, []).append(value.strip())
    check_filters(filters)
    return filters


def check_filters(filters: DeviceFilters) -> None:
    """Refuse unknown keys and impossible statuses, naming what would be valid."""
    for key, values in filters.items():
        if key not in DEVICE_FILTER_KEYS:
            raise NettuiError(f"unknown filter key {key!r}", hint=f"filter on one of: {', '.join(DEVICE_FILTER_KEYS)}")
        if key == "status":
            valid = {status.value for status in DeviceStatus}
            for value in values:
                if "*" not in value and value not in valid:
                    raise NettuiError(
                        f"unknown device status {value!r}", hint=f"statuses: {', '.join(s.value for s in DeviceStatus)}"
                    )


def _match(column: Any, value: str) -> ColumnElement[bool]:
    """Equality, or a case-insensitive glob when the value has ``*``."""
    if "*" not in value:
        return column == value  # type: ignore[no-any-return]
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    return column.ilike(escaped, escape="\\")  # type: ignore[no-any-return]


_REFERENCES: Final[dict[str, tuple[InstrumentedAttribute[Any], type[Any]]]] = {
    "location": (Device.location, Location),
    "tenant": (Device.tenant, Tenant),
    "role": (Device.role, DeviceRole),
    "platform": (Device.platform, Platform),
    "manufacturer": (Device.manufacturer, Manufacturer),
}


def _condition(key: str, value: str) -> ColumnElement[bool]:
    if key in ("name", "host", "status", "software_version", "serial"):
        return _match(getattr(Device, key), value)
    if key == "tag":
        return Device.tags.any(or_(_match(Tag.name, value), _match(Tag.slug, value)))
    relation, model = _REFERENCES[key]
    by_name = or_(_match(model.name, value), _match(model.slug, value))
    if model is Platform:
        by_name = or_(by_name, _match(Platform.network_driver, value))
    return relation.has(by_name)


def device_query(filters: DeviceFilters | None = None) -> Select[Device]:
    """SELECT of the devices matching ``filters``, ordered by name, with what a list shows
    loaded up front (one query per relation, not per device)."""
    query = select(Device).order_by(Device.name)
    for key, values in (filters or {}).items():
        query = query.where(or_(*(_condition(key, value) for value in values)) if values else false())
    return query.options(
        joinedload(Device.platform),
        joinedload(Device.manufacturer),
        joinedload(Device.location),
        joinedload(Device.role),
        joinedload(Device.tenant),
        joinedload(Device.secrets_group),
        selectinload(Device.tags),
    )


def list_devices(session: Session, filters: DeviceFilters | None = None) -> list[Device]:
    """Devices matching ``filters`` (see the module docstring), ordered by name."""
    if filters:
        check_filters(filters)
    return list(session.scalars(device_query(filters)).unique())


def get_device(session: Session, name: str) -> Device:
    """The device called ``name`` with its interfaces, VLANs and IP addresses loaded.

    Raises :class:`NotFoundError` naming close matches when there is none.
    """
    query = (
        device_query()
        .where(Device.name == name)
        .options(
            selectinload(Device.interfaces).options(
                joinedload(Interface.untagged_vlan),
                selectinload(Interface.tagged_vlans),
                selectinload(Interface.ip_addresses).joinedload(IPAddress.vrf),
            )
        )
    )
    device = session.scalars(query).unique().one_or_none()
    if device is None:
        names = session.scalars(select(Device.name)).all()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "list devices with: nettui inventory list"
        raise NotFoundError(f"no device named {name!r}", hint=hint)
    return device


def device_to_dict(device: Device, *, with_interfaces: bool = False) -> dict[str, Any]:
    """A device as plain data (names, not ids) for JSON, tables and templates.

    ``with_interfaces`` adds interfaces with their VLANs and IP addresses; load them first
    (as :func:`get_device` does) or each device costs extra queries.
    """
    record: dict[str, Any] = {
        "name": device.name,
        "host": device.host,
        "ssh_port": device.ssh_port,
        "status": device.status.value,
        "platform": _name(device.platform),
        "network_driver": device.platform.network_driver if device.platform else None,
        "manufacturer": _name(device.manufacturer),
        "model": device.model,
        "role": _name(device.role),
        "location": _name(device.location),
        "tenant": _name(device.tenant),
        "tags": [tag.name for tag in device.tags],
        "software_version": device.software_version,
        "serial": device.serial,
        "secrets_group": _name(device.secrets_group),
        "created_at": device.created_at,
        "updated_at": device.updated_at,
    }
    if with_interfaces:
        record["interfaces"] = [_interface_to_dict(interface) for interface in device.interfaces]
    return record


def _interface_to_dict(interface: Interface) -> dict[str, Any]:
    return {
        "name": interface.name,
        "type": interface.type,
        "enabled": interface.enabled,
        "description": interface.description,
        "mode": interface.mode.value if interface.mode else None,
        "untagged_vlan": interface.untagged_vlan.vid if interface.untagged_vlan else None,
        "tagged_vlans": [vlan.vid for vlan in interface.tagged_vlans],
        "mtu": interface.mtu,
        "mac_address": interface.mac_address,
        "ip_addresses": [
            {"address": ip.address, "vrf": _name(ip.vrf), "status": ip.status.value} for ip in interface.ip_addresses
        ],
    }


def _name(obj: Any) -> str | None:
    return None if obj is None else str(obj.name)
