"""The inventory as the TUI holds it: plain rows read in one pass, and the filter over them.

No Textual here: this is what makes the Inventory screen fast with 50,000 devices, and it is
tested and measured on its own. Rows come from one column query (no ORM objects), and the
filter runs its per-row loops in C (``map``/``compress`` over precomputed search strings).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from operator import contains
from typing import TYPE_CHECKING

from sqlalchemy import select

from catalog.models import Device, DeviceRole, Location, Manufacturer, Platform, Tag, Tenant
from catalog.models.inventory import device_tags

if TYPE_CHECKING:
    from catalog.store import Store

# Between the fields of a search string: no term can match across two fields.
FIELD_SEPARATOR = "\x00"

# The facets the filter bar offers, in the order it shows them.
FACETS = ("location", "role", "platform", "tag", "status")


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device as the UI shows it: plain values, detached from any database session."""

    id: int
    name: str
    host: str
    ssh_port: int
    platform: str
    network_driver: str
    manufacturer: str
    model: str
    location: str
    role: str
    status: str
    tenant: str
    tags: tuple[str, ...]
    software_version: str
    serial: str
    created_at: datetime | None
    updated_at: datetime | None
    search_text: str = field(repr=False)

    def details(self) -> list[tuple[str, str]]:
        """Every field as (label, value) pairs, in the order an operator reads them."""
        platform = f"{self.platform} ({self.network_driver})" if self.network_driver else self.platform
        return [
            ("Name", self.name),
            ("Host", self.host),
            ("SSH port", str(self.ssh_port)),
            ("Status", self.status),
            ("Platform", platform),
            ("Manufacturer", self.manufacturer),
            ("Model", self.model),
            ("Software version", self.software_version),
            ("Serial", self.serial),
            ("Location", self.location),
            ("Role", self.role),
            ("Tenant", self.tenant),
            ("Tags", ", ".join(self.tags)),
            ("Created", local_time(self.created_at)),
            ("Updated", local_time(self.updated_at)),
        ]


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time as the operator reads it: local, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def search_text(*fields: str | Iterable[str]) -> str:
    """The string a fuzzy term is matched in: the fields casefolded, one separator between."""
    parts: list[str] = []
    for value in fields:
        parts.extend([value] if isinstance(value, str) else value)
    return FIELD_SEPARATOR.join(part.replace(FIELD_SEPARATOR, " ").casefold() for part in parts)


def load_device_rows(store: Store) -> list[DeviceRow]:
    """Every device in the store, by name, as rows: two column queries, no ORM objects
    (50,000 devices load in about a second). Blocking: call it from a thread worker."""
    return _load_rows(store)


def _load_rows(store: Store, device_id: int | None = None) -> list[DeviceRow]:
    query = (
        select(
            Device.id,
            Device.name,
            Device.host,
            Device.ssh_port,
            Platform.name,
            Platform.network_driver,
            Manufacturer.name,
            Device.model,
            Location.name,
            DeviceRole.name,
            Device.status,
            Tenant.name,
            Device.software_version,
            Device.serial,
            Device.created_at,
            Device.updated_at,
        )
        .outerjoin(Platform, Device.platform_id == Platform.id)
        .outerjoin(Manufacturer, Device.manufacturer_id == Manufacturer.id)
        .outerjoin(Location, Device.location_id == Location.id)
        .outerjoin(DeviceRole, Device.role_id == DeviceRole.id)
        .outerjoin(Tenant, Device.tenant_id == Tenant.id)
        .order_by(Device.name)
    )
    tag_query = select(device_tags.c.device_id, Tag.name).join(Tag, Tag.id == device_tags.c.tag_id).order_by(Tag.name)
    if device_id is not None:
        query = query.where(Device.id == device_id)
        tag_query = tag_query.where(device_tags.c.device_id == device_id)
    with store.read_session() as session:
        tags: dict[int, list[str]] = {}
        for device_id, tag in session.execute(tag_query):
            tags.setdefault(device_id, []).append(tag)
        rows = []
        for (
            device_id,
            name,
            host,
            ssh_port,
            platform,
            driver,
            manufacturer,
            model,
            location,
            role,
            status,
            tenant,
            version,
            serial,
            created,
            updated,
        ) in session.execute(query):
            device_tags_ = tuple(tags.get(device_id, ()))
            platform, driver, location, role = platform or "", driver or "", location or "", role or ""
            rows.append(
                DeviceRow(
                    id=device_id,
                    name=name,
                    host=host,
                    ssh_port=ssh_port,
                    platform=platform,
                    network_driver=driver,
                    manufacturer=manufacturer or "",
                    model=model,
                    location=location,
                    role=role,
                    status=str(status.value if hasattr(status, "value") else status),
                    tenant=tenant or "",
                    tags=device_tags_,
                    software_version=version,
                    serial=serial,
                    created_at=created,
                    updated_at=updated,
                    search_text=search_text(name, host, platform, driver, location, role, device_tags_),
                )
            )
        return rows


# -- filtering ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    """What the operator asked for: facet values (exact; None means any) and fuzzy text.

    Every whitespace-separated term of ``text`` must match one field (name, host, platform or
    its driver, location, role, a tag): as a substring, or fuzzily, its characters in order
    within that field (``sw07`` finds ``sw-07-0123``). Substring matches come first.
    """

    text: str = ""
    location: str | None = None
    role: str | None = None
    platform: str | None = None
    tag: str | None = None
    status: str | None = None

    @property
    def terms(self) -> list[str]:
        return self.text.casefold().split()

    @property
    def is_empty(self) -> bool:
        return not self.terms and all(getattr(self, facet) is None for facet in FACETS)

    def describe(self) -> str:
        """The filter in words, for the "nothing matches" line."""
        parts = [f"{facet} {value}" for facet in FACETS if (value := getattr(self, facet)) is not None]
        if self.text.strip():
            parts.insert(0, self.text.strip())
        return ", ".join(parts)


def fuzzy_pattern(term: str) -> re.Pattern[str]:
    """The characters of ``term`` in order within one field. Possessive quantifiers over
    "anything but the next character": the first occurrence of each is as good as any, so the
    regex never backtracks (linear in the field's length)."""
    parts = [re.escape(term[0])]
    for char in term[1:]:
        escaped = re.escape(char)
        parts.append(f"[^{escaped}{FIELD_SEPARATOR}]*+{escaped}")
    return re.compile("".join(parts))


def _facet_match(device: DeviceRow, wanted: DeviceFilter) -> bool:
    return (
        (wanted.location is None or device.location == wanted.location)
        and (wanted.role is None or device.role == wanted.role)
        and (wanted.platform is None or device.platform == wanted.platform)
        and (wanted.status is None or device.status == wanted.status)
        and (wanted.tag is None or wanted.tag in device.tags)
    )


def filter_devices(devices: Sequence[DeviceRow], wanted: DeviceFilter) -> list[DeviceRow]:
    """The devices ``wanted`` selects: substring matches first, then fuzzy ones, each in the
    order given (by name)."""
    rows: list[DeviceRow] = list(devices)
    if any(getattr(wanted, facet) is not None for facet in FACETS):
        rows = [device for device in rows if _facet_match(device, wanted)]
    terms = wanted.terms
    if not terms:
        return rows
    texts = [device.search_text for device in rows]
    for term in terms:
        selected = list(map(fuzzy_pattern(term).search, texts))
        rows, texts = list(compress(rows, selected)), list(compress(texts, selected))
    exact = [True] * len(rows)
    for term in terms:
        exact = [a and b for a, b in zip(exact, map(contains, texts, repeat(term)), strict=True)]
    if all(exact):
        return rows
    return list(compress(rows, exact)) + [row for row, hit in zip(rows, exact, strict=True) if not hit]


@dataclass(frozen=True, slots=True)
class FacetChoices:
    """The values each facet can take in the inventory, with how many devices have each."""

    location: list[tuple[str, int]]
    role: list[tuple[str, int]]
    platform: list[tuple[str, int]]
    tag: list[tuple[str, int]]
    status: list[tuple[str, int]]

    @classmethod
    def of(cls, devices: Sequence[DeviceRow]) -> FacetChoices:
        def counted(values: Iterable[str]) -> list[tuple[str, int]]:
            return sorted(((value, count) for value, count in Counter(values).items() if value), key=_by_name)

        return cls(
            location=counted(device.location for device in devices),
            role=counted(device.role for device in devices),
            platform=counted(device.platform for device in devices),
            tag=counted(tag for device in devices for tag in device.tags),
            status=counted(device.status for device in devices),
        )


def _by_name(item: tuple[str, int]) -> str:
    return item[0].casefold()


# -- one device in depth --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterfaceRow:
    name: str
    enabled: bool
    mode: str
    untagged_vlan: int | None
    tagged_vlans: tuple[int, ...]
    addresses: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class VlanRow:
    vid: int
    name: str
    status: str
    description: str
    ports: int  # how many of the device's interfaces carry it


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    id: int
    workflow: str
    status: str
    requested_by: str
    created_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    """What the device screen shows, read in one worker: the device, its interfaces, the VLANs
    at its location, its last known facts and its recent executions."""

    device: DeviceRow
    interfaces: list[InterfaceRow]
    vlans: list[VlanRow]
    facts: dict[str, str]
    facts_source: str
    executions: list[ExecutionRow]


RECENT_EXECUTIONS = 50


def load_device_detail(store: Store, device_id: int) -> DeviceDetail:
    """Everything the device screen shows about device ``device_id``. Blocking: call it from a
    thread worker. Raises NotFoundError if the device is gone."""
    from sqlalchemy.orm import selectinload

    from catalog.errors import NotFoundError
    from catalog.models import VLAN, BackupRecord, Execution, Interface, User, Workflow
    from catalog.models.execution import execution_target_devices

    rows = _load_rows(store, device_id)
    if not rows:
        raise NotFoundError(f"device {device_id} is no longer in the store", hint="press r in the inventory to reload")
    device = rows[0]
    with store.read_session() as session:
        location_id = session.scalar(select(Device.location_id).where(Device.id == device_id))
        interfaces = session.scalars(
            select(Interface)
            .where(Interface.device_id == device_id)
            .order_by(Interface.name)
            .options(
                selectinload(Interface.untagged_vlan),
                selectinload(Interface.tagged_vlans),
                selectinload(Interface.ip_addresses),
            )
        ).all()
        interface_rows = [
            InterfaceRow(
                name=interface.name,
                enabled=interface.enabled,
                mode=interface.mode.value if interface.mode else "",
                untagged_vlan=interface.untagged_vlan.vid if interface.untagged_vlan else None,
                tagged_vlans=tuple(vlan.vid for vlan in interface.tagged_vlans),
                addresses=tuple(ip.address for ip in interface.ip_addresses),
                description=interface.description,
            )
            for interface in interfaces
        ]
        used = Counter(
            vid
            for interface in interface_rows
            for vid in {*interface.tagged_vlans, *([interface.untagged_vlan] if interface.untagged_vlan else [])}
        )
        vlans = []
        if location_id is not None:
            vlans = [
                VlanRow(vlan.vid, vlan.name, vlan.status.value, vlan.description, used.get(vlan.vid, 0))
                for vlan in session.scalars(select(VLAN).where(VLAN.location_id == location_id).order_by(VLAN.vid))
            ]
        facts = {"model": device.model, "serial": device.serial, "software_version": device.software_version}
        source = "inventory"
        backup = session.execute(
            select(BackupRecord.metadata_, BackupRecord.backup_timestamp)
            .where(BackupRecord.device_id == device_id)
            .order_by(BackupRecord.backup_timestamp.desc())
            .limit(1)
        ).first()
        if backup is not None and backup[0]:
            recorded = backup[0].get("facts", backup[0])
            if isinstance(recorded, dict):
                facts |= {str(key): _fact_text(value) for key, value in recorded.items() if key != "interfaces"}
                source = f"backup of {local_time(backup[1])}"
        executions = [
            ExecutionRow(id_, workflow, str(status.value), user, created, completed)
            for id_, workflow, status, user, created, completed in session.execute(
                select(
                    Execution.id,
                    Workflow.name,
                    Execution.status,
                    User.username,
                    Execution.created_at,
                    Execution.completed_at,
                )
                .join(execution_target_devices, execution_target_devices.c.execution_id == Execution.id)
                .join(Workflow, Workflow.id == Execution.workflow_id)
                .join(User, User.id == Execution.requested_by_id)
                .where(execution_target_devices.c.device_id == device_id)
                .order_by(Execution.created_at.desc(), Execution.id.desc())
                .limit(RECENT_EXECUTIONS)
            )
        ]
    return DeviceDetail(device, interface_rows, vlans, facts, source, executions)


def _fact_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def facts_as_text(facts: dict[str, object]) -> dict[str, str]:
    """Live facts (from a driver) as label -> text, without the bulky interface list."""
    return {str(key): _fact_text(value) for key, value in facts.items() if key != "interfaces"}
