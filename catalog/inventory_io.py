"""Importing inventory from CSV and YAML files: everything checked first, then all or nothing.

The whole file is read and checked before the store changes. Every problem is collected and
named by ``file:line`` and column (CSV) or key (YAML); if there is any, nothing is written.
Otherwise the store is changed in the caller's transaction, with bulk statements for devices
and their tags, so that ten thousand devices take seconds rather than minutes.

Devices are matched by name: one already in the store is updated, others are created. A
column missing from a CSV file (a key missing from a YAML item) leaves that field of an
existing object as it is; an empty cell (a null value) clears it. Locations, tenants, tags,
roles and manufacturers that a device names are created when missing; platforms too when
the name is a network driver netutils knows. Interfaces missing from the file are kept.
"""

from __future__ import annotations

import csv
import difflib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainValidator,
    StringConstraints,
    ValidationError,
)
from pydantic_core import ErrorDetails
from sqlalchemy import Select, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog.errors import NettuiError
from catalog.models import (
    VLAN,
    VRF,
    Device,
    DeviceRole,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    SecretsGroup,
    Tag,
    Tenant,
    utcnow,
)
from catalog.models.choices import DeviceStatus, InterfaceMode, IPAMStatus
from catalog.models.inventory import device_tags
from catalog.naming import (
    is_valid_slug,
    known_network_drivers,
    manufacturer_for_driver,
    network_driver_for,
    slugify,
)
from catalog.yamlfile import YamlList, YamlMap, line_of, load_yaml

CSV_TAG_SEPARATOR: Final = ";"
DEVICE_CSV_COLUMNS: Final = (
    "name",
    "host",
    "ssh_port",
    "platform",
    "manufacturer",
    "model",
    "role",
    "status",
    "location",
    "tenant",
    "tags",
    "software_version",
    "serial",
    "secrets_group",
)
REQUIRED_CSV_COLUMNS: Final = ("name", "host")
MAX_PROBLEMS_SHOWN: Final = 50
# Most values in one "IN (...)" query: below the bound-parameter limit of any SQLite build.
_IN_LIMIT: Final = 900

# ----------------------------------------------------------------------------------------------
# Problems and the summary


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the file, precise enough to find and fix it."""

    file: str
    line: int | None
    field: str | None
    message: str
    value: Any = NO_VALUE
    hint: str | None = None
    label: str = "column"

    def render(self) -> str:
        """``file:line: column 'X': reason (got 'value')``."""
        text = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            text += f": {self.label} '{self.field}'"
        text += f": {self.message}"
        if self.value is not NO_VALUE:
            text += f" (got {_show(self.value)})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The problem for ``--json`` output."""
        return {
            "file": self.file,
            "line": self.line,
            self.label: self.field,
            "message": self.message,
            "value": None if self.value is NO_VALUE else self.value,
            "hint": self.hint,
        }


def _show(value: Any) -> str:
    plain = isinstance(value, str) and value.isprintable()
    text = value if plain else repr(value)  # repr shows a line break as \n, not as a broken line
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'" if plain else text


class InventoryImportError(NettuiError):
    """The file has problems; the store was not changed. ``problems`` lists every one found."""

    def __init__(self, source: str, problems: Sequence[ImportProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line or 0)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found; nothing was imported", where=source)

    def render(self) -> str:
        lines = [super().render()]
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines += [f"  {problem.render()}" for problem in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        hints = dict.fromkeys(p.hint for p in shown if p.hint)
        lines += [f"  hint: {hint}" for hint in list(hints)[:5]]
        return "\n".join(lines)


@dataclass
class KindCounts:
    """How many objects of one kind the import created, updated and left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# Display order of object kinds in summaries.
KINDS: Final = (
    "devices",
    "interfaces",
    "manufacturers",
    "platforms",
    "locations",
    "tenants",
    "tags",
    "roles",
    "vlans",
    "vrfs",
    "prefixes",
    "ip_addresses",
)


@dataclass
class ImportSummary:
    """What an import did, per kind of object; ``auto_created`` names the objects created only
    because a device referred to them (worth a look: a typo creates a new location)."""

    source: str
    counts: dict[str, KindCounts] = field(default_factory=lambda: {"devices": KindCounts()})
    auto_created: dict[str, list[str]] = field(default_factory=dict)

    def count(self, kind: str) -> KindCounts:
        return self.counts.setdefault(kind, KindCounts())

    def to_dict(self) -> dict[str, Any]:
        """The summary for ``--json`` output."""
        return {
            "file": self.source,
            **{kind: vars(self.counts[kind]) for kind in KINDS if kind in self.counts},
            "auto_created": self.auto_created,
        }

    def lines(self) -> list[str]:
        """The summary as lines for people."""
        out = []
        for kind in KINDS:
            counts = self.counts.get(kind)
            if counts is None or (counts.total == 0 and kind != "devices"):
                continue
            label = kind.replace("_", " ")
            out.append(f"{label}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged")
        if self.auto_created:
            out.append("created because the file refers to them (a typo shows up here):")
        for kind, names in self.auto_created.items():
            listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            out.append(f"  {kind.replace('_', ' ')}: {listed}")
        return out


# ----------------------------------------------------------------------------------------------
# What a valid item looks like (pydantic models; problems are mapped to columns and keys)


def _between(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _check_host(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if all(label.isdigit() for label in labels):
        raise ValueError("is not a valid IPv4 address")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError("must be an IPv4 or IPv6 address or a DNS hostname (letters, digits, '-' and '.')")
    return value


def _check_slug(value: str) -> str:
    if not is_valid_slug(value):
        raise ValueError(f"must be lowercase letters, digits, '-' and '_' (e.g. {slugify(value) or 'dc-1'!r})")
    return value


def _check_color(value: str) -> str:
    color = value.removeprefix("#").lower()
    if not re.fullmatch(r"[0-9a-f]{6}", color):
        raise ValueError("must be six hex digits, e.g. 'ff8800'")
    return color


def _check_prefix(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError("must be a network in CIDR form, e.g. 10.0.0.0/24") from exc
        raise ValueError(f"has host bits set; did you mean {loose}?") from exc


def _check_address(value: str) -> str:
    if "/" not in value:
        raise ValueError("needs a prefix length, e.g. 10.0.0.1/24")
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError as exc:
        raise ValueError("must be an IP address with prefix length, e.g. 10.0.0.1/24") from exc


def _check_mac(value: str) -> str:
    from netutils.mac import is_valid_mac, mac_to_format

    if not is_valid_mac(value):
        raise ValueError("must be a MAC address, e.g. 00:11:22:33:44:55")
    return str(mac_to_format(value, "MAC_COLON_TWO")).lower()


def _parse_vlan_ref(value: Any) -> tuple[int, str | None]:
    """A VLAN named by ``VID`` or ``VID@LOCATION``."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    vid_text, _, location = text.partition("@")
    if not vid_text.isdigit() or (_ and not location.strip()):
        raise ValueError("must be a VLAN id or VID@LOCATION, e.g. 100 or 100@dc1")
    vid = int(vid_text)
    if not 1 <= vid <= 4094:
        raise ValueError("VLAN id must be between 1 and 4094")
    return vid, location.strip() or None


# Names are one line of text: a line break in a spreadsheet cell is a mistake, not a name.
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_ONE_LINE)]
Short = Annotated[str, StringConstraints(max_length=100)]
Port = Annotated[int, _between(1, 65535)]
Host = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_check_host)]
Slug = Annotated[str, AfterValidator(_check_slug)]
VlanRef = Annotated[tuple[int, str | None], PlainValidator(_parse_vlan_ref)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


class InterfaceItem(_Item):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    type: Annotated[str, StringConstraints(max_length=50)] | None = None
    enabled: bool | None = None
    description: str | None = None
    mode: InterfaceMode | None = None
    untagged_vlan: VlanRef | None = None
    tagged_vlans: list[VlanRef] | None = None
    mtu: Annotated[int, _between(64, 65536)] | None = None
    mac_address: Annotated[str, AfterValidator(_check_mac)] | None = None


class DeviceItem(_Item):
    """A device: a CSV row, or an item of a YAML file's ``devices`` list."""

    name: Name
    host: Host
    ssh_port: Port | None = None
    platform: Name | None = None
    manufacturer: Name | None = None
    model: Short | None = None
    role: Name | None = None
    status: DeviceStatus | None = None
    location: Name | None = None
    tenant: Name | None = None
    tags: list[Name] | None = None
    software_version: Short | None = None
    serial: Short | None = None
    secrets_group: Name | None = None
    interfaces: list[InterfaceItem] | None = None


class _NamedItem(_Item):
    name: Name
    slug: Slug | None = None
    description: str | None = None


class ManufacturerItem(_NamedItem):
    pass


class PlatformItem(_NamedItem):
    manufacturer: Name | None = None
    network_driver: Short | None = None


class LocationItem(_NamedItem):
    location_type: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    parent: Name | None = None


class TenantItem(_NamedItem):
    pass


class TagItem(_NamedItem):
    color: Annotated[str, AfterValidator(_check_color)] | None = None


class RoleItem(_NamedItem):
    pass


class VlanItem(_Item):
    vid: Annotated[int, _between(1, 4094)]
    name: Name
    location: Name | None = None
    tenant: Name | None = None
    status: IPAMStatus | None = None
    description: str | None = None


class VrfItem(_Item):
    name: Name
    rd: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    tenant: Name | None = None
    description: str | None = None


class PrefixItem(_Item):
    prefix: Annotated[str, AfterValidator(_check_prefix)]
    vrf: Name | None = None
    location: Name | None = None
    tenant: Name | None = None
    vlan: VlanRef | None = None
    status: IPAMStatus | None = None
    description: str | None = None


class IPAddressItem(_Item):
    address: Annotated[str, AfterValidator(_check_address)]
    vrf: Name | None = None
    device: Name | None = None
    interface: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    tenant: Name | None = None
    status: IPAMStatus | None = None
    dns_name: Name | None = None
    description: str | None = None


# Top-level keys of a YAML inventory file, in the order they are applied.
YAML_SECTIONS: Final[dict[str, type[_Item]]] = {
    "manufacturers": ManufacturerItem,
    "platforms": PlatformItem,
    "locations": LocationItem,
    "tenants": TenantItem,
    "tags": TagItem,
    "roles": RoleItem,
    "vlans": VlanItem,
    "vrfs": VrfItem,
    "devices": DeviceItem,
    "prefixes": PrefixItem,
    "ip_addresses": IPAddressItem,
}

# What a field becomes when a file clears it (empty cell, null value).
_CLEARED: Final[dict[str, Any]] = {
    "description": "",
    "location_type": "site",
    "color": "9e9e9e",
    "type": "other",
    "enabled": True,
    "status": IPAMStatus.ACTIVE,
    "dns_name": "",
    "mac_address": "",
    "tagged_vlans": [],
}


def _attrs(item: _Item, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The fields the file gave, cleared ones replaced by their empty value."""
    skip = set(exclude)
    return {
        key: _CLEARED.get(key) if value is None else value
        for key, value in item.model_dump(exclude_unset=True).items()
        if key not in skip
    }


def _message(error: ErrorDetails, model: type[BaseModel]) -> tuple[str, Any, str | None]:
    """Operator wording for a pydantic error: (message, value got, hint)."""
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input", NO_VALUE)
    if kind == "missing" or value is None:
        return "is required", NO_VALUE, None
    if kind == "extra_forbidden":
        return "unknown key", NO_VALUE, f"valid keys are {', '.join(model.model_fields)}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected', '')}", value, None
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number", value, None
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false", value, None
    if kind == "string_too_short":
        return "must not be empty", value, None
    if kind == "string_pattern_mismatch":
        return "must be one line, without control characters", value, None
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters", value, None
    if kind == "string_type":
        return "must be text", value, None
    if kind == "list_type":
        return "must be a list", value, None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys to values", value, None
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])), value, None
    return error["msg"][:1].lower() + error["msg"][1:], value, None


# ----------------------------------------------------------------------------------------------
# Where each item came from


@dataclass(frozen=True)
class _Origin:
    """Where an item is in the file, to name it in problems."""

    file: str
    line: int
    label: str = "column"
    base: tuple[str | int, ...] = ()
    node: Any = None  # the YAML item, whose keys know their lines
    cells: dict[str, str] | None = None  # the CSV row as written

    def problem(
        self, loc: Sequence[str | int], message: str, value: Any = NO_VALUE, hint: str | None = None
    ) -> ImportProblem:
        loc = tuple(loc)
        if self.cells is not None:  # a CSV row: the column is enough, and the cell is what the user wrote
            loc = loc[:1]
            if loc and value is not NO_VALUE and isinstance(loc[0], str):
                value = self.cells.get(loc[0], value)
        line = line_of(self.node, loc) if self.node is not None else None
        return ImportProblem(
            self.file, line or self.line, _loc_text(self.base + loc) or None, message, value, hint, self.label
        )


def _loc_text(loc: Iterable[str | int]) -> str:
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


@dataclass
class _Entry:
    origin: _Origin
    item: Any  # the validated pydantic model
    bad: frozenset[str] = frozenset()  # fields with problems: the item only serves further checks


# ----------------------------------------------------------------------------------------------
# Reading files


def read_device_csv(path: Path, problems: list[ImportProblem]) -> list[tuple[_Origin, dict[str, Any]]]:
    """The rows of a device CSV file as dicts (empty cells as ``None``, tags split), each with
    its origin; header problems are added to ``problems`` and then no rows are returned."""
    source = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                problems.append(
                    ImportProblem(source, 1, None, "the file is empty; the first line must name the columns")
                )
                return []
            columns = [cell.strip().lower() for cell in header]
            if not _header_ok(source, columns, problems):
                return []
            rows = []
            last_line = reader.line_num
            for cells in reader:
                line, last_line = last_line + 1, reader.line_num  # a quoted cell may span lines
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(columns):
                    problems.append(
                        ImportProblem(source, line, None, f"has {len(cells)} cells but the header has {len(columns)}")
                    )
                    continue
                raw = dict(zip(columns, cells, strict=True))
                origin = _Origin(source, line, cells=raw)
                rows.append((origin, {column: _csv_cell(column, cell) for column, cell in raw.items()}))
            return rows
    except FileNotFoundError:
        raise NettuiError("no such file", where=source) from None
    except UnicodeDecodeError as exc:
        raise NettuiError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=source) from None
    except csv.Error as exc:
        raise NettuiError(f"cannot read CSV: {exc}", where=source) from None


def _csv_cell(column: str, cell: str) -> Any:
    cell = cell.strip()
    if column == "tags":
        return [tag.strip() for tag in cell.split(CSV_TAG_SEPARATOR) if tag.strip()]
    return cell or None


def _header_ok(source: str, columns: list[str], problems: list[ImportProblem]) -> bool:
    before = len(problems)
    valid = ", ".join(DEVICE_CSV_COLUMNS)
    seen: set[str] = set()
    for column in columns:
        if column not in DEVICE_CSV_COLUMNS:
            problems.append(ImportProblem(source, 1, column, "unknown column", hint=f"valid columns are {valid}"))
        elif column in seen:
            problems.append(ImportProblem(source, 1, column, "appears twice in the header"))
        seen.add(column)
    for column in REQUIRED_CSV_COLUMNS:
        if column not in seen:
            problems.append(ImportProblem(source, 1, column, "required column is missing from the header"))
    return len(problems) == before


def _validate(model: type[_Item], origin: _Origin, data: Any, problems: list[ImportProblem]) -> _Entry | None:
    """The item as ``model``, or its problems added to ``problems``.

    A device with problems still comes back, with ``bad`` set and the bad keys left out (or
    stood in for), so that its other fields and its interfaces are checked too: the operator
    sees every problem at once, and none that only follows from another. It is never written.
    """
    try:
        return _Entry(origin, model.model_validate(data))
    except ValidationError as exc:
        errors = exc.errors()
    for error in errors:
        message, value, hint = _message(error, model)
        problems.append(origin.problem(error["loc"], message, value, hint))
    if model is not DeviceItem or not isinstance(data, dict):
        return None
    rest = _without_bad_keys(data, [tuple(error["loc"]) for error in errors])
    try:
        return _Entry(origin, DeviceItem.model_validate(rest), frozenset(str(e["loc"][0]) for e in errors if e["loc"]))
    except ValidationError:
        return None


# Stand-ins for required fields with a problem; a device that has them is never written.
_STAND_INS: Final = {"name": "(invalid)", "host": "192.0.2.1"}


def _without_bad_keys(data: dict[str, Any], locs: list[tuple[str | int, ...]]) -> dict[str, Any]:
    """A copy of a device's data without the keys that have problems. Bad interfaces keep their
    place in the list, so that problems found later still name the right item and line."""
    rest = dict(data)
    interfaces = data.get("interfaces")
    if isinstance(interfaces, list):
        rest["interfaces"] = [dict(i) if isinstance(i, dict) else {} for i in interfaces]
    for loc in locs:
        if loc and loc[0] == "interfaces" and len(loc) > 1 and isinstance(rest.get("interfaces"), list):
            index = int(loc[1])
            iface = rest["interfaces"][index]
            if len(loc) > 2 and loc[2] != "name":
                iface.pop(str(loc[2]), None)
            else:  # no usable name: a placeholder nothing else can match
                iface.clear()
                iface["name"] = f"(invalid interface {index})"
        elif loc:
            rest.pop(str(loc[0]), None)
            if loc[0] in _STAND_INS:
                rest[str(loc[0])] = _STAND_INS[str(loc[0])]
    return rest


def _read_yaml(path: Path, problems: list[ImportProblem]) -> dict[str, list[_Entry]]:
    source = str(path)
    document = load_yaml(path)
    sections: dict[str, list[_Entry]] = {}
    if document is None:
        return sections
    if not isinstance(document, YamlMap):
        problems.append(
            ImportProblem(source, line_of(document) or 1, None, "the file must be a mapping of sections", label="key")
        )
        return sections
    for key, items in document.items():
        model = YAML_SECTIONS.get(key)
        where = _Origin(source, document.line_of(key), label="key", base=(str(key),))
        if model is None:
            problems.append(where.problem((), "unknown section", hint=f"valid sections are {', '.join(YAML_SECTIONS)}"))
            continue
        if items is None:
            continue
        if not isinstance(items, YamlList):
            problems.append(where.problem((), "must be a list of items", items))
            continue
        entries = sections.setdefault(key, [])
        for index, data in enumerate(items):
            origin = _Origin(source, items.line_of(index), label="key", base=(key, index), node=data)
            entry = _validate(model, origin, data, problems)
            if entry is not None:
                entries.append(entry)
    return sections


# ----------------------------------------------------------------------------------------------
# Named objects (locations, tags...): what the store has and what this import adds


class _Named:
    """One kind of object with a unique name and slug."""

    def __init__(self, session: Session, model: Any, kind: str) -> None:
        self.model = model
        self.kind = kind
        self.ids: dict[str, int] = {}
        self.names_by_id: dict[int, str] = {}
        self.slug_owner: dict[str, str] = {}
        for id_, name, slug in session.execute(select(model.id, model.name, model.slug)):
            self.ids[name] = id_
            self.names_by_id[id_] = name
            self.slug_owner[slug] = name
        self.new: dict[str, dict[str, Any]] = {}  # name -> attributes of an object to create
        self.changes: dict[str, dict[str, Any]] = {}  # name -> attributes to set on an existing object
        self.auto: list[str] = []  # created only because something refers to them
        self.declared: dict[str, int] = {}  # name -> line where the file declares it

    def find(self, value: str) -> str | None:
        """The name of the object ``value`` names, existing or planned: by name, by slug, or by
        the slug of ``value`` ("DC 1", "dc-1" and "DC-1" are one location, not three)."""
        if value in self.ids or value in self.new:
            return value
        return self.slug_owner.get(value) or self.slug_owner.get(slugify(value))

    def refer(self, value: str) -> str:
        """The name of the object ``value`` names, planning to create it when there is none."""
        name = self.find(value)
        if name is None:
            name = value
            self.plan_new(name, {})
            self.auto.append(name)
        return name

    def plan_new(self, name: str, attrs: dict[str, Any]) -> None:
        slug = attrs.get("slug") or self._free_slug(slugify(name) or self.kind.rstrip("s"))
        self.new[name] = {**attrs, "name": name, "slug": slug}
        self.slug_owner[slug] = name

    def _free_slug(self, base: str) -> str:
        slug, number = base, 2
        while slug in self.slug_owner:  # "DC 1" and "dc-1" are different names with the same slug
            suffix = f"-{number}"
            slug, number = base[: 100 - len(suffix)] + suffix, number + 1
        return slug

    def id(self, name: str) -> int:
        return self.ids[name]

    def id_or_none(self, name: str | None) -> int | None:
        return None if name is None else self.ids[name]


def _where_in(session: Session, statement: Select[*tuple[Any, ...]], column: Any, values: Iterable[Any]) -> list[Any]:
    """The rows of ``statement`` whose ``column`` is one of ``values``.

    A few values: one ``IN (...)`` query. Many: one query over the table, filtered here.
    Not many IN queries in a row: after five, psycopg prepares the statement and PostgreSQL
    may switch to a generic plan that scans the table for each one (measured: 2.8 s instead
    of 0.1 s for 10,000 device names right after a bulk load).
    """
    wanted = set(values)
    if not wanted:
        return []
    if len(wanted) <= _IN_LIMIT:
        return list(session.execute(statement.where(column.in_(wanted))))
    return [row[:-1] for row in session.execute(statement.add_columns(column)) if row[-1] in wanted]


def _bulk_update(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """UPDATE rows by ``id``, one executemany per set of columns."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in by_columns.items():
        # Bound names differ from column names: SQLAlchemy reserves the column names in UPDATE.
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({column: bindparam(f"b_{column}") for column in columns if column != "id"})
        )
        session.execute(statement, [{f"b_{key}": value for key, value in row.items()} for row in group])


def _assign(obj: Any, attrs: dict[str, Any]) -> bool:
    """Set ``attrs`` on ``obj``; whether anything changed."""
    changed = False
    for key, value in attrs.items():
        current = getattr(obj, key)
        same = set(current) == set(value) if isinstance(value, list) else current == value
        if not same:
            setattr(obj, key, value)
            changed = True
    return changed


_DEVICE_COLUMNS: Final = (
    "id",
    "host",
    "ssh_port",
    "manufacturer_id",
    "platform_id",
    "model",
    "role_id",
    "status",
    "location_id",
    "tenant_id",
    "software_version",
    "serial",
    "secrets_group_id",
)
_NEW_DEVICE: Final[dict[str, Any]] = {
    "ssh_port": 22,
    "manufacturer_id": None,
    "platform_id": None,
    "model": "",
    "role_id": None,
    "status": DeviceStatus.ACTIVE,
    "location_id": None,
    "tenant_id": None,
    "software_version": "",
    "serial": "",
    "secrets_group_id": None,
}

VlanKey = tuple[str | None, int]  # (location name or None for a global VLAN, VID)


@dataclass
class _DevicePlan:
    entry: _Entry
    platform: str | None = None
    manufacturer: str | None = None
    role: str | None = None
    location: str | None = None
    tenant: str | None = None
    tags: list[str] | None = None
    # each interface with its untagged VLAN and tagged VLANs (None: leave them as they are)
    interfaces: list[tuple[InterfaceItem, VlanKey | None, list[VlanKey] | None]] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# The import


class _InventoryImport:
    """Plans an import against the store (collecting every problem), then writes it."""

    def __init__(self, session: Session, source: str) -> None:
        self.session = session
        self.source = source
        self.problems: list[ImportProblem] = []
        self.summary = ImportSummary(source)
        self.named = {
            "manufacturers": _Named(session, Manufacturer, "manufacturers"),
            "platforms": _Named(session, Platform, "platforms"),
            "locations": _Named(session, Location, "locations"),
            "tenants": _Named(session, Tenant, "tenants"),
            "tags": _Named(session, Tag, "tags"),
            "roles": _Named(session, DeviceRole, "roles"),
        }
        self.manufacturers = self.named["manufacturers"]
        self.platforms = self.named["platforms"]
        self.locations = self.named["locations"]
        self.tenants = self.named["tenants"]
        self.tags = self.named["tags"]
        self.roles = self.named["roles"]
        # Platforms: network driver and manufacturer of each, existing and planned.
        self.platform_driver: dict[str, str] = {}
        self.platform_maker: dict[str, str | None] = {}
        for name, driver, maker_id in session.execute(
            select(Platform.name, Platform.network_driver, Platform.manufacturer_id)
        ):
            self.platform_driver[name] = driver
            self.platform_maker[name] = None if maker_id is None else self.manufacturers.names_by_id[maker_id]
        self.secrets_groups = dict(session.execute(select(SecretsGroup.name, SecretsGroup.id)).all())
        self.devices: list[_DevicePlan] = []
        self.checked_only: list[_DevicePlan] = []  # devices with problems: checked further, never written
        self._suggestions: dict[str, str] = {}
        self.existing_devices: dict[str, dict[str, Any]] = {}
        # YAML-only sections
        self.vlans: dict[VlanKey, int | None] = {}  # every VLAN, existing (id) or planned (None)
        self.vlan_plans: list[tuple[_Entry, VlanKey]] = []
        self.vrfs: dict[str, int | None] = {}
        self.vrf_plans: list[_Entry] = []
        self.prefix_plans: list[tuple[_Entry, VlanKey | None]] = []
        self.ip_plans: list[_Entry] = []

    def fail_if_problems(self) -> None:
        if self.problems:
            raise InventoryImportError(self.source, self.problems)

    def first_time(
        self,
        seen: dict[Any, int],
        key: Any,
        origin: _Origin,
        loc: tuple[str | int, ...],
        value: Any,
        *,
        line: int | None = None,
        what: str = "declared twice",
    ) -> bool:
        """Whether the file names ``key`` for the first time; if not, a problem naming both lines."""
        if key in seen:
            self.problems.append(origin.problem(loc, f"{what}, also on line {seen[key]}", value))
            return False
        seen[key] = line or origin.line
        return True

    # -- planning ---------------------------------------------------------------------------

    def plan_named(self, kind: str, entries: list[_Entry]) -> None:
        """Declared manufacturers, platforms, locations, tenants, tags and roles."""
        named = self.named[kind]
        for entry in entries:
            item, origin = entry.item, entry.origin
            if not self.first_time(named.declared, item.name, origin, ("name",), item.name):
                continue
            attrs = _attrs(item, exclude=("name",))
            if attrs.get("slug") is None:
                attrs.pop("slug", None)
            elif named.slug_owner.get(attrs["slug"], item.name) != item.name:
                owner = named.slug_owner[attrs["slug"]]
                self.problems.append(origin.problem(("slug",), f"is already the slug of {owner!r}", attrs["slug"]))
                continue
            if attrs.get("manufacturer") is not None:
                attrs["manufacturer"] = self.manufacturers.refer(attrs["manufacturer"])
            if kind == "platforms" and not self._plan_platform_item(origin, item, attrs):
                continue
            if kind == "locations" and attrs.get("parent") == item.name:
                self.problems.append(origin.problem(("parent",), "a location cannot be its own parent", item.name))
                continue
            if item.name in named.ids:
                named.changes[item.name] = attrs
            else:
                named.plan_new(item.name, attrs)
        if kind == "locations":
            self._check_location_parents(entries)

    def _plan_platform_item(self, origin: _Origin, item: PlatformItem, attrs: dict[str, Any]) -> bool:
        given = item.network_driver
        if not given and item.name in self.platform_driver:
            return True  # an existing platform keeps its driver
        driver = network_driver_for(given or item.name)
        if driver is None:
            if given:
                self.problems.append(origin.problem(("network_driver",), "unknown network driver", given, _DRIVER_HINT))
            else:
                self.problems.append(
                    origin.problem(("network_driver",), f"is required: {item.name!r} is not a network driver name")
                )
            return False
        attrs["network_driver"] = driver
        self.platform_driver[item.name] = driver
        if "manufacturer" in attrs:
            self.platform_maker[item.name] = attrs["manufacturer"]
        else:
            self.platform_maker.setdefault(item.name, None)
        return True

    def _check_location_parents(self, entries: list[_Entry]) -> None:
        parents: dict[str, str | None] = {}
        for name, attrs in [*self.locations.changes.items(), *self.locations.new.items()]:
            parents[name] = attrs.get("parent")
        existing = {
            self.locations.names_by_id[child]: self.locations.names_by_id[parent]
            for child, parent in self.session.execute(select(Location.id, Location.parent_id))
            if parent is not None
        }
        for entry in entries:
            item, origin = entry.item, entry.origin
            parent = parents.get(item.name)
            if parent is None:
                continue
            if self.locations.find(parent) is None:
                self.problems.append(
                    origin.problem(("parent",), "no such location", parent, "declare the parent under locations:")
                )
                continue
            seen = {item.name}
            step: str | None = self.locations.find(parent)
            while step is not None:
                if step in seen:
                    self.problems.append(origin.problem(("parent",), "makes a loop of parent locations", parent))
                    break
                seen.add(step)
                step = parents[step] if step in parents else existing.get(step)
                step = None if step is None else self.locations.find(step)

    def resolve_platform(self, value: str, manufacturer: str | None) -> str | None:
        """The platform a device names: an existing or declared one (by name or slug), else a
        new one for a network driver netutils knows; ``None`` if neither."""
        name = self.platforms.find(value)
        if name is not None:
            return name
        driver = network_driver_for(value)
        if driver is None:
            return None
        name = self.platforms.find(driver)
        if name is not None:
            return name
        same_driver = [n for n, d in self.platform_driver.items() if d == driver]
        if len(same_driver) == 1:
            return same_driver[0]
        if manufacturer is None and (maker := manufacturer_for_driver(driver)) is not None:
            manufacturer = self.manufacturers.refer(maker)
        self.platforms.plan_new(driver, {"network_driver": driver, "manufacturer": manufacturer})
        self.platforms.auto.append(driver)
        self.platform_driver[driver] = driver
        self.platform_maker[driver] = manufacturer
        return driver

    def _did_you_mean(self, platform: str) -> str:
        if platform not in self._suggestions:  # the same typo tends to fill a whole column
            candidates = [*self.platform_driver, *known_network_drivers()]
            close = difflib.get_close_matches(platform, candidates, n=2)
            self._suggestions[platform] = f"; did you mean {' or '.join(close)}?" if close else ""
        return self._suggestions[platform]

    def plan_devices(self, entries: list[_Entry]) -> None:
        """Devices from CSV rows or YAML items: references resolved, duplicates refused."""
        first_line: dict[str, int] = {}
        for entry in entries:
            item, origin = entry.item, entry.origin
            duplicate = "name" not in entry.bad and not self.first_time(
                first_line, item.name, origin, ("name",), item.name, what="duplicate device name"
            )
            if duplicate:
                continue
            plan = _DevicePlan(entry)
            if item.manufacturer:
                plan.manufacturer = self.manufacturers.refer(item.manufacturer)
            if item.platform:
                plan.platform = self.resolve_platform(item.platform, plan.manufacturer)
                if plan.platform is None:
                    message = "unknown platform" + self._did_you_mean(item.platform)
                    self.problems.append(origin.problem(("platform",), message, item.platform, _DRIVER_HINT))
            plan.role = self.roles.refer(item.role) if item.role else None
            plan.location = self.locations.refer(item.location) if item.location else None
            plan.tenant = self.tenants.refer(item.tenant) if item.tenant else None
            if item.tags is not None:
                plan.tags = list(dict.fromkeys(self.tags.refer(tag) for tag in item.tags))
            if item.secrets_group and item.secrets_group not in self.secrets_groups:
                self.problems.append(
                    origin.problem(
                        ("secrets_group",),
                        "no such secrets group",
                        item.secrets_group,
                        f"create it first: nettui secrets set {item.secrets_group} ...",
                    )
                )
            (self.checked_only if entry.bad else self.devices).append(plan)
        self._load_existing_devices()

    def _load_existing_devices(self) -> None:
        names = [plan.entry.item.name for plan in self.devices]
        columns = [getattr(Device, column) for column in _DEVICE_COLUMNS]
        for row in _where_in(self.session, select(Device.name, *columns), Device.name, names):
            self.existing_devices[row[0]] = dict(zip(_DEVICE_COLUMNS, row[1:], strict=True))

    def plan_vlans(self, entries: list[_Entry]) -> None:
        for vid, location_id, vlan_id in self.session.execute(select(VLAN.vid, VLAN.location_id, VLAN.id)):
            self.vlans[(None if location_id is None else self.locations.names_by_id[location_id], vid)] = vlan_id
        declared: dict[VlanKey, int] = {}
        for entry in entries:
            item, origin = entry.item, entry.origin
            key = (self.locations.refer(item.location) if item.location else None, item.vid)
            if item.tenant:
                self.tenants.refer(item.tenant)
            if not self.first_time(declared, key, origin, ("vid",), item.vid):
                continue
            self.vlans.setdefault(key, None)
            self.vlan_plans.append((entry, key))

    def plan_vrfs(self, entries: list[_Entry]) -> None:
        rd_owner: dict[str, str] = {}
        for name, rd, vrf_id in self.session.execute(select(VRF.name, VRF.rd, VRF.id)):
            self.vrfs[name] = vrf_id
            if rd is not None:
                rd_owner[rd] = name
        declared: dict[str, int] = {}
        for entry in entries:
            item, origin = entry.item, entry.origin
            if not self.first_time(declared, item.name, origin, ("name",), item.name):
                continue
            if item.rd is not None and rd_owner.setdefault(item.rd, item.name) != item.name:
                self.problems.append(
                    origin.problem(("rd",), f"is already the RD of VRF {rd_owner[item.rd]!r}", item.rd)
                )
                continue
            if item.tenant:
                self.tenants.refer(item.tenant)
            self.vrfs.setdefault(item.name, None)
            self.vrf_plans.append(entry)

    def find_vlan(self, ref: tuple[int, str | None], location: str | None) -> VlanKey | None:
        """The VLAN a reference names: ``VID@LOCATION`` exactly, a bare VID at ``location``
        first, then among global VLANs."""
        vid, at = ref
        if at is not None:
            where = self.locations.find(at)
            return (where, vid) if where is not None and (where, vid) in self.vlans else None
        for key in ((location, vid), (None, vid)):
            if key in self.vlans:
                return key
        return None

    def _vlan_problem(self, origin: _Origin, loc: tuple[str | int, ...], ref: tuple[int, str | None]) -> None:
        text = f"{ref[0]}@{ref[1]}" if ref[1] else str(ref[0])
        self.problems.append(origin.problem(loc, "no such VLAN", text, "declare it under vlans: (vid, name, location)"))

    def plan_interfaces(self) -> None:
        """Interfaces listed under devices in a YAML file."""
        for plan in [*self.devices, *self.checked_only]:
            item: DeviceItem = plan.entry.item
            if not item.interfaces:
                continue
            location = plan.location
            if "location" not in item.model_fields_set and item.name in self.existing_devices:
                location_id = self.existing_devices[item.name]["location_id"]
                location = None if location_id is None else self.locations.names_by_id.get(location_id)
            seen: dict[str, int] = {}
            for index, iface in enumerate(item.interfaces):
                loc: tuple[str | int, ...] = ("interfaces", index)
                origin = plan.entry.origin
                line = line_of(origin.node, loc)
                if not self.first_time(
                    seen, iface.name, origin, (*loc, "name"), iface.name, line=line, what="listed twice"
                ):
                    continue
                untagged = tagged = None
                if iface.untagged_vlan is not None:
                    untagged = self.find_vlan(iface.untagged_vlan, location)
                    if untagged is None:
                        self._vlan_problem(origin, (*loc, "untagged_vlan"), iface.untagged_vlan)
                    if iface.mode is None:
                        self.problems.append(
                            origin.problem((*loc, "mode"), "is required with untagged_vlan (access or tagged)")
                        )
                if iface.tagged_vlans:
                    if iface.mode != InterfaceMode.TAGGED:
                        self.problems.append(origin.problem((*loc, "mode"), "must be 'tagged' to carry tagged_vlans"))
                    tagged = []
                    for number, ref in enumerate(iface.tagged_vlans):
                        key = self.find_vlan(ref, location)
                        if key is None:
                            self._vlan_problem(origin, (*loc, "tagged_vlans", number), ref)
                        else:
                            tagged.append(key)
                elif "tagged_vlans" in iface.model_fields_set:
                    tagged = []  # an empty list or null clears them
                plan.interfaces.append((iface, untagged, tagged))

    def plan_prefixes(self, entries: list[_Entry]) -> None:
        declared: dict[tuple[str | None, str], int] = {}
        for entry in entries:
            item, origin = entry.item, entry.origin
            if item.vrf is not None and item.vrf not in self.vrfs:
                self.problems.append(origin.problem(("vrf",), "no such VRF", item.vrf, "declare it under vrfs:"))
                continue
            if not self.first_time(declared, (item.vrf, item.prefix), origin, ("prefix",), item.prefix):
                continue
            location = self.locations.refer(item.location) if item.location else None
            if item.tenant:
                self.tenants.refer(item.tenant)
            vlan = None
            if item.vlan is not None:
                vlan = self.find_vlan(item.vlan, location)
                if vlan is None:
                    self._vlan_problem(origin, ("vlan",), item.vlan)
            self.prefix_plans.append((entry, vlan))

    def plan_ip_addresses(self, entries: list[_Entry]) -> None:
        in_file = [*self.devices, *self.checked_only]
        known_devices = {plan.entry.item.name for plan in in_file}
        interfaces = {(plan.entry.item.name, iface.name) for plan in in_file for iface, _, _ in plan.interfaces}
        referenced = {entry.item.device for entry in entries if entry.item.device}
        known_devices.update(name for (name,) in _where_in(self.session, select(Device.name), Device.name, referenced))
        query = select(Device.name, Interface.name).join(Interface.device)
        interfaces.update((device, name) for device, name in _where_in(self.session, query, Device.name, referenced))
        declared: dict[tuple[str | None, str], int] = {}
        for entry in entries:
            item, origin = entry.item, entry.origin
            if item.vrf is not None and item.vrf not in self.vrfs:
                self.problems.append(origin.problem(("vrf",), "no such VRF", item.vrf, "declare it under vrfs:"))
                continue
            if (item.device is None) != (item.interface is None):
                missing = "interface" if item.interface is None else "device"
                self.problems.append(
                    origin.problem((missing,), "is required when the other of device/interface is given")
                )
                continue
            if item.device is not None:
                if item.device not in known_devices:
                    self.problems.append(origin.problem(("device",), "no such device", item.device))
                    continue
                if (item.device, item.interface) not in interfaces:
                    self.problems.append(
                        origin.problem(
                            ("interface",),
                            f"device {item.device!r} has no such interface",
                            item.interface,
                            "list it under the device's interfaces:",
                        )
                    )
                    continue
            if not self.first_time(declared, (item.vrf, item.address), origin, ("address",), item.address):
                continue
            if item.tenant:
                self.tenants.refer(item.tenant)
            self.ip_plans.append(entry)

    # -- writing ----------------------------------------------------------------------------

    def write(self) -> ImportSummary:
        """Apply the plan; call only when planning found no problem."""
        self.fail_if_problems()
        for named in self.named.values():  # in dependency order: manufacturers before platforms
            self.write_named(named)
        device_ids = self.write_devices()
        vlan_ids = self.write_vlans()
        vrf_ids = self.write_vrfs()
        self.write_interfaces(device_ids, vlan_ids)
        self.write_prefixes(vrf_ids, vlan_ids)
        self.write_ip_addresses(vrf_ids)
        for kind, named in self.named.items():
            if named.auto:
                self.summary.auto_created[kind] = list(named.auto)
        return self.summary

    def _columns(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Attributes with references by name turned into foreign keys."""
        columns = dict(attrs)
        if "manufacturer" in columns:
            columns["manufacturer_id"] = self.manufacturers.id_or_none(columns.pop("manufacturer"))
        if "parent" in columns:
            parent = columns.pop("parent")
            columns["parent_id"] = None if parent is None else self.locations.id(self.locations.find(parent) or parent)
        return columns

    def write_named(self, named: _Named) -> None:
        counts = self.summary.count(named.kind)
        if named.new:
            # A parent location may be created in this same batch: set parents once all have ids.
            objects = {
                name: named.model(**self._columns({k: v for k, v in attrs.items() if k != "parent"}))
                for name, attrs in named.new.items()
            }
            self.session.add_all(objects.values())
            self.session.flush()
            for name, obj in objects.items():
                named.ids[name] = obj.id
                named.names_by_id[obj.id] = name
            for name, attrs in named.new.items():
                if attrs.get("parent") is not None:
                    objects[name].parent_id = self._columns({"parent": attrs["parent"]})["parent_id"]
            counts.created += len(objects)
        if named.changes:
            existing = self.session.scalars(select(named.model).where(named.model.name.in_(list(named.changes))))
            for obj in existing:
                if _assign(obj, self._columns(named.changes[obj.name])):
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        self.session.flush()

    def _device_values(self, plan: _DevicePlan) -> dict[str, Any]:
        item: DeviceItem = plan.entry.item
        given = item.model_fields_set
        values: dict[str, Any] = {"host": item.host}
        if "ssh_port" in given:
            values["ssh_port"] = item.ssh_port or 22
        for column in ("model", "software_version", "serial"):
            if column in given:
                values[column] = getattr(item, column) or ""
        if "status" in given:
            values["status"] = item.status or DeviceStatus.ACTIVE
        for column, named in (
            ("platform", self.platforms),
            ("role", self.roles),
            ("location", self.locations),
            ("tenant", self.tenants),
        ):
            if column in given:
                values[f"{column}_id"] = named.id_or_none(getattr(plan, column))
        if "secrets_group" in given:
            values["secrets_group_id"] = self.secrets_groups[item.secrets_group] if item.secrets_group else None
        # A device is made by its platform's manufacturer unless the file says otherwise.
        maker = plan.manufacturer or (self.platform_maker.get(plan.platform) if plan.platform else None)
        if "manufacturer" in given or maker is not None:
            values["manufacturer_id"] = self.manufacturers.id_or_none(maker)
        return values

    def write_devices(self) -> dict[str, int]:
        """Bulk INSERT new devices, bulk UPDATE changed ones, then their tags; name -> id."""
        counts = self.summary.count("devices")
        now = utcnow()
        device_ids = {name: row["id"] for name, row in self.existing_devices.items()}
        current_tags: dict[int, set[int]] = {}
        query = select(device_tags.c.device_id, device_tags.c.tag_id)
        for device_id, tag_id in _where_in(self.session, query, device_tags.c.device_id, device_ids.values()):
            current_tags.setdefault(device_id, set()).add(tag_id)

        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        wanted_tags: dict[str, set[int]] = {}
        for plan in self.devices:
            name = plan.entry.item.name
            values = self._device_values(plan)
            tags = None if plan.tags is None else {self.tags.id(tag) for tag in plan.tags}
            if tags is not None:
                wanted_tags[name] = tags
            existing = self.existing_devices.get(name)
            if existing is None:
                inserts.append({**_NEW_DEVICE, **values, "name": name, "created_at": now, "updated_at": now})
                counts.created += 1
                continue
            fields_changed = any(existing[key] != value for key, value in values.items())
            tags_changed = tags is not None and tags != current_tags.get(existing["id"], set())
            if fields_changed or tags_changed:
                updates.append({**values, "id": existing["id"], "updated_at": now})
                counts.updated += 1
            else:
                counts.unchanged += 1

        # Core statements on the table, not ORM bulk ones: the ORM starts a new batch whenever
        # the set of NULL columns changes from one row to the next, which makes thousands of
        # tiny INSERTs for a typical file. And a plain executemany, then one SELECT for the new
        # ids: with RETURNING, rows go out as multi-row INSERTs with 16 placeholders a row,
        # which psycopg parses in Python (1.7 s for 10,000 devices).
        table = cast(Table, Device.__table__)
        if inserts:
            self.session.execute(insert(table), inserts)
            new_names = [row["name"] for row in inserts]
            device_ids.update(_where_in(self.session, select(Device.name, Device.id), Device.name, new_names))
        _bulk_update(self.session, table, updates)

        removals, additions = [], []
        for name, tags in wanted_tags.items():
            device_id = device_ids[name]
            current = current_tags.get(device_id, set())
            additions += [{"device_id": device_id, "tag_id": tag} for tag in tags - current]
            removals += [{"b_device": device_id, "b_tag": tag} for tag in current - tags]
        if removals:
            self.session.execute(
                delete(device_tags).where(
                    device_tags.c.device_id == bindparam("b_device"), device_tags.c.tag_id == bindparam("b_tag")
                ),
                removals,
            )
        if additions:
            self.session.execute(insert(device_tags), additions)
        return device_ids

    def write_vlans(self) -> dict[VlanKey, int]:
        counts = self.summary.count("vlans") if self.vlan_plans else KindCounts()
        ids = [vlan_id for _, key in self.vlan_plans if (vlan_id := self.vlans[key]) is not None]
        existing = {vlan.id: vlan for vlan in self.session.scalars(select(VLAN).where(VLAN.id.in_(ids)))}
        created: dict[VlanKey, VLAN] = {}
        for entry, key in self.vlan_plans:
            item: VlanItem = entry.item
            attrs = self._tenant_column(item, _attrs(item, exclude=("vid", "location")))
            vlan = existing.get(self.vlans[key] or 0)
            if vlan is None:
                created[key] = VLAN(vid=key[1], location_id=self.locations.id_or_none(key[0]), **attrs)
                counts.created += 1
            elif _assign(vlan, attrs):
                counts.updated += 1
            else:
                counts.unchanged += 1
        self.session.add_all(created.values())
        self.session.flush()
        vlan_ids = {key: vlan_id for key, vlan_id in self.vlans.items() if vlan_id is not None}
        vlan_ids.update((key, vlan.id) for key, vlan in created.items())
        return vlan_ids

    def _tenant_column(self, item: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        if "tenant" in attrs:
            tenant = attrs.pop("tenant")
            attrs["tenant_id"] = None if tenant is None else self.tenants.id(self.tenants.find(tenant) or tenant)
        return attrs

    def write_vrfs(self) -> dict[str, int]:
        counts = self.summary.count("vrfs") if self.vrf_plans else KindCounts()
        names = [entry.item.name for entry in self.vrf_plans]
        existing = {vrf.name: vrf for vrf in self.session.scalars(select(VRF).where(VRF.name.in_(names)))}
        for entry in self.vrf_plans:
            attrs = self._tenant_column(entry.item, _attrs(entry.item, exclude=("name",)))
            vrf = existing.get(entry.item.name)
            if vrf is None:
                self.session.add(VRF(name=entry.item.name, **attrs))
                counts.created += 1
            elif _assign(vrf, attrs):
                counts.updated += 1
            else:
                counts.unchanged += 1
        self.session.flush()
        return dict(self.session.execute(select(VRF.name, VRF.id)).all()) if self.vrfs else {}

    def write_interfaces(self, device_ids: dict[str, int], vlan_ids: dict[VlanKey, int]) -> None:
        plans = [plan for plan in self.devices if plan.interfaces]
        if not plans:
            return
        counts = self.summary.count("interfaces")
        ids = [device_ids[plan.entry.item.name] for plan in plans]
        query = select(Interface).options(selectinload(Interface.tagged_vlans))
        existing = {(i.device_id, i.name): i for (i,) in _where_in(self.session, query, Interface.device_id, ids)}
        wanted = {vlan_ids[key] for plan in plans for _, _, tagged in plan.interfaces for key in tagged or ()}
        vlans = {vlan.id: vlan for vlan in self.session.scalars(select(VLAN).where(VLAN.id.in_(wanted)))}
        for plan in plans:
            device_id = device_ids[plan.entry.item.name]
            for iface, untagged, tagged in plan.interfaces:
                attrs = _attrs(iface, exclude=("name", "untagged_vlan", "tagged_vlans"))
                if "untagged_vlan" in iface.model_fields_set:
                    attrs["untagged_vlan_id"] = None if untagged is None else vlan_ids[untagged]
                if tagged is not None:
                    attrs["tagged_vlans"] = [vlans[vlan_ids[key]] for key in tagged]
                obj = existing.get((device_id, iface.name))
                if obj is None:
                    self.session.add(Interface(device_id=device_id, name=iface.name, **attrs))
                    counts.created += 1
                elif _assign(obj, attrs):
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        self.session.flush()

    def write_prefixes(self, vrf_ids: dict[str, int], vlan_ids: dict[VlanKey, int]) -> None:
        if not self.prefix_plans:
            return
        counts = self.summary.count("prefixes")
        texts = [entry.item.prefix for entry, _ in self.prefix_plans]
        existing = {(p.vrf_id, p.prefix): p for (p,) in _where_in(self.session, select(Prefix), Prefix.prefix, texts)}
        for entry, vlan in self.prefix_plans:
            item: PrefixItem = entry.item
            attrs = self._tenant_column(item, _attrs(item, exclude=("prefix", "vrf", "location", "vlan")))
            given = item.model_fields_set
            if "location" in given:
                attrs["location_id"] = (
                    None
                    if item.location is None
                    else self.locations.id(self.locations.find(item.location) or item.location)
                )
            if "vlan" in given:
                attrs["vlan_id"] = None if vlan is None else vlan_ids[vlan]
            vrf_id = None if item.vrf is None else vrf_ids[item.vrf]
            obj = existing.get((vrf_id, item.prefix))
            if obj is None:
                self.session.add(Prefix(prefix=item.prefix, vrf_id=vrf_id, **attrs))
                counts.created += 1
            elif _assign(obj, attrs):
                counts.updated += 1
            else:
                counts.unchanged += 1
        self.session.flush()

    def write_ip_addresses(self, vrf_ids: dict[str, int]) -> None:
        if not self.ip_plans:
            return
        counts = self.summary.count("ip_addresses")
        texts = [entry.item.address for entry in self.ip_plans]
        existing = {
            (a.vrf_id, a.address): a for (a,) in _where_in(self.session, select(IPAddress), IPAddress.address, texts)
        }
        devices = {entry.item.device for entry in self.ip_plans if entry.item.device}
        query = select(Device.name, Interface.name, Interface.id).join(Interface.device)
        interface_ids = {
            (device, name): iface_id for device, name, iface_id in _where_in(self.session, query, Device.name, devices)
        }
        for entry in self.ip_plans:
            item: IPAddressItem = entry.item
            attrs = self._tenant_column(item, _attrs(item, exclude=("address", "vrf", "device", "interface")))
            given = item.model_fields_set
            if "device" in given or "interface" in given:
                attrs["interface_id"] = interface_ids[(item.device, item.interface or "")] if item.device else None
            vrf_id = None if item.vrf is None else vrf_ids[item.vrf]
            obj = existing.get((vrf_id, item.address))
            if obj is None:
                self.session.add(IPAddress(address=item.address, vrf_id=vrf_id, **attrs))
                counts.created += 1
            elif _assign(obj, attrs):
                counts.updated += 1
            else:
                counts.unchanged += 1
        self.session.flush()


_DRIVER_HINT: Final = (
    "name an existing platform, or a network driver such as cisco_ios, cisco_xe, cisco_nxos, arista_eos, "
    "juniper_junos (any netmiko, scrapli or napalm name works)"
)


# ----------------------------------------------------------------------------------------------
# Entry points


def import_device_csv(session: Session, path: str | Path) -> ImportSummary:
    """Import devices from a CSV file (one row per device, header row first) in ``session``'s
    transaction. Raises :class:`InventoryImportError` listing every problem, having written nothing."""
    path = Path(path)
    job = _InventoryImport(session, str(path))
    rows = read_device_csv(path, job.problems)
    entries = [entry for origin, data in rows if (entry := _validate(DeviceItem, origin, data, job.problems))]
    job.plan_devices(entries)
    return _write(job)


def import_inventory_yaml(session: Session, path: str | Path) -> ImportSummary:
    """Import a YAML inventory file (sections ``manufacturers``, ``platforms``, ``locations``,
    ``tenants``, ``tags``, ``roles``, ``vlans``, ``vrfs``, ``devices`` with ``interfaces``,
    ``prefixes``, ``ip_addresses``) in ``session``'s transaction, all or nothing."""
    path = Path(path)
    job = _InventoryImport(session, str(path))
    sections = _read_yaml(path, job.problems)
    for kind in ("manufacturers", "platforms", "locations", "tenants", "tags", "roles"):
        job.plan_named(kind, sections.get(kind, []))
    job.plan_vlans(sections.get("vlans", []))
    job.plan_vrfs(sections.get("vrfs", []))
    job.plan_devices(sections.get("devices", []))
    job.plan_interfaces()
    job.plan_prefixes(sections.get("prefixes", []))
    job.plan_ip_addresses(sections.get("ip_addresses", []))
    return _write(job)


def _write(job: _InventoryImport) -> ImportSummary:
    try:
        return job.write()
    except IntegrityError as exc:
        # Planning checked every constraint, so this is another writer changing the store meanwhile.
        raise NettuiError(
            f"the store refused the import: {exc.orig}",
            where=job.source,
            hint="another change to the inventory happened at the same time; run the import again",
        ) from None


def import_inventory_file(session: Session, path: str | Path) -> ImportSummary:
    """Import ``path`` by its extension: ``.csv`` (devices) or ``.yaml``/``.yml`` (everything)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return import_device_csv(session, path)
    if suffix in (".yaml", ".yml"):
        return import_inventory_yaml(session, path)
    raise NettuiError(
        f"cannot tell the format from the extension {suffix or '(none)'!r}",
        where=str(path),
        hint="name the file .csv (one device per row) or .yaml/.yml",
    )
