"""Reading catalog files and finding every problem in them, each with ``file:line``.

``load_catalog(PATH)`` parses and validates every YAML file under PATH and returns the objects
and the list of problems; nothing touches the store. Problems found: YAML errors, unknown or
missing keys, bad slugs, JSON Schemas that are not Draft 2020-12, Jinja2 syntax errors (with
the template's line), expressions that do not parse, references to unknown tasks, workflows
and providers, form fields that fill no workflow input, ``depends_on`` cycles, duplicate
slugs and implementations that tie for the same device.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from catalog.errors import NettuiError
from catalog.files import (
    KINDS,
    CatalogFile,
    ComplianceCheckFile,
    ImplementationFile,
    ProviderConfigFile,
    ProviderFile,
    RequestFormFile,
    TaskFile,
    WorkflowFile,
    key_of,
)
from catalog.matching import PatternError, check_pattern
from catalog.models.choices import CheckType, FieldType, ImplementationType, StepType
from catalog.naming import network_driver_for
from catalog.rendering import RenderError, check_expression, check_template
from catalog.yamlfile import YamlMap, line_of, parse_yaml

_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA)
_TEMPLATE_TYPES = {ImplementationType.JINJA2_CONFIG.value, ImplementationType.JINJA2_PAYLOAD.value}

# What has already passed a check in this process: a valid JSON Schema (by its canonical JSON),
# a template or an expression that parses. The checks are pure, so passing once is passing
# always; catalogs repeat the same schemas and mappings many times, and the Draft 2020-12
# meta-schema check and Jinja2's compile are the slow part of loading. Failures are not kept
# (each is checked again, to report it with its own place). Bounded: cleared when full.
_PASSED_LIMIT = 50_000
_passed_schemas: set[str] = set()
_passed_templates: set[str] = set()
_passed_expressions: set[str] = set()


def _remember(passed: set[str], key: str) -> None:
    if len(passed) >= _PASSED_LIMIT:
        passed.clear()
    passed.add(key)


def _meta_errors(schema: dict[str, Any]) -> list[Any]:
    """The ways ``schema`` is not valid Draft 2020-12 JSON Schema (none, usually)."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # not JSON data: no cache, the validator says what is wrong
        return list(_META_VALIDATOR.iter_errors(schema))
    if key in _passed_schemas:
        return []
    errors = list(_META_VALIDATOR.iter_errors(schema))
    if not errors:
        _remember(_passed_schemas, key)
    return errors


def _check_template_once(source: str, where: str) -> None:
    if source not in _passed_templates:
        check_template(source, where=where)
        _remember(_passed_templates, source)


def _check_expression_once(source: str, where: str) -> None:
    if source not in _passed_expressions:
        check_expression(source, where=where)
        _remember(_passed_expressions, source)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file, at one line."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CatalogInvalid(NettuiError):
    """The catalog has problems; nothing was imported."""

    def __init__(self, problems: list[Problem], *, limit: int = 100) -> None:
        self.problems = sorted(problems)
        shown = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            shown.append(f"... and {len(self.problems) - limit} more")
        count = len(self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the catalog; nothing was imported:\n" + "\n".join(shown),
            hint="fix them and run `nettui catalog validate PATH` again",
        )


@dataclass
class LoadedFile:
    path: str
    raw: YamlMap
    item: CatalogFile

    def line(self, *loc: Any) -> int:
        return line_of(self.raw, loc) or 1


@dataclass
class Known:
    """Objects already in the store that catalog files may refer to."""

    tasks: set[str] = field(default_factory=set)
    workflows: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    workflow_inputs: dict[str, set[str] | None] = field(default_factory=dict)


@dataclass
class Catalog:
    files: list[LoadedFile]
    problems: list[Problem]

    def of_kind(self, kind: type[Any]) -> list[LoadedFile]:
        return [f for f in self.files if isinstance(f.item, kind)]


def catalog_paths(root: Path) -> list[Path]:
    """Every YAML file under ``root`` (or ``root`` itself), in a stable order; hidden folders skipped."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise NettuiError("no such file or folder", where=str(root))
    paths = [
        p
        for p in root.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(paths)


def _pydantic_message(error: Any, model: type[Any], loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    where = ".".join(str(p) for p in loc)
    if kind == "extra_forbidden":
        key = loc[-1]
        parent = _model_at(model, loc[:-1])
        hint = ""
        if parent is not None:
            close = difflib.get_close_matches(str(key), list(parent.model_fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(parent.model_fields)})"
        return f"unknown key '{key}'{hint}"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{where}: {message}" if where else message


def _model_at(model: type[Any], loc: tuple[Any, ...]) -> type[Any] | None:
    """The pydantic model that the path ``loc`` leads to, through lists and nested models."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or step not in fields:
            return None
        annotation = fields[step].annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
        if current is None:
            return None
    return current if hasattr(current, "model_fields") else None


def parse_file(path: Path, display: str) -> tuple[LoadedFile | None, list[Problem]]:
    """Parse and check the shape of one catalog file."""
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"), display)
    except NettuiError as exc:
        match = re.match(r"^(.*):(\d+)$", exc.where or "")
        line = int(match.group(2)) if match else 1
        return None, [Problem(display, line, exc.what)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, 1, f"cannot read the file: {exc}")]
    if not isinstance(raw, YamlMap):
        return None, [Problem(display, 1, "a catalog file is a mapping with a 'kind' key")]
    kind = raw.get("kind")
    if kind not in KINDS:
        allowed = ", ".join(KINDS)
        return None, [Problem(display, raw.line_of("kind"), f"unknown or missing kind {kind!r} (one of: {allowed})")]
    model = KINDS[kind]
    try:
        item = model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(Problem(display, line_of(raw, loc) or raw.line, _pydantic_message(error, model, loc)))
        # Unknown keys alone do not hide the rest: check the file without them, so that one
        # run reports its templates, schemas and references too.
        if all(error["type"] == "extra_forbidden" for error in exc.errors()):
            trimmed = copy.deepcopy(raw)
            for error in exc.errors():
                _drop(trimmed, tuple(error["loc"]))
            try:
                return LoadedFile(display, raw, model.model_validate(trimmed)), problems
            except ValidationError:
                pass
        return None, problems
    return LoadedFile(display, raw, item), []


def _drop(node: Any, loc: tuple[Any, ...]) -> None:
    for step in loc[:-1]:
        node = node[step]
    node.pop(loc[-1], None)


def load_catalog(root: str | Path, known: Known | None = None) -> Catalog:
    """Read and validate every catalog file under ``root``. Nothing is written anywhere."""
    return load_catalogs([root], known)


def load_catalogs(roots: Iterable[str | Path], known: Known | None = None) -> Catalog:
    """Read and validate every catalog file under each of ``roots`` as one catalog: files may
    refer to each other across roots, and an object defined under two roots is a duplicate.
    Nothing is written anywhere."""
    files: list[LoadedFile] = []
    problems: list[Problem] = []
    cwd = Path.cwd()
    seen: set[Path] = set()
    for root in roots:
        for path in catalog_paths(Path(root)):
            if path.resolve() in seen:  # the same file through two roots (`a/` and `a/tasks/`)
                continue
            seen.add(path.resolve())
            try:
                display = str(path.relative_to(cwd))
            except ValueError:
                display = str(path)
            loaded, found = parse_file(path, display)
            problems.extend(found)
            if loaded is not None:
                files.append(loaded)
    catalog = Catalog(files, problems)
    problems.extend(cross_check(catalog, known or Known()))
    catalog.problems = sorted(set(problems))
    return catalog


# -- checks across files ------------------------------------------------------------------------


def _schema_problems(f: LoadedFile, key: str, schema: dict[str, Any], *prefix: Any) -> list[Problem]:
    out = []
    for error in _meta_errors(schema):
        loc = (*prefix, key, *error.absolute_path)
        out.append(Problem(f.path, f.line(*loc), f"{key} is not valid JSON Schema (Draft 2020-12): {error.message}"))
    return out


def _template_problem(f: LoadedFile, source: str, where: str, *loc: Any) -> Problem | None:
    try:
        _check_template_once(source, where)
    except RenderError as exc:
        template_line = int(re.search(r"template line (\d+)", exc.where or "line 1").group(1))  # type: ignore[union-attr]
        key_line = f.line(*loc)
        # A block scalar (`key: |`) starts on the line after its key.
        file_line = key_line + template_line if "\n" in source else key_line
        return Problem(f.path, file_line, f"{where}: template line {template_line}: {exc.what}")
    return None


def _expression_problem(f: LoadedFile, source: str, where: str, *loc: Any) -> Problem | None:
    text = source.strip()
    if not text:
        return None
    try:
        if "{{" in text or "{%" in text:
            if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
                _check_expression_once(text[2:-2], where)
            else:
                _check_template_once(text, where)
        else:
            _check_expression_once(text, where)
    except RenderError as exc:
        return Problem(f.path, f.line(*loc), f"{where}: {exc.what}")
    return None


def _mapping_problems(f: LoadedFile, mapping: Any, where: str, *loc: Any) -> Iterable[Problem | None]:
    """Every template in a mapping, however deep in dicts and lists it sits."""
    items = mapping.items() if isinstance(mapping, dict) else enumerate(mapping) if isinstance(mapping, list) else ()
    for key, value in items:
        label = f"{where} '{key}'" if isinstance(key, str) else f"{where}[{key}]"
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            yield _expression_problem(f, value, label, *loc, key)
        elif isinstance(value, dict | list):
            yield from _mapping_problems(f, value, label, *loc, key)


def _check_task(f: LoadedFile, task: TaskFile) -> list[Problem | None]:
    out: list[Problem | None] = []
    out += _schema_problems(f, "input_schema", task.input_schema)
    out += _schema_problems(f, "output_schema", task.output_schema)
    for i, impl in enumerate(task.implementations):
        loc = ("implementations", i)
        label = f"implementation '{impl.slug}'"
        if impl.implementation_type in _TEMPLATE_TYPES:
            if not impl.template_content.strip():
                out.append(Problem(f.path, f.line(*loc), f"{label}: {impl.implementation_type} needs template_content"))
            else:
                out.append(_template_problem(f, impl.template_content, label, *loc, "template_content"))
        elif not impl.action_config:
            out.append(Problem(f.path, f.line(*loc), f"{label}: {impl.implementation_type} needs action_config"))
        if impl.implementation_type == ImplementationType.PYTHON_HOOK.value and "hook" not in impl.action_config:
            out.append(Problem(f.path, f.line(*loc, "action_config"), f"{label}: python_hook needs action_config.hook"))
        try:
            check_pattern(impl.software_version_pattern)
        except PatternError as exc:
            out.append(Problem(f.path, f.line(*loc, "software_version_pattern"), f"{label}: {exc.what}"))
        if (
            impl.platform
            and network_driver_for(impl.platform) is None
            and not re.fullmatch(r"[a-z0-9_-]+", impl.platform)
        ):
            out.append(Problem(f.path, f.line(*loc, "platform"), f"{label}: unknown platform {impl.platform!r}"))
        for phase in ("pre_checks", "post_checks"):
            for j, check in enumerate(getattr(impl, phase)):
                out.append(
                    _expression_problem(f, check.expect, f"{label} {phase}[{j}] expect", *loc, phase, j, "expect")
                )
    return out


def _ties(files: list[LoadedFile]) -> list[Problem]:
    out = []
    for f in files:
        assert isinstance(f.item, TaskFile)
        seen: dict[tuple[str, str, int, str], ImplementationFile] = {}
        for i, impl in enumerate(f.item.implementations):
            if not impl.enabled:
                continue
            platform = network_driver_for(impl.platform) or impl.platform if impl.platform else ""
            key = (impl.manufacturer.lower(), platform or "", impl.priority, impl.software_version_pattern)
            if key in seen:
                other = seen[key]
                out.append(
                    Problem(
                        f.path,
                        f.line("implementations", i),
                        f"implementation '{impl.slug}' ties with '{other.slug}' for the same devices "
                        f"(same manufacturer, platform, version pattern and priority {impl.priority}); "
                        "give one a higher priority or a narrower pattern",
                    )
                )
            else:
                seen[key] = impl
    return out


# Kinds whose objects have a name besides the key they are found by; the store keeps both unique.
NAMED_KINDS = ("task", "workflow", "request_form", "compliance_check")


def _key_line(f: LoadedFile) -> int:
    return f.line("slug") if "slug" in f.raw else f.line("name")


def _duplicates(catalog: Catalog) -> list[Problem]:
    """Two files for one object (same kind and slug, or same name), and implementations that
    share a slug (anywhere) or a name (within their task): the store keeps each unique, so
    each is reported at the later file with the place of the earlier one."""
    out = []
    first: dict[tuple[str, str], LoadedFile] = {}
    first_named: dict[tuple[str, str], LoadedFile] = {}
    impl_first: dict[str, tuple[str, int]] = {}
    for f in catalog.files:
        kind = f.item.kind
        key = key_of(f.item)
        what = "slug" if "slug" in type(f.item).model_fields else "name"
        earlier = first.setdefault((kind, key), f)
        if earlier is not f:
            out.append(
                Problem(
                    f.path,
                    _key_line(f),
                    f"{kind} {what} '{key}' is also used by {earlier.path}:{_key_line(earlier)}; "
                    f"each {kind} needs its own {what}: rename one, or delete one of the files",
                )
            )
        if kind in NAMED_KINDS:
            name = f.item.name
            earlier = first_named.setdefault((kind, name), f)
            if earlier is not f:
                out.append(
                    Problem(
                        f.path,
                        f.line("name"),
                        f"{kind} name '{name}' is also used by {earlier.path}:{earlier.line('name')} "
                        f"({kind} '{key_of(earlier.item)}'); each {kind} needs its own name: rename one",
                    )
                )
        if isinstance(f.item, TaskFile):
            names: dict[str, int] = {}
            for i, impl in enumerate(f.item.implementations):
                slug_line = f.line("implementations", i, "slug")
                if impl.slug in impl_first:
                    where, line = impl_first[impl.slug]
                    out.append(
                        Problem(
                            f.path,
                            slug_line,
                            f"implementation slug '{impl.slug}' is also used at {where}:{line}; "
                            "each implementation needs its own slug: rename one",
                        )
                    )
                else:
                    impl_first[impl.slug] = (f.path, slug_line)
                name_line = f.line("implementations", i, "name")
                if impl.name in names:
                    out.append(
                        Problem(
                            f.path,
                            name_line,
                            f"implementation name '{impl.name}' is also used at {f.path}:{names[impl.name]} "
                            "in the same task; the implementations of a task need their own names: rename one",
                        )
                    )
                else:
                    names[impl.name] = name_line
    return out


def _workflow_inputs(workflow: WorkflowFile) -> set[str] | None:
    properties = workflow.input_schema.get("properties")
    return set(properties) if isinstance(properties, dict) else None


def _check_workflow(f: LoadedFile, wf: WorkflowFile, tasks: set[str]) -> list[Problem | None]:
    out: list[Problem | None] = []
    schema_problems = _schema_problems(f, "input_schema", wf.input_schema)
    out += schema_problems
    if not schema_problems and wf.default_inputs:
        # Defaults are partial by nature: each must fit, but required inputs may be absent.
        partial = {k: v for k, v in wf.input_schema.items() if k != "required"}
        for error in Draft202012Validator(partial).iter_errors(wf.default_inputs):
            out.append(
                Problem(
                    f.path,
                    f.line("default_inputs", *error.absolute_path),
                    f"default_inputs do not fit input_schema: {error.message}",
                )
            )
    names: dict[str, int] = {}
    for i, step in enumerate(wf.steps):
        loc = ("steps", i)
        label = f"step '{step.name}'"
        if step.name in names:
            out.append(
                Problem(f.path, f.line(*loc, "name"), f"{label} is named twice (also step {names[step.name] + 1})")
            )
        names.setdefault(step.name, i)
        if step.step_type == StepType.TASK.value:
            if not step.task:
                out.append(Problem(f.path, f.line(*loc), f"{label}: a task step names its task (task: SLUG)"))
            elif step.task not in tasks:
                close = difflib.get_close_matches(step.task, sorted(tasks), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                out.append(Problem(f.path, f.line(*loc, "task"), f"{label}: unknown task '{step.task}'{hint}"))
        elif step.task:
            out.append(Problem(f.path, f.line(*loc, "task"), f"{label}: only task steps name a task"))
        if step.condition:
            out.append(_expression_problem(f, step.condition, f"{label} condition", *loc, "condition"))
        out += _mapping_problems(f, step.input_mapping, f"{label} input_mapping", *loc, "input_mapping")
        out += _mapping_problems(f, step.output_mapping, f"{label} output_mapping", *loc, "output_mapping")
    return out


def _check_form(
    f: LoadedFile, form: RequestFormFile, workflows: set[str], inputs: dict[str, set[str] | None]
) -> list[Problem | None]:
    out: list[Problem | None] = []
    if form.workflow not in workflows:
        out.append(Problem(f.path, f.line("workflow"), f"unknown workflow '{form.workflow}'"))
    wf_inputs = inputs.get(form.workflow)
    names = [fld.field_name for fld in form.fields]
    for i, fld in enumerate(form.fields):
        loc = ("fields", i)
        label = f"field '{fld.field_name}'"
        if names.count(fld.field_name) > 1 and names.index(fld.field_name) != i:
            out.append(Problem(f.path, f.line(*loc, "field_name"), f"{label} appears twice"))
        if wf_inputs is not None and fld.field_name not in wf_inputs:
            out.append(
                Problem(
                    f.path,
                    f.line(*loc, "field_name"),
                    f"{label} maps to no input of workflow '{form.workflow}' "
                    f"(its inputs: {', '.join(sorted(wf_inputs)) or 'none'})",
                )
            )
        if fld.field_type == FieldType.OBJECT_SELECTOR.value and fld.object_type is None:
            out.append(Problem(f.path, f.line(*loc), f"{label}: an object_selector needs object_type"))
        if fld.field_type in (FieldType.CHOICE.value, FieldType.MULTI_CHOICE.value) and not fld.choices:
            out.append(Problem(f.path, f.line(*loc), f"{label}: a {fld.field_type} field needs choices"))
        if fld.validation_rules.regex is not None:
            try:
                re.compile(fld.validation_rules.regex)
            except re.error as exc:
                out.append(Problem(f.path, f.line(*loc, "validation_rules", "regex"), f"{label}: bad regex: {exc}"))
        if fld.depends_on is not None and fld.depends_on not in names:
            out.append(
                Problem(f.path, f.line(*loc, "depends_on"), f"{label}: depends_on unknown field '{fld.depends_on}'")
            )
        if fld.show_condition:
            out.append(_expression_problem(f, fld.show_condition, f"{label} show_condition", *loc, "show_condition"))
    out += _dependency_cycles(f, form)
    return out


def _dependency_cycles(f: LoadedFile, form: RequestFormFile) -> list[Problem]:
    parent = {fld.field_name: fld.depends_on for fld in form.fields}
    index = {fld.field_name: i for i, fld in enumerate(form.fields)}
    reported: set[frozenset[str]] = set()
    out = []
    for start in parent:
        path = [start]
        node = parent.get(start)
        while node is not None and node in parent and node not in path:
            path.append(node)
            node = parent.get(node)
        if node is not None and node in path:
            cycle = path[path.index(node) :]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                text = " -> ".join([*cycle, node])
                out.append(
                    Problem(f.path, f.line("fields", index[cycle[0]], "depends_on"), f"depends_on cycle: {text}")
                )
    return out


def _check_compliance(f: LoadedFile, check: ComplianceCheckFile, workflows: set[str]) -> list[Problem | None]:
    out: list[Problem | None] = []
    if check.remediation_workflow and check.remediation_workflow not in workflows:
        out.append(Problem(f.path, f.line("remediation_workflow"), f"unknown workflow '{check.remediation_workflow}'"))
    if check.check_type == CheckType.CONFIG_TEMPLATE.value:
        if not check.check_logic.strip():
            out.append(Problem(f.path, f.line(), "a config_template check needs check_logic"))
        else:
            out.append(_template_problem(f, check.check_logic, "check_logic", "check_logic"))
    return out


def cross_check(catalog: Catalog, known: Known) -> list[Problem]:
    """Checks that need more than one file, or the store."""
    tasks = known.tasks | {key_of(f.item) for f in catalog.of_kind(TaskFile)}
    workflows = known.workflows | {key_of(f.item) for f in catalog.of_kind(WorkflowFile)}
    providers = known.providers | {key_of(f.item) for f in catalog.of_kind(ProviderFile)}
    inputs = dict(known.workflow_inputs)
    for f in catalog.of_kind(WorkflowFile):
        assert isinstance(f.item, WorkflowFile)
        inputs[f.item.slug] = _workflow_inputs(f.item)
    found: list[Problem | None] = []
    found += _duplicates(catalog)
    found += _ties(catalog.of_kind(TaskFile))
    checks: list[tuple[type[Any], Callable[[LoadedFile, Any], list[Problem | None]]]] = [
        (TaskFile, _check_task),
        (WorkflowFile, lambda f, item: _check_workflow(f, item, tasks)),
        (RequestFormFile, lambda f, item: _check_form(f, item, workflows, inputs)),
        (ComplianceCheckFile, lambda f, item: _check_compliance(f, item, workflows)),
    ]
    for kind, check in checks:
        for f in catalog.of_kind(kind):
            found += check(f, f.item)
    for f in catalog.files:
        if isinstance(f.item, TaskFile):
            for i, impl in enumerate(f.item.implementations):
                if impl.provider and impl.provider not in providers:
                    found.append(
                        Problem(
                            f.path,
                            f.line("implementations", i, "provider"),
                            f"implementation '{impl.slug}': unknown provider '{impl.provider}'",
                        )
                    )
        if isinstance(f.item, ProviderConfigFile) and f.item.provider not in providers:
            found.append(Problem(f.path, f.line("provider"), f"unknown provider '{f.item.provider}'"))
    return [p for p in found if p is not None]
