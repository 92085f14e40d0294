"""Request forms without a screen: what the portal, the CLI and the bastion share.

A :class:`FormDraft` is one request being filled in. It knows which fields are shown
(``depends_on``, ``show_condition``), what an object selector may offer (its ``object_type``
narrowed by ``queryset_filter``, whose templates read earlier answers), checks every answer
as it is typed (the field's ``validation_rules``, then the workflow's ``input_schema`` for that
input), previews what each target device would receive (rendered as the engine renders it,
with a diff against the device's last configuration backup) and submits through the engine.

Answers are plain values: a text or a number as typed, a choice's value, a list for a
multiple choice, a bool, and for an object selector the object's natural key (a device's,
interface's or VRF's name, a VLAN's ID). Expressions and filter templates see a chosen object
as its key with its fields as attributes, so ``{{ device }}`` is the device's name and
``{{ device.location }}`` its location's.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta
from jinja2.exceptions import TemplateSyntaxError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy import Boolean, ColumnElement, Integer, String, cast, false, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, Session, selectinload

from catalog import models as m
from catalog.context import device_dict, interface_dict, inventory_contexts, validate_inputs
from catalog.errors import NettuiError, NotFoundError
from catalog.matching import select_implementation
from catalog.models.choices import BackupType, FieldType, ImplementationType, ObjectType, StepType
from catalog.rendering import ENVIRONMENT, RenderError, evaluate, render_template
from catalog.store import Store

MAX_OPTIONS = 50
"""An object selector offers at most this many objects per query: the store may hold 50,000
devices, and every keystroke queries it."""


class FormError(NettuiError):
    """A form that cannot be loaded or used as its definition says."""


class InvalidForm(NettuiError):
    """Answers that the form or its workflow refuse; ``errors`` maps field name to message
    (the empty name for problems that belong to no field)."""

    def __init__(self, form: str, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        lines = "\n".join(f"  {name or 'form'}: {message}" for name, message in self.errors.items())
        super().__init__(
            f"{len(self.errors)} problem(s) in the answers:\n{lines}",
            where=f"form '{form}'",
            hint="correct the fields named and submit again",
        )


# -- the definition -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field as its form defines it (plain data, detached from the store)."""

    name: str
    field_type: FieldType
    label: str
    help_text: str = ""
    required: bool = False
    default: Any = None
    rules: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Any, ...] = ()
    object_type: ObjectType | None = None
    queryset_filter: Mapping[str, Any] = field(default_factory=dict)
    depends_on: str | None = None
    show_condition: str = ""

    @functools.cached_property
    def filter_names(self) -> frozenset[str]:
        """The names the ``queryset_filter`` templates read (earlier fields, usually)."""
        names: set[str] = set()
        for value in _strings(self.queryset_filter):
            if "{{" in value or "{%" in value:
                try:
                    names |= meta.find_undeclared_variables(ENVIRONMENT.parse(value))
                except TemplateSyntaxError:
                    continue  # reported when the filter is used
        return frozenset(names)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class FormSpec:
    """A request form with its fields in order, and what it needs of its workflow."""

    id: int
    slug: str
    name: str
    description: str
    category: str
    icon: str
    published: bool
    workflow_slug: str
    workflow_name: str
    approval_required: bool
    input_schema: Mapping[str, Any]
    default_inputs: Mapping[str, Any]
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        known = ", ".join(f.name for f in self.fields) or "none"
        raise FormError(f"form '{self.slug}' has no field '{name}'", hint=f"its fields: {known}")


def _form_spec(form: m.RequestForm) -> FormSpec:
    by_id = {f.id: f.field_name for f in form.fields}
    return FormSpec(
        id=form.id,
        slug=form.slug,
        name=form.name,
        description=form.description,
        category=form.category or "Other",
        icon=form.icon,
        published=form.published,
        workflow_slug=form.workflow.slug,
        workflow_name=form.workflow.name,
        approval_required=form.workflow.approval_required,
        input_schema=form.workflow.input_schema or {},
        default_inputs=form.workflow.default_inputs or {},
        fields=tuple(
            FieldSpec(
                name=f.field_name,
                field_type=FieldType(f.field_type),
                label=f.label,
                help_text=f.help_text,
                required=f.required,
                default=f.default_value,
                rules=dict(f.validation_rules or {}),
                choices=tuple(f.choices or ()),
                object_type=ObjectType(f.object_type) if f.object_type else None,
                queryset_filter=dict(f.queryset_filter or {}),
                depends_on=by_id.get(f.depends_on_id) if f.depends_on_id is not None else None,
                show_condition=f.show_condition,
            )
            for f in sorted(form.fields, key=lambda f: f.order)
        ),
    )


def _form_query() -> Any:
    return select(m.RequestForm).options(selectinload(m.RequestForm.fields), selectinload(m.RequestForm.workflow))


def list_forms(store: Store, *, published_only: bool = True) -> list[FormSpec]:
    """The forms of the portal, by category then name."""
    query = _form_query()
    if published_only:
        query = query.where(m.RequestForm.published.is_(True))
    with store.read_session() as session:
        forms = [_form_spec(f) for f in session.scalars(query)]
    return sorted(forms, key=lambda f: (f.category.casefold(), f.name.casefold()))


def load_form(store: Store, slug: str) -> FormSpec:
    """The form ``slug`` with its fields in order."""
    with store.read_session() as session:
        form = session.scalars(_form_query().where(m.RequestForm.slug == slug)).one_or_none()
        if form is None:
            raise NotFoundError(f"no request form '{slug}'", hint="`nettui catalog list --kind request_form`")
        return _form_spec(form)


# -- chosen objects as expressions see them -------------------------------------------------------


class Ref(str):
    """A chosen object in expressions: reads as its natural key, with its fields as attributes."""

    _fields: dict[str, Any]

    def __new__(cls, key: str, fields: Mapping[str, Any]) -> Ref:
        self = super().__new__(cls, key)
        self._fields = dict(fields)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None


class RefInt(int):
    """A chosen object whose natural key is a number (a VLAN's ID)."""

    _fields: dict[str, Any]

    def __new__(cls, key: int, fields: Mapping[str, Any]) -> RefInt:
        self = super().__new__(cls, key)
        self._fields = dict(fields)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None


def _as_refs(value: Any) -> Any:
    """Nested ``{"name": ...}`` dicts (a device's location, role...) become Refs too."""
    if isinstance(value, dict):
        inner = {k: _as_refs(v) for k, v in value.items()}
        if isinstance(value.get("name"), str) and "vid" not in value:
            return Ref(value["name"], inner)
        if isinstance(value.get("vid"), int):
            return RefInt(value["vid"], inner)
        return inner
    if isinstance(value, list):
        return [_as_refs(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """A Ref back to the plain key the workflow input gets."""
    if isinstance(value, Ref):
        return str.__str__(value)
    if isinstance(value, RefInt):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- what object selectors offer ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One thing a selector offers: ``value`` is what the answer holds."""

    value: Any
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Options:
    """What a field offers now; ``waiting_for`` names the earlier fields to answer first."""

    options: tuple[Option, ...]
    waiting_for: tuple[str, ...] = ()
    more: bool = False  # there are more than MAX_OPTIONS: type to narrow


@dataclass(frozen=True)
class _Kind:
    model: Any
    key: str  # the natural key's attribute
    noun: str
    search: tuple[str, ...]
    load: tuple[str, ...] = ()  # relationships the option text needs


_KINDS: dict[ObjectType, _Kind] = {
    ObjectType.DEVICE: _Kind(m.Device, "name", "device", ("name", "host"), ("platform", "location")),
    ObjectType.INTERFACE: _Kind(m.Interface, "name", "interface", ("name", "description"), ("untagged_vlan",)),
    ObjectType.VLAN: _Kind(m.VLAN, "vid", "VLAN", ("name",), ("location",)),
    ObjectType.VRF: _Kind(m.VRF, "name", "VRF", ("name", "rd", "description")),
    ObjectType.PREFIX: _Kind(m.Prefix, "prefix", "prefix", ("prefix", "description"), ("vrf",)),
    ObjectType.IP_ADDRESS: _Kind(m.IPAddress, "address", "IP address", ("address", "dns_name"), ("vrf",)),
    ObjectType.LOCATION: _Kind(m.Location, "name", "location", ("name", "slug")),
    ObjectType.TENANT: _Kind(m.Tenant, "name", "tenant", ("name", "slug")),
    ObjectType.TAG: _Kind(m.Tag, "name", "tag", ("name", "slug")),
    ObjectType.PLATFORM: _Kind(m.Platform, "name", "platform", ("name", "network_driver")),
    ObjectType.MANUFACTURER: _Kind(m.Manufacturer, "name", "manufacturer", ("name", "slug")),
    ObjectType.DEVICE_ROLE: _Kind(m.DeviceRole, "name", "role", ("name", "slug")),
}


def _related_match(target: Any, values: list[Any]) -> ColumnElement[bool]:
    """Which rows of a related table a filter value names: by name or slug (a platform also by
    its network driver, a VLAN by its ID)."""
    if target is m.VLAN:
        return target.vid.in_([int(v) for v in values if str(v).isdigit()])
    texts = [str(v) for v in values]
    columns = [
        getattr(target, c) for c in ("name", "slug", "network_driver", "address", "prefix") if hasattr(target, c)
    ]
    return or_(*(c.in_(texts) for c in columns)) if columns else false()


def _coerce(column: Any, value: Any) -> Any:
    if isinstance(column.type, Boolean):
        if isinstance(value, str):
            return value.strip().lower() in ("true", "yes", "1", "on")
        return bool(value)
    if isinstance(column.type, Integer) and not isinstance(value, bool):
        return int(value)
    return str(value) if not isinstance(value, bool | int | float) else value


def _filter_condition(model: Any, key: str, value: Any, where: str) -> ColumnElement[bool]:
    """``queryset_filter`` key -> SQL: a column of the object, or a related object by name."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    mapper = sa_inspect(model)
    if key in mapper.relationships:
        rel = mapper.relationships[key]
        target = rel.mapper.class_
        if None in values:
            values = [v for v in values if v is not None]
            if rel.direction is RelationshipDirection.MANYTOONE:
                local = next(iter(rel.local_columns))
                return or_(local.is_(None), _filter_condition(model, key, values, where)) if values else local.is_(None)
        match = _related_match(target, values)
        if rel.direction is RelationshipDirection.MANYTOONE:
            local = next(iter(rel.local_columns))
            return local.in_(select(target.id).where(match))  # type: ignore[no-any-return]
        return getattr(model, key).any(match)  # type: ignore[no-any-return]
    if key in mapper.column_attrs:
        column = getattr(model, key)
        if None in values:
            rest = [v for v in values if v is not None]
            return or_(column.is_(None), column.in_([_coerce(column, v) for v in rest]))
        try:
            return column.in_([_coerce(column, v) for v in values])  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            raise FormError(f"{where}: {value!r} is not a valid {key}") from None
    if model is m.IPAddress and key == "device":
        device_ids = select(m.Device.id).where(m.Device.name.in_([str(v) for v in values]))
        return m.IPAddress.interface_id.in_(select(m.Interface.id).where(m.Interface.device_id.in_(device_ids)))
    known = sorted(k for k in [*mapper.column_attrs.keys(), *mapper.relationships.keys()] if not k.endswith("_id"))
    raise FormError(
        f"{where}: '{key}' is not a field of {model.__tablename__}",
        hint=f"filter on one of: {', '.join(known)}",
    )


def _option(kind: _Kind, obj: Any) -> Option:
    if isinstance(obj, m.Device):
        parts = [obj.platform.name if obj.platform else "", obj.location.name if obj.location else "", obj.status.value]
        return Option(obj.name, obj.name, " · ".join(p for p in parts if p))
    if isinstance(obj, m.Interface):
        parts = [obj.description, obj.mode.value if obj.mode else ""]
        if obj.untagged_vlan is not None:
            parts.append(f"VLAN {obj.untagged_vlan.vid}")
        if not obj.enabled:
            parts.append("disabled")
        return Option(obj.name, obj.name, " · ".join(p for p in parts if p))
    if isinstance(obj, m.VLAN):
        return Option(obj.vid, f"{obj.vid} {obj.name}", obj.location.name if obj.location else "every location")
    if isinstance(obj, m.VRF):
        return Option(obj.name, obj.name, " · ".join(p for p in (obj.rd or "", obj.description) if p))
    if isinstance(obj, m.Prefix | m.IPAddress):
        key = getattr(obj, kind.key)
        return Option(key, key, " · ".join(p for p in (obj.vrf.name if obj.vrf else "", obj.description) if p))
    return Option(getattr(obj, kind.key), getattr(obj, kind.key), getattr(obj, "description", "") or "")


def _object_fields(obj: Any) -> dict[str, Any]:
    """What expressions see of a chosen object (the render context's shapes where there is one)."""
    if isinstance(obj, m.Device):
        return device_dict(obj)
    if isinstance(obj, m.Interface):
        return {**interface_dict(obj), "device": obj.device.name}
    if isinstance(obj, m.VLAN):
        location = {"name": obj.location.name, "slug": obj.location.slug} if obj.location else None
        return {"vid": obj.vid, "name": obj.name, "status": obj.status.value, "location": location}
    out: dict[str, Any] = {}
    for key in ("name", "slug", "description", "rd", "prefix", "address", "network_driver", "location_type"):
        if hasattr(obj, key):
            out[key] = getattr(obj, key)
    return out


def _search(session: Session, kind: _Kind, query: Any, search: str) -> Options:
    text = search.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [getattr(kind.model, c).ilike(pattern, escape="\\") for c in kind.search]
        if kind.model is m.VLAN:
            matches.append(cast(m.VLAN.vid, String).like(pattern, escape="\\"))
        query = query.where(or_(*matches))
    rows = session.scalars(query.order_by(getattr(kind.model, kind.key)).limit(MAX_OPTIONS + 1)).all()
    shown = sorted(rows[:MAX_OPTIONS], key=lambda row: natural_key(str(getattr(row, kind.key))))
    return Options(tuple(_option(kind, row) for row in shown), more=len(rows) > MAX_OPTIONS)


def natural_key(text: str) -> list[Any]:
    """Numbers in names compare as numbers: Gi1/0/2 before Gi1/0/10, sw9 before sw10."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def search_objects(store: Store, object_type: ObjectType, search: str = "") -> Options:
    """Objects of one type whose name contains ``search``, at most MAX_OPTIONS (a device
    picker outside a form: the catalog's render preview)."""
    kind = _KINDS[object_type]
    query = select(kind.model)
    for rel in kind.load:
        query = query.options(selectinload(getattr(kind.model, rel)))
    with store.read_session() as session:
        return _search(session, kind, query, search)


# -- the draft ------------------------------------------------------------------------------------


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = ("true", "yes", "y", "1", "on")
_FALSE = ("false", "no", "n", "0", "off", "")


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _choice_items(spec: FieldSpec) -> list[tuple[Any, str, str]]:
    """(value, label, show_condition) for each choice: a bare value, or a mapping with
    ``value``, ``label`` and ``show_condition`` (a choice offered only when it is true)."""
    items = []
    for choice in spec.choices:
        if isinstance(choice, Mapping) and "value" in choice:
            items.append(
                (choice["value"], str(choice.get("label", choice["value"])), str(choice.get("show_condition", "")))
            )
        else:
            items.append((choice, str(choice), ""))
    return items


@dataclass(frozen=True)
class StepPreview:
    """What one workflow step would do on one device."""

    step: str
    implementation: str = ""
    content: str = ""
    error: str = ""
    note: str = ""
    config: bool = False  # configuration text (not show commands, not an API payload)


@dataclass(frozen=True)
class DevicePreview:
    """The configuration a device would receive, and how it changes what the device has."""

    device: str
    steps: tuple[StepPreview, ...]
    config: str
    current_source: str  # "" when no configuration of the device is known
    diff: str

    @property
    def errors(self) -> list[str]:
        return [f"{s.step}: {s.error}" for s in self.steps if s.error]


class FormDraft:
    """One request being filled in: answers, what is shown, checks, preview and submit.

    Methods that read the store block (a few ms): call them from a thread in a UI.
    """

    def __init__(self, store: Store, form: FormSpec | str) -> None:
        self.store = store
        self.form = form if isinstance(form, FormSpec) else load_form(store, form)
        self.raw: dict[str, Any] = {}  # as given, valid or not
        self.values: dict[str, Any] = {}  # valid answers (Refs for chosen objects)
        self.errors: dict[str, str] = {}
        for spec in self.form.fields:
            if spec.default is not None and spec.field_type != FieldType.OBJECT_SELECTOR:
                self.set(spec.name, spec.default, cascade=False)

    # -- reading -----------------------------------------------------------------------------

    def scope(self) -> dict[str, Any]:
        """What expressions and filter templates see: every field by name, None when unanswered."""
        return {spec.name: self.values.get(spec.name) for spec in self.form.fields}

    def visible(self) -> list[FieldSpec]:
        """The fields shown now, in order: a field shows when the field it depends on is shown
        and answered, and its ``show_condition`` (if any) is true."""
        shown: set[str] = set()
        out = []
        scope: dict[str, Any] = {spec.name: None for spec in self.form.fields}
        for spec in self.form.fields:
            if spec.depends_on is not None and (
                spec.depends_on not in shown or self.values.get(spec.depends_on) in (None, "", [])
            ):
                continue
            if spec.show_condition and not self._condition(spec.show_condition, scope, spec.name):
                continue
            shown.add(spec.name)
            scope[spec.name] = self.values.get(spec.name)
            out.append(spec)
        return out

    def is_visible(self, name: str) -> bool:
        return any(spec.name == name for spec in self.visible())

    def _condition(self, expression: str, scope: Mapping[str, Any], name: str) -> bool:
        try:
            return bool(evaluate(expression, scope, where=f"field '{name}' show_condition"))
        except RenderError:
            return False  # it reads an answer not given yet: not shown until it is

    def choices(self, name: str) -> list[Option]:
        """The choices a choice or multi_choice field offers now."""
        spec = self.form.field(name)
        scope = self.scope()
        return [
            Option(value, label)
            for value, label, condition in _choice_items(spec)
            if not condition or self._condition(condition, scope, name)
        ]

    def filters(self, name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """A selector's ``queryset_filter`` with its templates rendered over the answers so far,
        and the labels of the earlier fields it still waits for."""
        spec = self.form.field(name)
        scope = self.scope()
        missing = [n for n in sorted(spec.filter_names) if n in scope and scope[n] in (None, "", [])]
        if missing:
            return {}, tuple(self.form.field(n).label for n in missing)
        where = f"form '{self.form.slug}' field '{name}' queryset_filter"
        rendered: dict[str, Any] = {}
        for key, value in spec.queryset_filter.items():
            rendered[key] = self._render_value(value, scope, f"{where}.{key}")
        return rendered, ()

    def _render_value(self, value: Any, scope: Mapping[str, Any], where: str) -> Any:
        if isinstance(value, list):
            return [self._render_value(v, scope, where) for v in value]
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            text = value.strip()
            if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
                return _plain(evaluate(text, scope, where=where))
            return render_template(value, scope, where=where)
        return value

    def _query(self, name: str, session: Session) -> tuple[Any, _Kind] | tuple[None, tuple[str, ...]]:
        spec = self.form.field(name)
        if spec.object_type is None:
            raise FormError(f"field '{name}' of form '{self.form.slug}' is not an object selector")
        kind = _KINDS[spec.object_type]
        rendered, waiting = self.filters(name)
        if waiting:
            return None, waiting
        where = f"form '{self.form.slug}' field '{name}' queryset_filter"
        query = select(kind.model).where(
            *(_filter_condition(kind.model, key, value, f"{where}.{key}") for key, value in rendered.items())
        )
        for rel in kind.load:
            query = query.options(selectinload(getattr(kind.model, rel)))
        return query, kind

    def options(self, name: str, search: str = "") -> Options:
        """What an object selector offers, narrowed by its filter and by ``search`` (a part of
        the name, case ignored): at most MAX_OPTIONS, from one indexed, limited query."""
        with self.store.read_session() as session:
            query, kind = self._query(name, session)
            if query is None:
                assert isinstance(kind, tuple)
                return Options((), kind)
            assert isinstance(kind, _Kind)
            return _search(session, kind, query, search)

    def _resolve(self, name: str, key: Any) -> tuple[Any, str]:
        """The chosen object as a Ref, or an error saying why it cannot be chosen."""
        spec = self.form.field(name)
        with self.store.read_session() as session:
            query, kind = self._query(name, session)
            if query is None:
                assert isinstance(kind, tuple)
                return None, f"Choose {' and '.join(kind)} first."
            assert isinstance(kind, _Kind)
            column = getattr(kind.model, kind.key)
            if kind.key == "vid":
                text = str(key).strip()
                if not text.isdigit():
                    return None, f"{text!r} is not a VLAN ID."
                key = int(text)
            found = session.scalars(query.where(column == key).limit(1)).first()
            if found is None:
                exists = session.scalars(select(kind.model).where(column == key).limit(1)).first()
                if exists is not None:
                    return None, f"{kind.noun} {key} is not offered here ({self._filter_words(name)})."
                return None, f"No {kind.noun} {key}."
            fields = _object_fields(found)
            keyed = getattr(found, kind.key)
            refs = _as_refs(fields)
            attrs = refs._fields if isinstance(refs, Ref | RefInt) else refs
            assert spec.object_type is not None
            return (RefInt(keyed, attrs) if isinstance(keyed, int) else Ref(str(keyed), attrs)), ""

    def _filter_words(self, name: str) -> str:
        rendered, _ = self.filters(name)
        return ", ".join(f"{k} {_plain(v)}" for k, v in sorted(rendered.items())) or "no filter"

    # -- answering -------------------------------------------------------------------------------

    def set(self, name: str, raw: Any, *, cascade: bool = True) -> str:
        """Answer ``name`` with ``raw`` (text as typed, or a value); the error, or "" if valid.

        A changed answer clears later selectors whose filter it feeds when their choice no
        longer fits (another device's interface, a VLAN of another location)."""
        spec = self.form.field(name)
        before = self.values.get(name)
        self.raw[name] = raw
        value, error = self._parse(spec, raw)
        if not error and value is not None:
            error = self._rules(spec, value)
        if error or value is None:
            self.values.pop(name, None)
        else:
            self.values[name] = value
        if not error:
            error = self._schema_error(name)
        self.errors[name] = error
        if cascade and _plain(before) != _plain(self.values.get(name)):
            self._refresh_dependents(name)
        return error

    def clear(self, name: str) -> None:
        self.set(name, None)

    def fill(self, answers: Mapping[str, Any]) -> dict[str, str]:
        """Answer several fields in form order; the errors by field."""
        order = [spec.name for spec in self.form.fields]
        for name in sorted(answers, key=lambda n: order.index(n) if n in order else len(order)):
            self.set(name, answers[name])
        return {n: e for n, e in self.errors.items() if e and n in answers}

    def _refresh_dependents(self, changed: str) -> None:
        for spec in self.form.fields:
            if spec.name == changed or spec.field_type != FieldType.OBJECT_SELECTOR:
                continue
            if changed in spec.filter_names and spec.name in self.values:
                value, error = self._resolve(spec.name, _plain(self.values[spec.name]))
                if error:
                    self.values.pop(spec.name, None)
                    self.raw.pop(spec.name, None)
                    self.errors[spec.name] = ""
                else:
                    self.values[spec.name] = value
                self._refresh_dependents(spec.name)

    def _parse(self, spec: FieldSpec, raw: Any) -> tuple[Any, str]:
        """(value, error); (None, "") for an empty answer."""
        kind = spec.field_type
        if raw is None or (isinstance(raw, str) and not raw.strip() and kind != FieldType.TEXT):
            return None, ""
        if kind == FieldType.TEXT:
            text = str(raw)
            return (text if text != "" else None), ""
        if kind == FieldType.NUMBER:
            if isinstance(raw, bool):
                return None, "Enter a number."
            if isinstance(raw, int | float):
                return raw, ""
            text = str(raw).strip()
            if not _NUMBER.match(text):
                return None, f"{text!r} is not a number."
            number = float(text)
            return (int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number), ""
        if kind == FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw, ""
            word = str(raw).strip().lower()
            if word in _TRUE:
                return True, ""
            if word in _FALSE:
                return False, ""
            return None, f"{raw!r} is not yes or no."
        if kind == FieldType.CHOICE:
            offered = self.choices(spec.name)
            for option in offered:
                if option.value == raw or str(option.value) == str(raw).strip():
                    return option.value, ""
            return None, f"Choose one of: {', '.join(o.label for o in offered)}."
        if kind == FieldType.MULTI_CHOICE:
            items = raw if isinstance(raw, list | tuple | set) else [p for p in str(raw).split(",") if p.strip()]
            offered = self.choices(spec.name)
            chosen = []
            for item in items:
                match = next((o for o in offered if o.value == item or str(o.value) == str(item).strip()), None)
                if match is None:
                    return None, f"{item!r} is not one of: {', '.join(o.label for o in offered)}."
                if match.value not in chosen:
                    chosen.append(match.value)
            return (chosen or None), ""
        return self._resolve(spec.name, raw)

    def _rules(self, spec: FieldSpec, value: Any) -> str:
        """The field's validation_rules: regex, min/max (or range), min_length/max_length (or length)."""
        rules = spec.rules
        low = rules.get("min", (rules.get("range") or {}).get("min"))
        high = rules.get("max", (rules.get("range") or {}).get("max"))
        shortest = rules.get("min_length", (rules.get("length") or {}).get("min"))
        longest = rules.get("max_length", (rules.get("length") or {}).get("max"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            if low is not None and value < low:
                return f"Must be at least {low:g}." if isinstance(low, float) else f"Must be at least {low}."
            if high is not None and value > high:
                return f"Must be at most {high:g}." if isinstance(high, float) else f"Must be at most {high}."
        if isinstance(value, str | list):
            unit = "characters" if isinstance(value, str) else "choices"
            if shortest is not None and len(value) < shortest:
                return f"At least {shortest} {unit} (now {len(value)})."
            if longest is not None and len(value) > longest:
                return f"At most {longest} {unit} (now {len(value)})."
        pattern = rules.get("regex")
        if pattern and isinstance(value, str) and re.fullmatch(pattern, value) is None:
            return (
                f"Not in the expected form. {spec.help_text}".strip()
                if spec.help_text
                else (f"Does not match {pattern}.")
            )
        return ""

    # -- the workflow's view ----------------------------------------------------------------------

    def inputs(self) -> dict[str, Any]:
        """The workflow inputs the answers make: shown fields with an answer, plain values."""
        return {spec.name: _plain(self.values[spec.name]) for spec in self.visible() if spec.name in self.values}

    def target_devices(self) -> list[str]:
        """The devices the request runs on: the answers of its device selectors."""
        names = []
        for spec in self.visible():
            if spec.object_type == ObjectType.DEVICE and spec.name in self.values:
                value = _plain(self.values[spec.name])
                names += value if isinstance(value, list) else [value]
        return sorted(set(names))

    def _merged(self) -> dict[str, Any]:
        from nettui.engine.runner import merged_inputs

        workflow = m.Workflow(input_schema=dict(self.form.input_schema), default_inputs=dict(self.form.default_inputs))
        return merged_inputs(workflow, self.inputs())

    def schema_errors(self) -> dict[str, str]:
        """The workflow's input_schema on the answers, each error on the field it belongs to
        (the empty name when it belongs to none)."""
        schema = self.form.input_schema
        if not schema:
            return {}
        out: dict[str, str] = {}
        errors = _validator(json.dumps(schema, sort_keys=True)).iter_errors(self._merged())
        for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message)):
            name, message = self._schema_field(error)
            out.setdefault(name, message)
        return out

    def _schema_field(self, error: ValidationError) -> tuple[str, str]:
        names = {spec.name for spec in self.form.fields}
        if error.absolute_path:
            top = str(error.absolute_path[0])
            return (top if top in names else ""), _schema_message(error, top)
        if error.validator == "required":
            found = re.match(r"'(.+?)' is a required property", error.message)
            if found:
                missing = found.group(1)
                if missing in names:
                    return missing, "Required."
                return "", f"the workflow needs input '{missing}', which no field of this form fills"
        return "", f"the workflow refuses the answers: {error.message}"

    def _schema_error(self, name: str) -> str:
        """The schema's complaint about ``name`` alone (not that other inputs are missing)."""
        if name not in self.values:
            return ""
        for field_name, message in self.schema_errors().items():
            if field_name == name and message != "Required.":
                return message
        return ""

    def validate(self) -> dict[str, str]:
        """Every problem of the shown fields, then the schema's: {} when the request may go.
        Each field's error is kept in ``errors`` (to show next to it)."""
        problems = self.problems()
        self.errors = {spec.name: problems.get(spec.name, "") for spec in self.form.fields}
        return problems

    def problems(self) -> dict[str, str]:
        """What :meth:`validate` finds, without marking the fields (a form half filled in)."""
        problems: dict[str, str] = {}
        for spec in self.visible():
            if spec.name in self.raw and self.raw[spec.name] not in (None, "", []):
                value, error = self._parse(spec, self.raw[spec.name])
                error = error or (self._rules(spec, value) if value is not None else "")
                if error:
                    problems[spec.name] = error
                    continue
            if spec.required and spec.name not in self.values:
                problems[spec.name] = "Required."
        for name, message in self.schema_errors().items():
            problems.setdefault(name, message)
        return problems

    # -- preview and submit ----------------------------------------------------------------------

    def preview(self, *, requested_by: str = "") -> list[DevicePreview]:
        """What each target device would receive, rendered as the engine renders it, and the
        diff against its last configuration backup. Touches no device."""
        problems = self.validate()
        if problems:
            raise InvalidForm(self.form.slug, problems)
        from nettui.engine.runner import _resolve_mapping

        inputs = self._merged()
        names = self.target_devices()
        with self.store.read_session() as session:
            workflow = session.scalars(
                select(m.Workflow)
                .where(m.Workflow.slug == self.form.workflow_slug)
                .options(selectinload(m.Workflow.steps).selectinload(m.WorkflowStep.task))
            ).one()
            devices = list(
                session.scalars(
                    select(m.Device)
                    .where(m.Device.name.in_(names))
                    .options(
                        selectinload(m.Device.platform).selectinload(m.Platform.manufacturer),
                        selectinload(m.Device.manufacturer),
                        selectinload(m.Device.role),
                        selectinload(m.Device.location),
                        selectinload(m.Device.tenant),
                        selectinload(m.Device.tags),
                    )
                    .order_by(m.Device.name)
                )
            )
            contexts = inventory_contexts(session, devices)
            meta_ = {"preview": True, "requested_by": requested_by, "dry_run": True}
            out = []
            for device in devices:
                context = {**contexts[device.id], "inputs": inputs, "facts": {}, "meta": meta_}
                steps = tuple(_preview_step(step, device, context, _resolve_mapping) for step in workflow.steps)
                config = "".join(s.content if s.content.endswith("\n") else s.content + "\n" for s in steps if s.config)
                backup = session.scalars(
                    select(m.BackupRecord)
                    .where(m.BackupRecord.device_id == device.id, m.BackupRecord.backup_type == BackupType.CONFIG)
                    .order_by(m.BackupRecord.backup_timestamp.desc(), m.BackupRecord.id.desc())
                    .limit(1)
                ).first()
                if backup is None:
                    out.append(DevicePreview(device.name, steps, config, "", ""))
                    continue
                when = backup.backup_timestamp.strftime("%Y-%m-%d %H:%M UTC")
                after = apply_config(backup.backup_data, config)
                diff = "".join(
                    difflib.unified_diff(
                        backup.backup_data.splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=f"{device.name} (backup of {when})",
                        tofile=f"{device.name} (after this request)",
                    )
                )
                out.append(DevicePreview(device.name, steps, config, f"backup of {when}", diff))
            return out

    def submit(self, requested_by: str, *, dry_run: bool = False) -> int:
        """Check everything, then record the execution through the engine; its id."""
        problems = self.validate()
        if problems:
            raise InvalidForm(self.form.slug, problems)
        from nettui.engine.runner import submit

        execution_id = submit(
            self.store,
            self.form.workflow_slug,
            self.target_devices(),
            self.inputs(),
            requested_by=requested_by,
            dry_run=dry_run,
        )
        with self.store.session() as session:  # the audit trail says which form asked
            execution = session.get(m.Execution, execution_id)
            if execution is not None:
                execution.request_form_id = self.form.id
        return execution_id


def _preview_step(step: m.WorkflowStep, device: m.Device, context: dict[str, Any], resolve: Any) -> StepPreview:
    """One step of the preview: task steps rendered; validations that read only the inventory
    and the inputs evaluated (a failing one says what the engine would stop on)."""
    try:
        if step.condition and not evaluate(step.condition, context, where=f"step '{step.name}' condition"):
            return StepPreview(step.name, note="skipped: its condition is false")
        if step.step_type == StepType.VALIDATION:
            expression = step.config.get("expression")
            if expression and "command" not in step.config and "schema" not in step.config:
                try:
                    passed = evaluate(str(expression), context, where=f"step '{step.name}'")
                except RenderError:  # reads what earlier steps produce
                    return StepPreview(step.name, note="checked when it runs")
                if not passed:
                    return StepPreview(step.name, error=str(step.config.get("message") or f"{expression} is false"))
            return StepPreview(step.name)
        if step.step_type != StepType.TASK or step.task is None:
            return StepPreview(step.name)
        step_inputs = resolve(step.input_mapping, context, f"step '{step.name}' input_mapping")
        impl = select_implementation(step.task, device)
        validate_inputs(step.task.input_schema, step_inputs, where=f"task '{step.task.slug}' inputs")
        if impl.implementation_type in (ImplementationType.API_CALL, ImplementationType.PYTHON_HOOK):
            return StepPreview(step.name, impl.slug, note=f"{impl.implementation_type.value}: nothing to render")
        rendered = render_template(impl.template_content, {**context, "intended": step_inputs}, where=impl.slug)
        is_config = impl.implementation_type == ImplementationType.JINJA2_CONFIG
        return StepPreview(step.name, impl.slug, rendered, config=is_config)
    except NettuiError as exc:
        return StepPreview(step.name, error=exc.render())


def _schema_message(error: ValidationError, name: str) -> str:
    """The schema's complaint in an operator's words."""
    kind, limit = error.validator, error.validator_value
    described = ""
    if isinstance(error.schema, Mapping) and error.schema.get("description"):
        described = f" ({error.schema['description']})"
    if kind == "pattern":
        return f"The workflow does not accept this value{described}."
    if kind == "minimum":
        return f"Must be at least {limit}."
    if kind == "maximum":
        return f"Must be at most {limit}."
    if kind == "maxLength":
        return f"At most {limit} characters."
    if kind == "minLength":
        return f"At least {limit} characters." if limit != 1 else "Must not be empty."
    if kind == "enum" and isinstance(limit, list):
        return f"Must be one of: {', '.join(map(str, limit))}."
    if kind == "type":
        return f"Must be {'a whole number' if limit == 'integer' else f'a {limit}'}."
    return f"The workflow refuses it: {error.message}"


# -- configuration diff ---------------------------------------------------------------------------

# Commands whose value is the rest of the line: a new one replaces the old whatever it said.
_WHOLE_LINE = {"description", "name", "remark", "hostname", "banner", "alias"}


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and blocks:
            blocks[-1][1].append(line)
        else:
            blocks.append((line.rstrip(), []))
    return blocks


def _line_key(line: str) -> str:
    words = line.split()
    if not words:
        return ""
    if words[0] == "no":
        words = words[1:]
    if words and words[0] in _WHOLE_LINE:
        return words[0]
    return " ".join(words[:-1]) if len(words) > 1 else words[0]


def apply_config(current: str, change: str) -> str:
    """``current`` with ``change`` applied, as a preview of the device's configuration after it.

    Cisco/Arista style: a top-level line opens a block; a changed child replaces the child that
    sets the same thing (``switchport access vlan 10`` replaces ``... vlan 20``), ``no X``
    removes it, new blocks go at the end. Junos ``set`` lines are added and ``delete X`` removes
    ``set X...``. An approximation for reading, not what the device computes."""
    blocks = _blocks(current)
    for header, children in _blocks(change):
        words = header.split()
        if words and words[0] == "delete":
            prefix = "set " + " ".join(words[1:])
            blocks = [b for b in blocks if not (b[0] == prefix or b[0].startswith(prefix + " "))]
            continue
        if words and words[0] == "no" and not children:
            target = " ".join(words[1:])
            blocks = [b for b in blocks if not (b[0] == target or b[0].startswith(target + " "))]
            continue
        found = next((b for b in blocks if b[0] == header), None)
        if found is None:
            if words and words[0] == "set" and any(b[0] == header for b in blocks):
                continue
            blocks.append((header, [c for c in children if not c.split() or c.split()[0] != "no"]))
            continue
        have = found[1]
        for child in children:
            key = _line_key(child)
            same = [i for i, line in enumerate(have) if _line_key(line) == key]
            if child.split()[0] == "no":
                for i in reversed(same):
                    del have[i]
            elif same:
                have[same[0]] = child
                for i in reversed(same[1:]):
                    del have[i]
            else:
                have.append(child)
    return "".join(header + "\n" + "".join(c + "\n" for c in children) for header, children in blocks)
