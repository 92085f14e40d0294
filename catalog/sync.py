"""Catalog files <-> the store: idempotent import (upsert by slug, one transaction) and export.

Export writes exactly what import reads, so export -> import -> export gives identical files,
and an import of unchanged files changes nothing (not even ``updated_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import String, cast, func, inspect, literal, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog import models as m
from catalog.errors import NettuiError
from catalog.files import (
    FOLDERS,
    CatalogFile,
    CheckSpec,
    ComplianceCheckFile,
    FormFieldFile,
    ImplementationFile,
    MatchRules,
    ProviderConfigFile,
    ProviderFile,
    RequestFormFile,
    StepFile,
    TaskFile,
    ValidationRules,
    WorkflowFile,
    key_of,
)
from catalog.loader import NAMED_KINDS, CatalogInvalid, Known, LoadedFile, Problem, load_catalogs
from catalog.naming import network_driver_for, slugify
from catalog.store import Store

LIBRARY_DIR = Path(__file__).parent / "library"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "dry_run": self.dry_run,
        }

    def summary(self) -> str:
        verb = "would be" if self.dry_run else ""
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        return ", ".join(parts) + (f" ({verb} - dry run, nothing written)" if self.dry_run else "")


# -- store -> files -----------------------------------------------------------------------------


def _check_specs(items: list[Any]) -> list[CheckSpec]:
    return [CheckSpec.model_validate(item) for item in items]


def implementation_to_file(impl: m.TaskImplementation) -> ImplementationFile:
    return ImplementationFile(
        slug=impl.slug,
        name=impl.name,
        manufacturer=impl.manufacturer.name,
        platform=impl.platform.network_driver if impl.platform else None,
        software_version_pattern=impl.software_version_pattern,
        priority=impl.priority,
        implementation_type=impl.implementation_type,
        template_content=impl.template_content,
        action_config=impl.action_config,
        pre_checks=_check_specs(impl.pre_checks),
        post_checks=_check_specs(impl.post_checks),
        provider=impl.provider.name if impl.provider else None,
        enabled=impl.enabled,
    )


def task_to_file(task: m.TaskDefinition) -> TaskFile:
    return TaskFile(
        slug=task.slug,
        name=task.name,
        description=task.description,
        category=task.category,
        tags=sorted(t.name for t in task.tags),
        input_schema=task.input_schema,
        output_schema=task.output_schema,
        documentation=task.documentation,
        implementations=sorted((implementation_to_file(i) for i in task.implementations), key=lambda i: i.slug),
    )


def workflow_to_file(wf: m.Workflow) -> WorkflowFile:
    return WorkflowFile(
        slug=wf.slug,
        name=wf.name,
        description=wf.description,
        category=wf.category,
        version=wf.version,
        enabled=wf.enabled,
        approval_required=wf.approval_required,
        schedule_allowed=wf.schedule_allowed,
        input_schema=wf.input_schema,
        default_inputs=wf.default_inputs,
        steps=[
            StepFile(
                name=s.name,
                step_type=s.step_type,
                task=s.task.slug if s.task else None,
                input_mapping=s.input_mapping,
                output_mapping=s.output_mapping,
                condition=s.condition,
                on_failure=s.on_failure,
                config=s.config,
            )
            for s in sorted(wf.steps, key=lambda s: s.order)
        ],
    )


def form_to_file(form: m.RequestForm) -> RequestFormFile:
    return RequestFormFile(
        slug=form.slug,
        name=form.name,
        description=form.description,
        workflow=form.workflow.slug,
        published=form.published,
        category=form.category,
        icon=form.icon,
        fields=[
            FormFieldFile(
                field_name=f.field_name,
                field_type=f.field_type,
                label=f.label,
                help_text=f.help_text,
                required=f.required,
                default_value=f.default_value,
                validation_rules=ValidationRules.model_validate(f.validation_rules),
                choices=f.choices,
                object_type=f.object_type,
                queryset_filter=f.queryset_filter,
                depends_on=f.depends_on.field_name if f.depends_on else None,
                show_condition=f.show_condition,
            )
            for f in sorted(form.fields, key=lambda f: f.order)
        ],
    )


def check_to_file(check: m.ComplianceCheck) -> ComplianceCheckFile:
    return ComplianceCheckFile(
        slug=check.slug,
        name=check.name,
        description=check.description,
        check_type=check.check_type,
        standard=check.standard,
        severity=check.severity,
        check_logic=check.check_logic,
        remediation_workflow=check.remediation_workflow.slug if check.remediation_workflow else None,
        match_rules=MatchRules.model_validate(check.match_rules),
    )


def provider_to_file(provider: m.Provider) -> ProviderFile:
    return ProviderFile(
        name=provider.name,
        driver_class=provider.driver_class,
        description=provider.description,
        capabilities=list(provider.capabilities),
        supported_platforms=sorted({p.network_driver for p in provider.supported_platforms}),
    )


def provider_config_to_file(pc: m.ProviderConfig) -> ProviderConfigFile:
    return ProviderConfigFile(
        name=pc.name,
        provider=pc.provider.name,
        scope_sites=sorted(x.name for x in pc.scope_sites),
        scope_tenants=sorted(x.name for x in pc.scope_tenants),
        scope_tags=sorted(x.name for x in pc.scope_tags),
        credentials=pc.credentials.name if pc.credentials else None,
        settings=pc.settings,
        enabled=pc.enabled,
    )


@dataclass(frozen=True)
class KindSpec:
    kind: str
    model: type[m.Base]
    key: Any  # the column an object is found by
    to_file: Callable[[Any], CatalogFile]


SPECS: list[KindSpec] = [
    KindSpec("provider", m.Provider, m.Provider.name, provider_to_file),
    KindSpec("provider_config", m.ProviderConfig, m.ProviderConfig.name, provider_config_to_file),
    KindSpec("task", m.TaskDefinition, m.TaskDefinition.slug, task_to_file),
    KindSpec("workflow", m.Workflow, m.Workflow.slug, workflow_to_file),
    KindSpec("request_form", m.RequestForm, m.RequestForm.slug, form_to_file),
    KindSpec("compliance_check", m.ComplianceCheck, m.ComplianceCheck.slug, check_to_file),
]
SPEC_BY_KIND = {spec.kind: spec for spec in SPECS}


def file_data(item: CatalogFile) -> dict[str, Any]:
    """What a file holds: ``kind`` first, then every field that is not at its default."""
    data = item.model_dump(mode="json", exclude_defaults=True)
    data.pop("kind", None)
    return {"kind": item.kind, **data}


def _canonical(item: CatalogFile) -> dict[str, Any]:
    """For comparing: every field, children in the order export writes them."""
    data = item.model_dump(mode="json")
    if isinstance(item, TaskFile):
        data["implementations"] = sorted(data["implementations"], key=lambda i: i["slug"])
        data["tags"] = sorted(data["tags"])
    return data


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings (templates, documentation) as readable ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=1000)


def file_name(item: CatalogFile) -> str:
    return f"{FOLDERS[item.kind]}/{slugify(key_of(item))}.yaml"


def export_catalog(store: Store, directory: str | Path) -> list[Path]:
    """Write every catalog object to ``directory`` as one YAML file each; returns the paths."""
    directory = Path(directory)
    written = []
    with store.read_session() as session:
        for spec in SPECS:
            for obj in session.scalars(select(spec.model).order_by(spec.key)):
                item = spec.to_file(obj)
                path = directory / file_name(item)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump_yaml(file_data(item)), encoding="utf-8")
                written.append(path)
    return written


def list_catalog(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    """A line per catalog object (``kind`` narrows it), for listings."""
    rows = []
    for spec in SPECS:
        if kind and kind not in (spec.kind, "implementation"):
            continue
        obj: Any
        for obj in session.scalars(select(spec.model).order_by(spec.key)):
            if kind == "implementation":
                if spec.kind == "task":
                    for impl in obj.implementations:
                        rows.append(
                            {
                                "kind": "implementation",
                                "key": impl.slug,
                                "name": impl.name,
                                "category": obj.slug,
                                "enabled": impl.enabled,
                            }
                        )
                continue
            rows.append(
                {
                    "kind": spec.kind,
                    "key": getattr(obj, spec.key.key),
                    "name": obj.name,
                    "category": getattr(obj, "category", "") or getattr(obj, "driver_class", ""),
                    "enabled": getattr(obj, "enabled", getattr(obj, "published", True)),
                }
            )
    return rows


def find_object(session: Session, key: str, kind: str | None = None) -> tuple[KindSpec, Any]:
    """The catalog object with slug (or provider name) ``key``; ``kind`` settles ambiguity."""
    found = []
    for spec in SPECS:
        if kind and spec.kind != kind:
            continue
        obj = session.scalars(select(spec.model).where(spec.key == key)).one_or_none()
        if obj is not None:
            found.append((spec, obj))
    if not found:
        raise NettuiError(f"no catalog object '{key}'", hint="`nettui catalog list` shows what there is")
    if len(found) > 1:
        kinds = ", ".join(spec.kind for spec, _ in found)
        raise NettuiError(f"'{key}' names several objects ({kinds})", hint="pass --kind to pick one")
    return found[0]


# -- files -> store -----------------------------------------------------------------------------


def known_in_store(session: Session) -> Known:
    known = Known()
    known.tasks = set(session.scalars(select(m.TaskDefinition.slug)))
    known.providers = set(session.scalars(select(m.Provider.name)))
    for slug, schema in session.execute(select(m.Workflow.slug, m.Workflow.input_schema)):
        known.workflows.add(slug)
        props = schema.get("properties") if isinstance(schema, dict) else None
        known.workflow_inputs[slug] = set(props) if isinstance(props, dict) else None
    return known


class _Resolver:
    """Finds (or, for manufacturers, platforms and tags, creates) what catalog files refer to.

    Lookups are remembered for the import (one transaction, in which only the import itself
    creates catalog objects, manufacturers, platforms and tags), so a reference repeated in
    many files costs one query."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.problems: list[Problem] = []
        self._found: dict[tuple[Any, str], Any] = {}
        self._platforms: dict[str, m.Platform] = {}
        self.objects: dict[tuple[str, str], Any] = {}  # (kind, key) -> catalog object, when known
        self.implementations: dict[str, m.TaskImplementation] = {}  # slug -> one the store has

    def _named(self, model: Any, ref: str) -> Any:
        cached = self._found.get((model, ref))
        if cached is not None:
            return cached
        found = self.session.scalars(
            select(model)
            .where(or_(model.slug == ref, func.lower(model.name) == ref.lower(), model.slug == slugify(ref)))
            .order_by(model.id)
        ).first()
        if found is not None:
            self._found[(model, ref)] = found
        return found

    def manufacturer(self, ref: str) -> m.Manufacturer:
        found = self._named(m.Manufacturer, ref)
        if found is None:
            found = m.Manufacturer(name=ref, slug=slugify(ref))
            self.session.add(found)
            self.session.flush()
            self._found[(m.Manufacturer, ref)] = found
        return found  # type: ignore[no-any-return]

    def platform(self, ref: str, manufacturer: m.Manufacturer | None) -> m.Platform:
        if ref in self._platforms:
            return self._platforms[ref]
        driver = network_driver_for(ref) or ref
        found: m.Platform | None = self.session.scalars(
            select(m.Platform).where(m.Platform.network_driver == driver).order_by(m.Platform.id)
        ).first() or self._named(m.Platform, ref)
        if found is None:
            found = m.Platform(name=driver, slug=slugify(driver), network_driver=driver, manufacturer=manufacturer)
            self.session.add(found)
            self.session.flush()
        self._platforms[ref] = found
        return found

    def tag(self, ref: str) -> m.Tag:
        found = self._named(m.Tag, ref)
        if found is None:
            found = m.Tag(name=ref, slug=slugify(ref))
            self.session.add(found)
            self.session.flush()
            self._found[(m.Tag, ref)] = found
        return found  # type: ignore[no-any-return]

    def existing(self, model: Any, ref: str, f: LoadedFile, *loc: Any, what: str) -> Any:
        found = self._named(model, ref) if hasattr(model, "slug") else None
        if found is None and not hasattr(model, "slug"):
            found = self.session.scalars(select(model).where(model.name == ref)).one_or_none()
        if found is None:
            self.problems.append(Problem(f.path, f.line(*loc), f"unknown {what} '{ref}' (not in the store)"))
        return found

    def by_key(self, spec_kind: str, key: str) -> Any:
        obj = self.objects.get((spec_kind, key))
        if obj is None:
            spec = SPEC_BY_KIND[spec_kind]
            obj = self.session.scalars(select(spec.model).where(spec.key == key)).one()
            self.objects[(spec_kind, key)] = obj
        return obj

    def implementation(self, slug: str) -> m.TaskImplementation | None:
        """The implementation the store has with ``slug`` (under any task), unless this import
        has removed it already."""
        impl = self.implementations.get(slug)
        if impl is None:
            return None
        state = inspect(impl)
        return None if state.was_deleted or state.detached else impl

    def preload(self, files: list[LoadedFile]) -> None:
        """Every object the files name that the store already has, a query per kind, with what
        comparing it to its file reads (so no query per object or per child)."""
        keys: dict[str, list[str]] = {}
        for f in files:
            keys.setdefault(f.item.kind, []).append(key_of(f.item))
        for spec in SPECS:
            wanted = keys.get(spec.kind, [])
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = select(spec.model).where(spec.key.in_(chunk)).options(*_LOADS.get(spec.kind, ()))
                for obj in self.session.scalars(query):
                    self.objects[(spec.kind, getattr(obj, spec.key.key))] = obj
        slugs = [impl.slug for f in files if isinstance(f.item, TaskFile) for impl in f.item.implementations]
        for start in range(0, len(slugs), 500):
            query = (
                select(m.TaskImplementation)
                .where(m.TaskImplementation.slug.in_(slugs[start : start + 500]))
                .options(*_IMPLEMENTATION_LOADS)
            )
            for impl in self.session.scalars(query):
                self.implementations[impl.slug] = impl


_IMPLEMENTATION_LOADS = (
    joinedload(m.TaskImplementation.manufacturer),
    joinedload(m.TaskImplementation.platform),
    joinedload(m.TaskImplementation.provider),
)
_LOADS: dict[str, tuple[Any, ...]] = {
    "provider": (selectinload(m.Provider.supported_platforms),),
    "provider_config": (
        joinedload(m.ProviderConfig.provider),
        joinedload(m.ProviderConfig.credentials),
        selectinload(m.ProviderConfig.scope_sites),
        selectinload(m.ProviderConfig.scope_tenants),
        selectinload(m.ProviderConfig.scope_tags),
    ),
    "task": (
        selectinload(m.TaskDefinition.tags),
        selectinload(m.TaskDefinition.implementations).options(*_IMPLEMENTATION_LOADS),
    ),
    "workflow": (selectinload(m.Workflow.steps).joinedload(m.WorkflowStep.task),),
    "request_form": (
        joinedload(m.RequestForm.workflow),
        selectinload(m.RequestForm.fields).joinedload(m.RequestFormField.depends_on),
    ),
    "compliance_check": (joinedload(m.ComplianceCheck.remediation_workflow),),
}


def _apply_provider(r: _Resolver, obj: m.Provider, item: ProviderFile, f: LoadedFile) -> None:
    obj.name, obj.driver_class, obj.description = item.name, item.driver_class, item.description
    obj.capabilities = list(item.capabilities)
    obj.supported_platforms = [r.platform(p, None) for p in item.supported_platforms]


def _apply_provider_config(r: _Resolver, obj: m.ProviderConfig, item: ProviderConfigFile, f: LoadedFile) -> None:
    obj.name, obj.settings, obj.enabled = item.name, item.settings, item.enabled
    obj.provider = r.by_key("provider", item.provider)
    obj.credentials = (
        r.existing(m.SecretsGroup, item.credentials, f, "credentials", what="secrets group")
        if item.credentials
        else None
    )
    obj.scope_sites = [
        x for i, s in enumerate(item.scope_sites) if (x := r.existing(m.Location, s, f, "scope_sites", i, what="site"))
    ]
    obj.scope_tenants = [
        x
        for i, s in enumerate(item.scope_tenants)
        if (x := r.existing(m.Tenant, s, f, "scope_tenants", i, what="tenant"))
    ]
    obj.scope_tags = [r.tag(t) for t in item.scope_tags]


def _apply_task(r: _Resolver, obj: m.TaskDefinition, item: TaskFile, f: LoadedFile) -> None:
    obj.slug, obj.name, obj.description, obj.category = item.slug, item.name, item.description, item.category
    obj.input_schema, obj.output_schema, obj.documentation = item.input_schema, item.output_schema, item.documentation
    obj.tags = [r.tag(t) for t in item.tags]
    current = {impl.slug: impl for impl in obj.implementations}
    names = {spec.slug: spec.name for spec in item.implementations}
    # An implementation that goes away or changes its name may leave its name to another one
    # (a slug renamed, two names swapped): the store keeps a task's names unique, so those
    # give their names up first.
    giving_up = [impl for slug, impl in current.items() if names.get(slug) != impl.name]
    if obj.id is not None and any(impl.name in names.values() for impl in giving_up):
        for impl in giving_up:
            impl.name = f"(nettui: being renamed) {impl.id}"
        r.session.flush()
    wanted = []
    for spec in item.implementations:
        impl = current.get(spec.slug) or r.implementation(spec.slug) or m.TaskImplementation()
        manufacturer = r.manufacturer(spec.manufacturer)
        impl.slug, impl.name, impl.manufacturer = spec.slug, spec.name, manufacturer
        impl.platform = r.platform(spec.platform, manufacturer) if spec.platform else None
        impl.software_version_pattern, impl.priority = spec.software_version_pattern, spec.priority
        impl.implementation_type = spec.implementation_type
        impl.template_content, impl.action_config = spec.template_content, spec.action_config
        impl.pre_checks = [c.model_dump(mode="json", exclude_defaults=True) for c in spec.pre_checks]
        impl.post_checks = [c.model_dump(mode="json", exclude_defaults=True) for c in spec.post_checks]
        impl.provider = r.by_key("provider", spec.provider) if spec.provider else None
        impl.enabled = spec.enabled
        wanted.append(impl)
    obj.implementations = wanted


def _reorder(children: list[Any]) -> None:
    """Free the (parent, order) unique slots before assigning final positions."""
    for i, child in enumerate(children):
        child.order = -(i + 1)


def _apply_workflow(r: _Resolver, obj: m.Workflow, item: WorkflowFile, f: LoadedFile) -> None:
    for attr in (
        "slug",
        "name",
        "description",
        "category",
        "version",
        "enabled",
        "approval_required",
        "schedule_allowed",
        "input_schema",
        "default_inputs",
    ):
        setattr(obj, attr, getattr(item, attr))
    current = {s.name: s for s in obj.steps}
    if obj.id is not None and current:
        _reorder(list(current.values()))
        r.session.flush()
    steps = []
    for order, spec in enumerate(item.steps, start=1):
        step = current.get(spec.name) or m.WorkflowStep()
        step.order, step.name, step.step_type = order, spec.name, spec.step_type
        step.task = r.by_key("task", spec.task) if spec.task else None
        step.input_mapping, step.output_mapping = spec.input_mapping, spec.output_mapping
        step.condition, step.on_failure, step.config = spec.condition, spec.on_failure, spec.config
        steps.append(step)
    obj.steps = steps


def _apply_form(r: _Resolver, obj: m.RequestForm, item: RequestFormFile, f: LoadedFile) -> None:
    for attr in ("slug", "name", "description", "published", "category", "icon"):
        setattr(obj, attr, getattr(item, attr))
    obj.workflow = r.by_key("workflow", item.workflow)
    current = {fld.field_name: fld for fld in obj.fields}
    if obj.id is not None and current:
        for fld in current.values():
            fld.depends_on = None
        _reorder(list(current.values()))
        r.session.flush()
    fields = []
    for order, spec in enumerate(item.fields, start=1):
        fld = current.get(spec.field_name) or m.RequestFormField()
        fld.order, fld.field_name, fld.field_type = order, spec.field_name, spec.field_type
        fld.label, fld.help_text, fld.required = spec.label, spec.help_text, spec.required
        fld.default_value = spec.default_value
        fld.validation_rules = spec.validation_rules.model_dump(mode="json", exclude_defaults=True)
        fld.choices, fld.object_type = spec.choices, spec.object_type
        fld.queryset_filter, fld.show_condition = spec.queryset_filter, spec.show_condition
        fld.depends_on = None
        fields.append(fld)
    obj.fields = fields
    r.session.flush()
    by_name = {fld.field_name: fld for fld in fields}
    for spec in item.fields:
        if spec.depends_on:
            by_name[spec.field_name].depends_on = by_name[spec.depends_on]


def _apply_check(r: _Resolver, obj: m.ComplianceCheck, item: ComplianceCheckFile, f: LoadedFile) -> None:
    for attr in ("slug", "name", "description", "check_type", "standard", "severity", "check_logic"):
        setattr(obj, attr, getattr(item, attr))
    obj.match_rules = item.match_rules.model_dump(mode="json", exclude_defaults=True)
    obj.remediation_workflow = r.by_key("workflow", item.remediation_workflow) if item.remediation_workflow else None


APPLY: dict[str, Callable[[_Resolver, Any, Any, LoadedFile], None]] = {
    "provider": _apply_provider,
    "provider_config": _apply_provider_config,
    "task": _apply_task,
    "workflow": _apply_workflow,
    "request_form": _apply_form,
    "compliance_check": _apply_check,
}


class _DryRun(Exception):
    """Raised to roll back a dry run after the report is complete."""


def _prune(r: _Resolver, wanted: dict[str, set[str]], report: ImportReport) -> None:
    for spec in reversed(SPECS):  # dependants first
        for obj in r.session.scalars(select(spec.model).where(spec.key.not_in(wanted.get(spec.kind, set())))):
            key = getattr(obj, spec.key.key)
            blocker = _prune_blocker(r.session, spec.kind, obj)
            if blocker:
                r.problems.append(Problem("(store)", 0, f"cannot remove {spec.kind} '{key}': {blocker}"))
                continue
            r.session.delete(obj)
            report.removed.append(f"{spec.kind}/{key}")
        r.session.flush()


def _prune_blocker(session: Session, kind: str, obj: Any) -> str | None:
    if kind == "workflow":
        runs = session.scalar(select(func.count(m.Execution.id)).where(m.Execution.workflow_id == obj.id))
        if runs:
            return f"{runs} execution(s) refer to it; set enabled: false instead"
    return None


def import_catalog(
    store: Store, paths: Iterable[str | Path], *, prune: bool = False, dry_run: bool = False
) -> ImportReport:
    """Validate everything, then upsert it in one transaction; on any problem nothing changes."""
    report = ImportReport(dry_run=dry_run)
    try:
        with store.session() as session:
            known = known_in_store(session)
            loaded = load_catalogs(paths, known)
            files = loaded.files
            if loaded.problems:
                raise CatalogInvalid(loaded.problems)
            resolver = _Resolver(session)
            resolver.preload(files)
            name_problems = _free_names(resolver, files, prune=prune)
            if name_problems:
                raise CatalogInvalid(name_problems)
            order = {spec.kind: i for i, spec in enumerate(SPECS)}
            for f in sorted(files, key=lambda f: (order[f.item.kind], key_of(f.item))):
                _upsert(resolver, f, report)
                session.flush()
            if prune:
                wanted: dict[str, set[str]] = {}
                for f in files:
                    wanted.setdefault(f.item.kind, set()).add(key_of(f.item))
                _prune(resolver, wanted, report)
            if resolver.problems:
                raise CatalogInvalid(resolver.problems)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _free_names(r: _Resolver, files: list[LoadedFile], *, prune: bool) -> list[Problem]:
    """Make way for names the files give to objects the store holds under another slug.

    The store keeps names unique, so a file that takes a name an object of the store has
    under another slug is a problem, unless that object gives the name up in this import:
    its own file renames it, or --prune removes it. Those objects get a temporary name (the
    import gives them their new one, or removes them), so the order of the upserts does not
    matter (two tasks may even swap names)."""
    problems = []
    for kind in NAMED_KINDS:
        spec = SPEC_BY_KIND[kind]
        named = {f.item.name: f for f in files if f.item.kind == kind}
        if not named:
            continue
        renamed = {key_of(f.item): f.item.name for f in files if f.item.kind == kind}
        model: Any = spec.model
        query = select(model.id, spec.key, model.name).where(model.name.in_(list(named)))
        giving_up = []
        for obj_id, key, name in r.session.execute(query):
            f = named[name]
            if key == key_of(f.item):
                continue
            if key in renamed or prune:
                giving_up.append(obj_id)
                continue
            problems.append(
                Problem(
                    f.path,
                    f.line("name"),
                    f"{kind} name '{name}' is already used in the store by {kind} '{key}', which these files "
                    f"do not rename; rename this {kind}, or rename '{key}' in its own file and import both "
                    "(or remove it with `nettui catalog import --prune`)",
                )
            )
        if giving_up and not problems:
            r.session.execute(
                update(model)
                .where(model.id.in_(giving_up))
                .values(name=literal("(nettui: being renamed) ") + cast(model.id, String))
                .execution_options(synchronize_session="fetch")
            )
    return problems


def _upsert(r: _Resolver, f: LoadedFile, report: ImportReport) -> None:
    spec = SPEC_BY_KIND[f.item.kind]
    key = key_of(f.item)
    label = f"{spec.kind}/{key}"
    obj = r.objects.get((spec.kind, key))
    if obj is not None and _canonical(spec.to_file(obj)) == _normalised(r, f):
        report.unchanged.append(label)
        return
    # Half-filled objects must not be flushed by a lookup's autoflush.
    with r.session.no_autoflush:
        if obj is None:
            obj = spec.model()
            r.session.add(obj)
            r.objects[(spec.kind, key)] = obj
            report.created.append(label)
        else:
            report.updated.append(label)
        APPLY[spec.kind](r, obj, f.item, f)


def _normalised(r: _Resolver, f: LoadedFile) -> dict[str, Any]:
    """The file with its references written the way export writes them (``Cisco``, ``cisco_ios``)."""
    item = f.item.model_copy(deep=True)
    if isinstance(item, TaskFile):
        for impl in item.implementations:
            found = r._named(m.Manufacturer, impl.manufacturer)
            if found is not None:
                impl.manufacturer = found.name
            if impl.platform:
                impl.platform = network_driver_for(impl.platform) or impl.platform
        item.tags = [t.name if (t := r._named(m.Tag, name)) else name for name in item.tags]
    if isinstance(item, ProviderFile):
        item.supported_platforms = sorted({network_driver_for(p) or p for p in item.supported_platforms})
    if isinstance(item, ProviderConfigFile):
        item.scope_sites, item.scope_tenants = sorted(item.scope_sites), sorted(item.scope_tenants)
        item.scope_tags = sorted(item.scope_tags)
    return _canonical(item)
