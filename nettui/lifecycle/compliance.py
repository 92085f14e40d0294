"""Compliance: checks against each device's latest backup (or its live configuration), a run
per device and check, reports with scores, and remediation through a workflow.

A ``config_template`` check renders, for the device, the configuration a compliant device has
(``check_logic``, from the device's context and ``intended``). As the library's README says:
every rendered line must be in the configuration (an indented line under the parent above
it); a top-level ``no X`` (``delete X`` on Junos) means no line may start with ``X``. The
comparison is netutils' feature compliance (unordered, on the feature's section of the
configuration: the top-level keywords the rendered lines use), giving actual, intended,
missing and extra; extra lines are reported, not failed. The remediation is what hier-config
says takes the configuration to one with the rendered lines and without the forbidden ones.

``python_hook`` checks call a registered hook (``check_logic`` is its name) with the device
context and its configuration. ``api_call`` and ``graphql_query`` checks ask a system through
the engine's providers: ``check_logic`` is YAML naming a provider config (``provider``), the
request (an api_call implementation's ``method``/``path``/``params``/``body``, or a GraphQL
``query`` and ``variables``, templates over the device context) and ``expect``, an expression
over the context plus ``response`` and ``status`` (api_call) or ``data`` (graphql_query).
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.context import inventory_contexts
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import BackupType, CheckType, ComplianceStatus, ExecutionStatus
from catalog.rendering import RenderError, render_template
from catalog.store import Store
from nettui.lifecycle.backup import DEFAULT_DRIVER, command_lines
from nettui.lifecycle.configtext import SecretPolicy, hide_secrets, hier_driver, strip_volatile

REMEDIATION_WORKFLOW = "apply-remediation"
REMOTE_TYPES = (CheckType.API_CALL.value, CheckType.GRAPHQL_QUERY.value)
SHOWN_LIMIT = 4000  # characters of an API answer kept in a run's result_data


class ComplianceError(NettuiError):
    """A compliance run, report or remediation that cannot be done as asked."""


@dataclass(frozen=True)
class Check:
    """A ComplianceCheck row as plain data (safe to use outside the session, and to pickle)."""

    id: int
    slug: str
    name: str
    check_type: str
    standard: str
    severity: str
    check_logic: str
    remediation_workflow: str | None
    match_rules: dict[str, Any]

    @classmethod
    def of(cls, row: m.ComplianceCheck) -> Check:
        return cls(
            row.id,
            row.slug,
            row.name,
            row.check_type.value,
            row.standard,
            row.severity.value,
            row.check_logic,
            row.remediation_workflow.slug if row.remediation_workflow else None,
            dict(row.match_rules or {}),
        )


def applies(check: Check, device: dict[str, Any]) -> bool:
    """Whether the check's match_rules select the device (its context's ``device`` dict):
    every rule given must hold; a rule lists alternatives (platform by network driver or
    slug; role, site/location by slug or name; any one of the tags)."""
    rules = check.match_rules

    def named(value: dict[str, Any] | None) -> set[str]:
        return {str(value.get("slug")), str(value.get("name"))} if value else set()

    platform = device.get("platform") or {}
    wanted = rules.get("platforms") or []
    if wanted and not ({platform.get("network_driver"), platform.get("slug"), platform.get("name")} & set(wanted)):
        return False
    if rules.get("roles") and not (named(device.get("role")) & set(rules["roles"])):
        return False
    places = list(rules.get("sites") or []) + list(rules.get("locations") or [])
    if places and not (named(device.get("location")) & set(places)):
        return False
    return not (rules.get("tags") and not (set(device.get("tags") or []) & set(rules["tags"])))


# -- comparing ----------------------------------------------------------------------------------


class ParsedConfig:
    """A device configuration parsed once (netutils), for every check that reads it."""

    def __init__(self, text: str, driver: str) -> None:
        from netutils.config.compliance import parser_map

        self.text = text
        self.driver = driver
        parser = parser_map.get(driver)
        if parser is None:
            raise ComplianceError(f"netutils cannot parse {driver} configurations")
        self.lines = parser(text).config_lines
        self.top = [line.config_line.strip() for line in self.lines if not line.parents]

    def section(self, prefixes: list[str]) -> str:
        """The lines of the top-level blocks that start with one of ``prefixes``."""
        if not prefixes:
            return ""
        wanted = tuple(prefixes)
        out: list[str] = []
        emitted: set[str] = set()
        for line in self.lines:
            top = line.parents[0] if line.parents else line.config_line
            if not top.strip().startswith(wanted):
                continue
            for parent in line.parents:
                if parent not in emitted:
                    out.append(parent)
                    emitted.add(parent)
            out.append(line.config_line)
            if not line.parents:
                emitted.add(line.config_line)
        return "\n".join(out)

    def present(self, prefixes: list[str]) -> list[str]:
        """Top-level lines that start with a forbidden prefix (whole words)."""
        return [line for line in self.top for p in prefixes if line == p or line.startswith(p + " ")]


def split_intended(rendered: str, driver: str) -> tuple[str, list[str]]:
    """The rendered snippet as (lines that must be there, prefixes no line may start with)."""
    keep: list[str] = []
    forbidden: list[str] = []
    for line in rendered.splitlines():
        if not line.strip():
            continue
        if driver == "juniper_junos" and line.startswith("delete "):
            forbidden.append("set " + line[len("delete ") :].strip())
        elif driver != "juniper_junos" and line.startswith("no "):
            forbidden.append(line[3:].strip())
        else:
            keep.append(line.rstrip())
    return "\n".join(keep), forbidden


def feature_sections(intended: str, driver: str) -> list[str]:
    """The configuration a check is about: the keywords its top-level lines start with (two
    words; four on Junos, where every line starts with ``set`` and a hierarchy)."""
    width = 4 if driver == "juniper_junos" else 2
    found: list[str] = []
    for line in intended.splitlines():
        if line.strip() and not line[0].isspace():
            prefix = " ".join(line.split()[:width])
            if prefix not in found:
                found.append(prefix)
    return found


def remediation_for(parsed: ParsedConfig, intended: str, forbidden: list[str]) -> list[str]:
    """hier-config: the commands that add the intended lines and remove the forbidden ones.
    Only the blocks the check is about are read (a few lines, not the whole configuration):
    the rest cannot change the result, and parsing it would cost more than the whole check."""
    section = parsed.section(feature_sections(intended, parsed.driver) + forbidden)
    return list(_remediation(parsed.driver, section, intended, tuple(forbidden)))


@functools.lru_cache(maxsize=4096)
def _remediation(driver: str, section: str, intended: str, forbidden: tuple[str, ...]) -> tuple[str, ...]:
    """Many devices share a section (no NTP server at all, the same default community): the
    answer for one is the answer for all of them."""
    from hier_config import WorkflowRemediation, get_hconfig

    platform = hier_driver(driver)
    running = get_hconfig(platform, section)
    wanted = get_hconfig(platform, section)
    if intended.strip():
        wanted.merge(get_hconfig(platform, intended))
    for child in list(wanted.children):
        if any(child.text == p or child.text.startswith(p + " ") for p in forbidden):
            child.delete()
    remediation = WorkflowRemediation(running, wanted).remediation_config
    return tuple(command_lines(remediation.dump_simple(), driver))


def _lines(text: Any) -> list[str]:
    return [line for line in str(text or "").splitlines() if line.strip()]


def evaluate_template(
    check: Check, context: dict[str, Any], parsed: ParsedConfig
) -> tuple[ComplianceStatus, dict[str, Any]]:
    """A config_template check on one parsed configuration: the status and what was found."""
    from netutils.config.compliance import feature_compliance

    try:
        rendered = render_template(check.check_logic, context, where=f"compliance check '{check.slug}'")
    except RenderError as exc:
        return ComplianceStatus.ERROR, {
            "error": exc.render(),
            "hint": "give the intent the check reads (--set / --intended)",
        }
    intended, forbidden = split_intended(rendered, parsed.driver)
    sections = feature_sections(intended, parsed.driver)
    actual = parsed.section(sections)
    if intended:
        feature: dict[str, str | bool | list[str]] = {"name": check.slug, "ordered": False, "section": sections}
        found = feature_compliance(feature, actual, intended, parsed.driver)
        missing, extra = _lines(found["missing"]), _lines(found["extra"])
    else:
        missing, extra = [], []
    present = parsed.present(forbidden)
    passed = not missing and not present
    data: dict[str, Any] = {
        "intended": _lines(intended),
        "forbidden": forbidden,
        "actual": _lines(actual),
        "missing": missing,
        "extra": extra,
        "forbidden_present": present,
        "remediation": [],
    }
    if not passed:
        try:
            data["remediation"] = remediation_for(parsed, intended, forbidden)
        except Exception as exc:  # hier-config refuses some text (e.g. an odd banner): say so, keep the verdict
            data["remediation_error"] = f"hier-config: {type(exc).__name__}: {exc}"
    return (ComplianceStatus.PASSED if passed else ComplianceStatus.FAILED), data


async def evaluate_hook(check: Check, context: dict[str, Any], config: str) -> tuple[ComplianceStatus, dict[str, Any]]:
    """A python_hook check: the registered hook ``check_logic`` names decides (a bool, or a
    dict with ``passed`` and anything else to keep)."""
    from drivers.hooks import HookError, run_hook

    try:
        answer = await run_hook(check.check_logic.strip(), {**context, "config": config})
    except HookError as exc:
        return ComplianceStatus.ERROR, {"error": exc.render()}
    if isinstance(answer, dict):
        return (ComplianceStatus.PASSED if answer.get("passed") else ComplianceStatus.FAILED), dict(answer)
    return (ComplianceStatus.PASSED if answer else ComplianceStatus.FAILED), {"result": bool(answer)}


def _remote_spec(check: Check) -> dict[str, Any]:
    import yaml

    try:
        spec = yaml.safe_load(check.check_logic or "")
    except yaml.YAMLError as exc:
        raise ComplianceError(f"check_logic is not YAML: {exc}", where=f"compliance check '{check.slug}'") from None
    example = "provider: NAME, path: /api/..., expect: 'status == 200'"
    if check.check_type == CheckType.GRAPHQL_QUERY.value:
        example = "provider: NAME, query: '{ devices { name } }', expect: 'data.devices | length > 0'"
    if not isinstance(spec, dict) or not spec.get("provider") or not spec.get("expect"):
        raise ComplianceError(
            "check_logic must be a mapping with provider (a provider config name) and expect (an expression)",
            where=f"compliance check '{check.slug}'",
            hint=f"e.g. {example}",
        )
    return spec


def _shown(value: Any) -> Any:
    """An API answer as kept in result_data: as it is, unless it is big."""
    import json

    text = json.dumps(value, default=str)
    return value if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT] + "..."


async def evaluate_remote(
    check: Check, context: dict[str, Any], store: Store
) -> tuple[ComplianceStatus, dict[str, Any]]:
    """An api_call or graphql_query check: ask the provider config ``check_logic`` names, then
    judge the answer with its ``expect`` expression."""
    from catalog.rendering import evaluate as evaluate_expression
    from drivers.http_provider import HttpApiProvider
    from drivers.nautobot_provider import NautobotProvider

    try:
        spec = _remote_spec(check)
        name = str(spec["provider"])

        def load() -> HttpApiProvider | NautobotProvider:
            with store.read_session() as session:
                config = session.scalars(
                    select(m.ProviderConfig)
                    .where(m.ProviderConfig.name == name)
                    .options(
                        selectinload(m.ProviderConfig.credentials).selectinload(m.SecretsGroup.entries),
                        selectinload(m.ProviderConfig.provider),
                    )
                ).one_or_none()
                if config is None or not config.enabled:
                    raise ComplianceError(
                        f"no enabled provider config '{name}'",
                        where=f"compliance check '{check.slug}'",
                        hint="`nettui catalog list --kind provider` lists them",
                    )
                if check.check_type == CheckType.GRAPHQL_QUERY.value:
                    return NautobotProvider.from_config(config)
                return HttpApiProvider.from_config(config)

        provider = await asyncio.to_thread(load)
        where = f"compliance check '{check.slug}' expect"
        if isinstance(provider, NautobotProvider):
            async with provider:
                answer = await provider.graphql_query(spec, context)
            passed = evaluate_expression(str(spec["expect"]), {**context, "data": answer}, where=where)
            data: dict[str, Any] = {"provider": name, "query": str(spec.get("query", "")), "data": _shown(answer)}
        else:
            async with provider:
                result = await provider.api_call(spec, context)
            scope = {**context, "response": result.data, "status": result.status}
            passed = evaluate_expression(str(spec["expect"]), scope, where=where)
            data = {"provider": name, "request": f"{result.method} {result.path}", "status": result.status}
            data["response"] = _shown(result.data)
    except (NettuiError, RenderError) as exc:
        return ComplianceStatus.ERROR, {"error": exc.render()}
    data["expect"] = str(spec["expect"])
    return (ComplianceStatus.PASSED if passed else ComplianceStatus.FAILED), data


# -- running ------------------------------------------------------------------------------------


@dataclass
class Target:
    id: int
    name: str
    driver: str
    context: dict[str, Any]
    config: str | None = None
    source: str = ""
    parsed: ParsedConfig | None = None


@dataclass
class ComplianceResult:
    runs: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, status: ComplianceStatus) -> int:
        return sum(1 for r in self.runs if r["status"] == status.value)

    def summary(self) -> str:
        parts = ", ".join(f"{self.count(s)} {s.value}" for s in ComplianceStatus)
        return f"{len(self.runs)} check run(s) in {self.elapsed:.1f} s: {parts}"


def load_checks(session: Any, slugs: Iterable[str] | None = None) -> list[Check]:
    query = (
        select(m.ComplianceCheck)
        .options(selectinload(m.ComplianceCheck.remediation_workflow))
        .order_by(m.ComplianceCheck.slug)
    )
    wanted = list(slugs or [])
    if wanted:
        query = query.where(m.ComplianceCheck.slug.in_(wanted))
    checks = [Check.of(row) for row in session.scalars(query)]
    missing = sorted(set(wanted) - {c.slug for c in checks})
    if missing:
        raise NotFoundError(
            f"no compliance check {', '.join(map(repr, missing))}", hint="`nettui catalog list --kind compliance_check`"
        )
    if not checks:
        raise ComplianceError(
            "no compliance checks in the store", hint="nettui catalog import (the built-in library has some)"
        )
    return checks


def _targets(session: Any, names: list[str] | None) -> list[Target]:
    query = select(m.Device).options(
        selectinload(m.Device.platform).selectinload(m.Platform.manufacturer),
        selectinload(m.Device.manufacturer),
        selectinload(m.Device.role),
        selectinload(m.Device.location),
        selectinload(m.Device.tenant),
        selectinload(m.Device.tags),
    )
    if names is not None:
        query = query.where(m.Device.name.in_(names))
    devices = list(session.scalars(query.order_by(m.Device.name)))
    if names is not None:
        missing = sorted(set(names) - {d.name for d in devices})
        if missing:
            raise NotFoundError(f"no device {', '.join(map(repr, missing))}", hint="`nettui inventory list`")
    contexts = inventory_contexts(session, devices)
    return [Target(d.id, d.name, d.platform.network_driver if d.platform else "", contexts[d.id]) for d in devices]


def _latest_backups(session: Any, targets: list[Target]) -> None:
    """Each target's latest running configuration backup (one query per 500 devices)."""
    by_id = {t.id: t for t in targets}
    ids = list(by_id)
    for chunk in [ids[i : i + 500] for i in range(0, len(ids), 500)]:
        rows = session.execute(
            select(m.BackupRecord.id, m.BackupRecord.device_id, m.BackupRecord.backup_data, m.BackupRecord.metadata_)
            .where(m.BackupRecord.device_id.in_(chunk), m.BackupRecord.backup_type == BackupType.CONFIG)
            .order_by(m.BackupRecord.id)
        )
        for record_id, device_id, data, metadata in rows:
            if (metadata or {}).get("source", "running") == "running":
                target = by_id[device_id]
                target.config, target.source = data, f"backup #{record_id}"


async def _live_configs(store: Store, targets: list[Target], driver: str) -> None:
    from drivers.base import Provider
    from drivers.fanout import for_each_device

    async def action(provider: Provider) -> str:
        return await provider.get_config("running")

    outcomes = await for_each_device(store, [t.name for t in targets], action, driver=driver)
    for target, outcome in zip(targets, outcomes, strict=True):
        if outcome.ok:
            text = strip_volatile(str(outcome.value), target.driver)
            target.config, _ = hide_secrets(text, target.driver, SecretPolicy.MASK)
            target.source = "live"
        else:
            assert outcome.error is not None
            target.source = f"live: {outcome.error.render()}"


async def evaluate(
    check: Check, target: Target, intended: dict[str, Any], store: Store | None = None
) -> tuple[ComplianceStatus, dict[str, Any]]:
    """One check on one device whose configuration is loaded (``store``: where api_call and
    graphql_query checks find their provider config)."""
    base: dict[str, Any] = {"check": check.slug, "check_type": check.check_type, "source": target.source}
    status: ComplianceStatus
    data: dict[str, Any]
    if check.check_type in REMOTE_TYPES:
        context = {**target.context, "intended": intended, "facts": {}, "meta": {"check": check.slug}}
        if store is None:
            status, data = ComplianceStatus.ERROR, {"error": "no store to find the check's provider config in"}
        else:
            status, data = await evaluate_remote(check, context, store)
        base["source"] = "api"
        if intended:
            data["intent"] = intended
        return status, {**base, **data}
    if target.config is None:
        why = target.source or "no configuration backup"
        hint = "run `nettui backup run` first, or check live with --live"
        return ComplianceStatus.SKIPPED, {
            **base,
            "reason": why if target.source else "no configuration backup",
            "hint": hint,
        }
    context = {**target.context, "intended": intended, "facts": {}, "meta": {"check": check.slug}}
    if check.check_type == CheckType.CONFIG_TEMPLATE.value:
        try:
            if target.parsed is None:
                target.parsed = ParsedConfig(target.config, target.driver)
            status, data = evaluate_template(check, context, target.parsed)
        except ComplianceError as exc:
            status, data = ComplianceStatus.ERROR, {"error": exc.render()}
    else:
        status, data = await evaluate_hook(check, context, target.config)
    if intended:
        data["intent"] = intended  # what the remediation's confirming run checks against
    return status, {**base, **data}


async def run_compliance(
    store: Store,
    *,
    checks: list[str] | None = None,
    devices: list[str] | None = None,
    live: bool = False,
    intended: dict[str, Any] | None = None,
    requested_by: str | None = None,
    driver: str = DEFAULT_DRIVER,
    on_progress: Callable[[int, int], None] | None = None,
) -> ComplianceResult:
    """Run ``checks`` (default: all) on ``devices`` (default: all) against their latest backup,
    or their live configuration; one ComplianceRun per device and applicable check."""
    started = time.perf_counter()
    with store.read_session() as session:
        chosen = load_checks(session, checks)
        targets = _targets(session, devices)
        user_id = session.scalar(select(m.User.id).where(m.User.username == requested_by)) if requested_by else None
        if not live:
            _latest_backups(session, targets)
    pairs = [(c, t) for t in targets for c in chosen if applies(c, t.context["device"])]
    if live:
        wanted = {t.id for c, t in pairs if c.check_type not in REMOTE_TYPES}
        await _live_configs(store, [t for t in targets if t.id in wanted], driver)
    rows: list[dict[str, Any]] = []
    now = m.utcnow()
    for index, (check, target) in enumerate(pairs, start=1):
        status, data = await evaluate(check, target, dict(intended or {}), store)
        rows.append(
            {
                "device_id": target.id,
                "check_id": check.id,
                "status": status,
                "result_data": {**data, "severity": check.severity, "standard": check.standard},
                "run_timestamp": now,
                "requested_by_id": user_id,
            }
        )
        if on_progress is not None and (index % 500 == 0 or index == len(pairs)):
            on_progress(index, len(pairs))
    names = {t.id: t.name for t in targets}
    result = ComplianceResult()
    result.runs = await asyncio.to_thread(_write_runs, store, rows, names, {c.id: c.slug for c in chosen})
    result.elapsed = time.perf_counter() - started
    return result


def _write_runs(
    store: Store, rows: list[dict[str, Any]], names: dict[int, str], slugs: dict[int, str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with store.session() as session:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            ids = session.scalars(insert(m.ComplianceRun).returning(m.ComplianceRun.id), chunk).all()
            for run_id, row in zip(ids, chunk, strict=True):
                out.append(
                    {
                        "id": run_id,
                        "device": names[row["device_id"]],
                        "check": slugs[row["check_id"]],
                        "status": row["status"].value,
                        "severity": row["result_data"]["severity"],
                        "missing": row["result_data"].get("missing", []),
                        "forbidden_present": row["result_data"].get("forbidden_present", []),
                        "error": row["result_data"].get("error") or row["result_data"].get("reason", ""),
                    }
                )
    return out


def compliance_run(store: Store, **options: Any) -> ComplianceResult:
    """Blocking form of :func:`run_compliance`."""
    return asyncio.run(run_compliance(store, **options))


# -- reporting ----------------------------------------------------------------------------------


def latest_runs(session: Any, devices: list[str] | None = None) -> list[m.ComplianceRun]:
    """The latest run of each (device, check)."""
    query = (
        select(m.ComplianceRun)
        .where(m.ComplianceRun.device_id.is_not(None))
        .options(selectinload(m.ComplianceRun.device), selectinload(m.ComplianceRun.check))
        .order_by(m.ComplianceRun.id)
    )
    if devices is not None:
        query = query.where(m.ComplianceRun.device_id.in_(select(m.Device.id).where(m.Device.name.in_(devices))))
    latest: dict[tuple[int, int], m.ComplianceRun] = {}
    for run in session.scalars(query):
        assert run.device_id is not None
        latest[(run.device_id, run.check_id)] = run
    return sorted(latest.values(), key=lambda r: (r.device.name if r.device else "", r.check.slug))


def _score(counts: dict[str, int]) -> float | None:
    judged = counts.get("passed", 0) + counts.get("failed", 0) + counts.get("error", 0)
    return round(100.0 * counts.get("passed", 0) / judged, 1) if judged else None


def report(store: Store, devices: list[str] | None = None) -> dict[str, Any]:
    """Latest status per device and check, with scores (passed / judged, in %; skipped runs
    are not judged) per device, per check and per standard."""
    with store.read_session() as session:
        runs = latest_runs(session, devices)
        rows: list[dict[str, Any]] = [
            {
                "run_id": r.id,
                "device": r.device.name if r.device else "",
                "check": r.check.slug,
                "standard": r.check.standard or "custom",
                "severity": r.check.severity.value,
                "status": r.status.value,
                "run_timestamp": r.run_timestamp,
                "missing": len(r.result_data.get("missing", [])) + len(r.result_data.get("forbidden_present", [])),
                "remediated_by": r.remediation_execution_id,
            }
            for r in runs
        ]

    def grouped(key: str) -> list[dict[str, Any]]:
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            bucket = counts.setdefault(row[key], {})
            bucket[row["status"]] = bucket.get(row["status"], 0) + 1
        return [
            {key: name, **{s.value: c.get(s.value, 0) for s in ComplianceStatus}, "score": _score(c)}
            for name, c in sorted(counts.items())
        ]

    total: dict[str, int] = {}
    for row in rows:
        total[row["status"]] = total.get(row["status"], 0) + 1
    return {
        "runs": rows,
        "devices": grouped("device"),
        "checks": grouped("check"),
        "standards": grouped("standard"),
        "score": _score(total),
    }


def report_csv(data: dict[str, Any]) -> str:
    """The report's per-run rows as CSV, then one row per device, check and standard score."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "name", "check", "standard", "severity", "status", "score", "run_id"])
    for row in data["runs"]:
        writer.writerow(
            ["run", row["device"], row["check"], row["standard"], row["severity"], row["status"], "", row["run_id"]]
        )
    for scope, key in (("device", "device"), ("check", "check"), ("standard", "standard")):
        plural = scope + "s"
        for row in data[plural]:
            writer.writerow([scope, row[key], "", "", "", "", "" if row["score"] is None else row["score"], ""])
    writer.writerow(["overall", "", "", "", "", "", "" if data["score"] is None else data["score"], ""])
    return out.getvalue()


# -- remediation --------------------------------------------------------------------------------


def remediate(
    store: Store, run_id: int, *, requested_by: str, driver: str | None = DEFAULT_DRIVER, run: bool = True
) -> tuple[int, ExecutionStatus]:
    """Start the remediation of a failed run: its check's remediation workflow when that takes
    the generated configuration (a ``lines`` input), else ``apply-remediation``; the run
    records the execution. With ``run``, it runs here (unless it awaits approval)."""
    from nettui.engine.runner import run_execution, submit

    with store.read_session() as session:
        found = session.scalars(
            select(m.ComplianceRun)
            .where(m.ComplianceRun.id == run_id)
            .options(
                selectinload(m.ComplianceRun.device),
                selectinload(m.ComplianceRun.check).selectinload(m.ComplianceCheck.remediation_workflow),
            )
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"no compliance run {run_id}", hint="`nettui compliance report` lists the latest runs")
        if found.status != ComplianceStatus.FAILED:
            raise ComplianceError(f"compliance run {run_id} is {found.status.value}: only a failed run is remediated")
        lines = list(found.result_data.get("remediation") or [])
        if not lines or found.device is None:
            raise ComplianceError(
                f"compliance run {run_id} has no remediation configuration", hint="run the check again"
            )
        workflow = found.check.remediation_workflow
        properties = (workflow.input_schema.get("properties") or {}) if workflow is not None else {}
        slug = workflow.slug if workflow is not None and "lines" in properties else REMEDIATION_WORKFLOW
        device, check = found.device.name, found.check.slug
        intent = dict(found.result_data.get("intent") or {})
    inputs: dict[str, Any] = {"device": device, "lines": lines, "check": check, "compliance_run": run_id}
    if slug == REMEDIATION_WORKFLOW:
        inputs["intended"] = intent
    execution_id = submit(store, slug, [device], inputs, requested_by=requested_by)
    with store.session() as session:
        row = session.get(m.ComplianceRun, run_id)
        assert row is not None
        row.remediation_execution_id = execution_id
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        status = execution.status
    if run and status == ExecutionStatus.PENDING:
        status = asyncio.run(run_execution(store, execution_id, driver=driver))
    return execution_id, status
