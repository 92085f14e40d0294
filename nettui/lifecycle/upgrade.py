"""OS upgrades: plans, the per-device upgrade with pre/post checks and rollback, and batches.

An :class:`~catalog.models.UpgradePlan` names one device (``device``) or many (``scope_query``:
``{"devices": [...]}`` or ``{"filter": {...}}``), the target version and, in
``pre_check_results["request"]``, the image file and its digests. Running a plan submits the
built-in ``os-upgrade`` workflow (catalog/library/workflows/os-upgrade.yaml) on its devices: an
Execution with one ExecutionStep per device, audited, cancellable and approvable like any other.
Its task step calls :func:`device_upgrade` (through the ``nettui_lifecycle`` hook), which for
each device, logging every stage on the step as it goes:

1. pre-checks: version, interfaces up, LLDP neighbours, routes (when the device has them), boot image
2. backup of the configuration (a BackupRecord, referenced by the plan)
3. image transfer, checked with the device's own checksum (skipped when already there;
   refused before sending when the file system has no room)
4. boot image set, configuration saved, reload, wait for the device (bounded, polling)
5. post-checks, compared with the pre-checks (interfaces up, LLDP neighbours, routes, version ==
   target)
6. when the comparison fails: the backed-up configuration restored, the previous image booted,
   reload, verified: the device is ``rolled_back``

Batches: at most ``parallel`` devices are upgraded at once; once the failures exceed
``max_failures`` (or the share ``max_failure_rate`` of the plan's devices), devices not yet
started are not started (``not_started``, with the reason); the running ones finish.

What the plan keeps (plain JSON):

- ``pre_check_results``: ``{"request": {image, image_name, image_md5, image_size, devices},
  "devices": {name: checks}}`` where checks are ``{version, boot_image, interfaces_up,
  lldp_neighbors, routes (None: not available), checked_at}``;
- ``post_check_results``: ``{"devices": {name: {status, stage, error, backup_id,
  previous_version, previous_image, transfer, checks, comparison, rollback, started_at,
  finished_at}}, "summary": {...}, "stopped": reason or ""}``;
- ``status``: planned, scheduled, in_progress, then completed (every device), rolled_back
  (every failed device was rolled back, none left broken or not started) or failed.

Read API for front ends (CLI, TUI), all plain data:

- :func:`create_plan` (store, device= | devices= | filters=, target_version, image) -> plan id
- :func:`list_plans` (store, status=None) -> list of :class:`PlanSummary`
- :func:`plan_detail` (store, plan_id) -> :class:`PlanDetail` (``.to_json()``), with per device
  its status, stage, error, pre and post checks and the comparison (:class:`DeviceUpgrade`)
- :func:`start_plan` (store, plan_id, requested_by=..., parallel=..., max_failures=...,
  max_failure_rate=..., run=True, on_progress=callable) -> (execution id, plan status);
  inside an event loop: ``start_plan(..., run=False)``, then ``await run_plan(store, plan_id,
  execution_id, on_progress=...)``
- :func:`schedule_plan` (store, plan_id, at=datetime, requested_by=...) -> schedule id
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError, StepSkipped
from catalog.models.choices import BackupType, ExecutionStatus, ScheduleTrigger, UpgradeStatus
from catalog.store import Store
from drivers.base import DeviceTarget, Provider
from drivers.errors import CommandRejected, ConnectionDropped, DeviceError, DeviceUnreachable
from drivers.redaction import first_line
from drivers.transfer import second_connection

__all__ = [
    "WORKFLOW",
    "DeviceUpgrade",
    "PlanDetail",
    "PlanSummary",
    "UpgradeError",
    "compare_checks",
    "create_plan",
    "device_upgrade",
    "finalize_plan",
    "list_plans",
    "plan_detail",
    "run_plan",
    "same_version",
    "schedule_plan",
    "start_plan",
    "stop_rule",
]

WORKFLOW = "os-upgrade"
DEFAULT_DRIVER = "asyncssh"
FINAL_DEVICE = ("completed", "failed", "rolled_back", "not_started")
FAILED_DEVICE = ("failed", "rolled_back")
ProgressCallback = Callable[[str], None]


class UpgradeError(NettuiError):
    """An upgrade that cannot be planned, started or carried out as asked."""


# -- platforms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradeProfile:
    """How one platform shows and sets its boot image, saves, reloads and lists its state.

    IOS-like platforms boot what a configuration line names (``boot_lines``, then ``save``);
    Junos installs a package (``install``) that runs after the reboot, and the previous one is
    found among the packages it keeps (``packages``)."""

    boot_show: str | None  # the command that names the boot image
    boot_lines: tuple[str, ...]  # "{image}" is the image as the CLI names it
    save: str | None
    reload: str
    interfaces: str
    routes: str
    lldp: str
    enable: bool = True  # the reload needs privileged (enable) mode
    install: str | None = None  # an operational command that installs "{image}" for the next boot
    packages: str | None = None  # lists the installed packages (to find the running one)


_BOOT = re.compile(r"(?:BOOT variable\s*=|Software image:|NXOS variable\s*=)\s*([^;,\s]+)")
_CONFIRM = re.compile(r"\[confirm\]|\(y/n\)|\[y/n\]|\[yes/no\]|\[yes,no\]", re.IGNORECASE)
_PROMPT = re.compile(r"(?:^|\n)[\w.\-@/:+~]{1,63}(?:\([\w.\-@/:+ ]{1,40}\))?[>#] ?$")
_PASSWORD = re.compile(r"(?i)password: ?$")
_PREFIX = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}/\d{1,2})\b")

_IOS = UpgradeProfile(
    boot_show="show boot",
    boot_lines=("no boot system", "boot system {image}"),
    save="write memory",
    reload="reload",
    interfaces="show ip interface brief",
    routes="show ip route",
    lldp="show lldp neighbors detail",
)
PROFILES: dict[str, UpgradeProfile] = {
    "cisco_ios": _IOS,
    "cisco_nxos": replace(
        _IOS,
        boot_show="show bootvar",
        boot_lines=("no boot nxos", "boot nxos {image}"),
        save="copy running-config startup-config",
        interfaces="show interface brief",
        enable=False,
    ),
    "arista_eos": replace(_IOS, interfaces="show interfaces status"),
    "juniper_junos": UpgradeProfile(
        boot_show=None,
        boot_lines=(),
        save=None,  # a Junos configuration is committed, not saved
        reload="request system reboot",
        interfaces="show interfaces terse",
        routes="show route",
        lldp="show lldp neighbors",
        enable=False,
        install="request system software add {image}",
        packages="file list /var/tmp/",
    ),
}
_JUNOS_PACKAGE = re.compile(r"-(\d+\.\d+R[\w.-]+?)(?:-signed)?\.tgz$")


def upgrade_profile(driver: str, device: str) -> UpgradeProfile:
    profile = PROFILES.get(driver)
    if profile is None:
        raise UpgradeError(
            f"device {device} runs {driver or 'an unknown platform'}: upgrades support {', '.join(PROFILES)}",
            hint="leave it out of the plan (--device NAME, or a narrower --filter)",
        )
    return profile


def same_version(a: str, b: str) -> bool:
    """``17.12.03`` and ``17.12.3`` are the same version; so are ``10.4(2)`` and ``10.4.2``."""

    def parts(text: str) -> list[str]:
        return [p.lstrip("0") or "0" for p in re.split(r"[.()\-\s]+", text.strip().lower()) if p]

    return bool(a.strip()) and parts(a) == parts(b)


def _interfaces_up(driver: str, output: str) -> list[str]:
    up: set[str] = set()
    for line in output.splitlines():
        words = line.split()
        if len(words) < 2 or not re.fullmatch(r"[A-Za-z][\w\-/.:]*\d[\w/.:]*", words[0]):
            continue
        if driver == "juniper_junos":
            ok = "." not in words[0] and [w.lower() for w in words[1:3]] == ["up", "up"]
        elif driver == "cisco_ios":
            ok = [w.lower() for w in words[-2:]] == ["up", "up"]
        elif driver == "arista_eos":
            ok = "connected" in words
        else:
            ok = "up" in [w.lower() for w in words[1:]]
        if ok:
            up.add(words[0])
    return sorted(up)


def _routes(output: str) -> list[str]:
    found: set[str] = set()
    for line in output.splitlines():
        if "subnetted" in line or "Gateway" in line:
            continue
        if match := _PREFIX.search(line):
            found.add(match.group(1))
    return sorted(found)


# -- checks -------------------------------------------------------------------------------------


async def _boot_image(provider: Provider, profile: UpgradeProfile, version: str) -> str:
    """The image the device boots (IOS-like), or the installed package of ``version`` (Junos)."""
    if profile.boot_show:
        found = _BOOT.search((await provider.send_command(profile.boot_show)).output)
        return found.group(1) if found else ""
    if profile.packages:
        listing = (await provider.send_command(profile.packages)).output.splitlines()
        folder = listing[0].rstrip(":").rstrip("/") + "/" if listing and listing[0].endswith(":") else ""
        for line in listing[1:]:
            name = line.split()[-1] if line.split() else ""
            found = _JUNOS_PACKAGE.search(name)
            if found and same_version(found.group(1), version):
                return folder + name
    return ""


async def set_boot_image(provider: Provider, profile: UpgradeProfile, image: str) -> None:
    """Make ``image`` what the device runs after its next reload, and save that."""
    name = provider.target.name
    if profile.install:
        output = (await provider.send_command(profile.install.format(image=image))).output
        if re.search(r"(?im)^\s*error|not a \w+ package|does not exist", output):
            raise UpgradeError(f"{name} refused to install {image}: {first_line(output)}")
    else:
        await provider.send_config([line.format(image=image) for line in profile.boot_lines])
        if profile.boot_show:
            boot = (await provider.send_command(profile.boot_show)).output
            if image not in boot:
                raise UpgradeError(f"{name} does not show {image} as its boot image: {first_line(boot)}")
    if profile.save:
        await provider.send_command(profile.save)


async def gather_checks(provider: Provider, profile: UpgradeProfile) -> dict[str, Any]:
    """What the pre- and post-checks record from one device."""
    from nettui.discovery import parse_lldp_neighbors

    driver = provider.target.network_driver
    facts = await provider.get_facts()
    interfaces = (await provider.send_command(profile.interfaces)).output
    lldp = (await provider.send_command(profile.lldp)).output
    routes: list[str] | None
    try:
        routes = _routes((await provider.send_command(profile.routes)).output)
    except CommandRejected:
        routes = None  # the device has no such command: routes are not compared
    version = str(facts.get("version") or "")
    return {
        "version": version,
        "boot_image": await _boot_image(provider, profile, version),
        "interfaces_up": _interfaces_up(driver, interfaces),
        "lldp_neighbors": sorted({n["name"] for n in parse_lldp_neighbors(driver, lldp)}),
        "routes": routes,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def compare_checks(before: Mapping[str, Any], after: Mapping[str, Any], version: str) -> dict[str, Any]:
    """Pre against post: interfaces that were up, LLDP neighbours and routes that were there,
    and the version the device must run. ``passed`` and the ``problems`` in words."""
    problems: list[str] = []
    lost_interfaces = sorted(set(before.get("interfaces_up") or []) - set(after.get("interfaces_up") or []))
    if lost_interfaces:
        problems.append(f"interfaces down that were up: {', '.join(lost_interfaces)}")
    lost_neighbors = sorted(set(before.get("lldp_neighbors") or []) - set(after.get("lldp_neighbors") or []))
    if lost_neighbors:
        problems.append(f"LLDP neighbours gone: {', '.join(lost_neighbors)}")
    routes: dict[str, Any] = {"available": before.get("routes") is not None and after.get("routes") is not None}
    if routes["available"]:
        lost_routes = sorted(set(before["routes"]) - set(after["routes"]))
        routes.update(before=len(before["routes"]), after=len(after["routes"]), lost=lost_routes, ok=not lost_routes)
        if lost_routes:
            problems.append(f"routes gone: {', '.join(lost_routes[:10])}" + (" ..." if len(lost_routes) > 10 else ""))
    else:
        routes["ok"] = True
    version_ok = same_version(str(after.get("version") or ""), version)
    if not version_ok:
        problems.append(f"version is {after.get('version') or 'unknown'}, expected {version}")
    return {
        "version": {
            "before": before.get("version"),
            "after": after.get("version"),
            "expected": version,
            "ok": version_ok,
        },
        "interfaces_up": {
            "before": len(before.get("interfaces_up") or []),
            "after": len(after.get("interfaces_up") or []),
            "lost": lost_interfaces,
            "ok": not lost_interfaces,
        },
        "lldp_neighbors": {
            "before": len(before.get("lldp_neighbors") or []),
            "after": len(after.get("lldp_neighbors") or []),
            "lost": lost_neighbors,
            "ok": not lost_neighbors,
        },
        "routes": routes,
        "passed": not problems,
        "problems": problems,
    }


# -- planning -----------------------------------------------------------------------------------


def _file_digest(path: Path) -> tuple[str, int]:
    import hashlib

    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            md5.update(chunk)
    return md5.hexdigest(), path.stat().st_size


def _image_request(image: str | Path) -> dict[str, Any]:
    path = Path(image).expanduser()
    if not path.is_file():
        raise UpgradeError(
            f"no image file {str(image)!r}" + (" (it is a folder)" if path.is_dir() else ""),
            where="--image",
            hint="give the path of the image file on this machine",
        )
    try:
        md5, size = _file_digest(path)
    except OSError as exc:
        raise UpgradeError(f"cannot read the image file {str(image)!r}: {exc.strerror}", where="--image") from None
    return {"image": str(path.resolve()), "image_name": path.name, "image_md5": md5, "image_size": size}


def _resolve_devices(session: Any, plan: m.UpgradePlan) -> list[m.Device]:
    from catalog.inventory import list_devices

    if plan.device_id is not None:
        device = session.get(m.Device, plan.device_id)
        return [device] if device is not None else []
    scope = plan.scope_query or {}
    if "devices" in scope:
        names = [str(n) for n in scope["devices"]]
        found = {d.name: d for d in session.scalars(select(m.Device).where(m.Device.name.in_(names)))}
        missing = [n for n in names if n not in found]
        if missing:
            raise NotFoundError(f"no device {', '.join(map(repr, missing))}", hint="`nettui inventory list`")
        return [found[n] for n in names]
    return list_devices(session, {k: list(v) for k, v in (scope.get("filter") or {}).items()})


def _check_devices(session: Any, devices: list[m.Device]) -> None:
    for device in devices:
        platform = session.get(m.Platform, device.platform_id) if device.platform_id else None
        upgrade_profile(platform.network_driver if platform else "", device.name)


def create_plan(
    store: Store,
    *,
    target_version: str,
    image: str | Path,
    device: str | None = None,
    devices: list[str] | None = None,
    filters: Mapping[str, list[str]] | None = None,
) -> int:
    """Record a planned upgrade of one device, a list, or the devices a filter selects; its id.
    Everything is checked now (devices, platforms, the image file, the workflow): a bad plan
    is refused with nothing written."""
    if not target_version.strip():
        raise UpgradeError("no target version", where="--target-version", hint="e.g. --target-version 17.12.03")
    given = [x for x in (device, devices, filters) if x]
    if len(given) != 1:
        raise UpgradeError("give one device, a list of devices or a filter", hint="--device NAME or --filter KEY=VALUE")
    request = _image_request(image)
    with store.session() as session:
        workflow = session.scalars(select(m.Workflow).where(m.Workflow.slug == WORKFLOW)).one_or_none()
        if workflow is None:
            raise UpgradeError(
                f"the built-in workflow '{WORKFLOW}' is not in the catalog", hint="nettui catalog import --builtin"
            )
        plan = m.UpgradePlan(target_version=target_version.strip(), upgrade_workflow=workflow)
        if device:
            row = session.scalars(select(m.Device).where(m.Device.name == device)).one_or_none()
            if row is None:
                raise NotFoundError(f"no device '{device}'", hint="`nettui inventory list`")
            plan.device = row
            plan.device_id = row.id
        elif devices:
            plan.scope_query = {"devices": list(dict.fromkeys(devices))}  # in order: the first go first
        else:
            from catalog.inventory import check_filters

            check_filters(dict(filters or {}))
            plan.scope_query = {"filter": {k: list(v) for k, v in (filters or {}).items()}}
        targets = _resolve_devices(session, plan)
        if not targets:
            raise UpgradeError("no device matches the plan's filter", hint="`nettui inventory list --filter ...`")
        _check_devices(session, targets)
        versions = sorted({d.software_version for d in targets if d.software_version})
        plan.current_version = ", ".join(versions)[:100]
        request["devices"] = [d.name for d in targets]
        plan.pre_check_results = {"request": request, "devices": {}}
        plan.post_check_results = {"devices": {}}
        session.add(plan)
        session.flush()
        return int(plan.id)


# -- reading ------------------------------------------------------------------------------------


@dataclass
class PlanSummary:
    id: int
    status: str
    target: str  # the device, or "N devices (filter ...)"
    devices: int
    current_version: str
    target_version: str
    image: str
    scheduled_time: datetime | None
    execution_id: int | None
    counts: dict[str, int]  # device status -> how many
    created_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeviceUpgrade:
    name: str
    status: str  # pending, in_progress, completed, failed, rolled_back, not_started
    stage: str
    error: str
    pre: dict[str, Any] | None
    post: dict[str, Any] | None
    comparison: dict[str, Any] | None
    backup_id: int | None
    previous_version: str
    previous_image: str
    rollback: dict[str, Any] | None
    started_at: str | None
    finished_at: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlanDetail:
    summary: PlanSummary
    request: dict[str, Any]
    scope: dict[str, Any] | None
    backup_reference: int | None
    stopped: str
    devices: list[DeviceUpgrade] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "request": self.request,
            "scope": self.scope,
            "backup_reference": self.backup_reference,
            "stopped": self.stopped,
            "devices": [d.to_json() for d in self.devices],
        }


def _device_names(plan: m.UpgradePlan) -> list[str]:
    names = list((plan.pre_check_results or {}).get("request", {}).get("devices") or [])
    if not names and plan.device is not None:
        names = [plan.device.name]
    return names


def _summary(plan: m.UpgradePlan) -> PlanSummary:
    names = _device_names(plan)
    states = (plan.post_check_results or {}).get("devices") or {}
    counts: dict[str, int] = {}
    for name in names:
        status = str((states.get(name) or {}).get("status") or "pending")
        counts[status] = counts.get(status, 0) + 1
    if plan.device is not None:
        target = plan.device.name
    elif (plan.scope_query or {}).get("filter"):
        shown = " ".join(f"{k}={','.join(v)}" for k, v in plan.scope_query["filter"].items())  # type: ignore[index]
        target = f"{len(names)} device(s) ({shown})"
    else:
        target = f"{len(names)} device(s)"
    return PlanSummary(
        id=plan.id,
        status=plan.status.value,
        target=target,
        devices=len(names),
        current_version=plan.current_version,
        target_version=plan.target_version,
        image=str((plan.pre_check_results or {}).get("request", {}).get("image_name") or ""),
        scheduled_time=plan.scheduled_time,
        execution_id=plan.execution_id,
        counts=counts,
        created_at=plan.created_at,
    )


def list_plans(store: Store, *, status: str | None = None, limit: int = 200) -> list[PlanSummary]:
    """Upgrade plans, newest first (finishing those whose execution ended without them)."""
    _finalize_stale(store)
    with store.read_session() as session:
        query = select(m.UpgradePlan).options(selectinload(m.UpgradePlan.device)).order_by(m.UpgradePlan.id.desc())
        if status:
            query = query.where(m.UpgradePlan.status == UpgradeStatus(status))
        return [_summary(p) for p in session.scalars(query.limit(limit))]


def plan_detail(store: Store, plan_id: int) -> PlanDetail:
    """One plan with each device's status, stage, error, pre/post checks and comparison."""
    _finalize_stale(store, plan_id)
    with store.read_session() as session:
        plan = session.get(m.UpgradePlan, plan_id, options=[selectinload(m.UpgradePlan.device)])
        if plan is None:
            raise NotFoundError(f"no upgrade plan {plan_id}", hint="`nettui upgrade list`")
        pre = (plan.pre_check_results or {}).get("devices") or {}
        states = (plan.post_check_results or {}).get("devices") or {}
        devices = []
        for name in _device_names(plan):
            state = states.get(name) or {}
            devices.append(
                DeviceUpgrade(
                    name=name,
                    status=str(state.get("status") or "pending"),
                    stage=str(state.get("stage") or ""),
                    error=str(state.get("error") or ""),
                    pre=pre.get(name),
                    post=state.get("checks"),
                    comparison=state.get("comparison"),
                    backup_id=state.get("backup_id"),
                    previous_version=str(state.get("previous_version") or ""),
                    previous_image=str(state.get("previous_image") or ""),
                    rollback=state.get("rollback"),
                    started_at=state.get("started_at"),
                    finished_at=state.get("finished_at"),
                )
            )
        return PlanDetail(
            summary=_summary(plan),
            request={k: v for k, v in ((plan.pre_check_results or {}).get("request") or {}).items() if k != "devices"},
            scope=plan.scope_query,
            backup_reference=plan.backup_reference_id,
            stopped=str((plan.post_check_results or {}).get("stopped") or ""),
            devices=devices,
        )


# -- starting -----------------------------------------------------------------------------------


class RunOptions(TypedDict, total=False):
    """How :func:`start_plan` and :func:`schedule_plan` run a plan's upgrade (the defaults are
    :func:`_inputs`'s): devices at a time, when to stop, how long a reload may take, the driver."""

    parallel: int
    max_failures: int | None
    max_failure_rate: float | None
    reload_timeout: float
    poll_interval: float
    driver: str


def _prepare_start(store: Store, plan_id: int, options: RunOptions) -> tuple[list[str], dict[str, Any]]:
    """Check the options and that the plan can start; resolve its devices again; reset
    per-device results. The devices' names and the execution's inputs."""
    with store.session() as session:
        plan = session.get(m.UpgradePlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFoundError(f"no upgrade plan {plan_id}", hint="`nettui upgrade list`")
        if plan.status == UpgradeStatus.IN_PROGRESS:
            raise UpgradeError(
                f"upgrade plan {plan_id} is in progress (execution {plan.execution_id})",
                hint=f"follow it: nettui executions logs {plan.execution_id} --follow",
            )
        if plan.status == UpgradeStatus.COMPLETED:
            raise UpgradeError(f"upgrade plan {plan_id} is completed", hint="plan a new upgrade")
        targets = _resolve_devices(session, plan)
        if not targets:
            raise UpgradeError(f"upgrade plan {plan_id} selects no device now")
        _check_devices(session, targets)
        request = dict((plan.pre_check_results or {}).get("request") or {})
        image = Path(str(request.get("image") or ""))
        if not image.is_file():
            raise UpgradeError(
                f"the plan's image file {str(image)!r} is gone",
                where=f"upgrade plan {plan_id}",
                hint="put the file back, or plan again with --image",
            )
        request["devices"] = [d.name for d in targets]
        plan.pre_check_results = {"request": request, "devices": {}}
        plan.post_check_results = {"devices": {d.name: {"status": "pending"} for d in targets}}
        names, target_version = [d.name for d in targets], plan.target_version
    return names, _inputs(plan_id, request, target_version, **options)


def _inputs(
    plan_id: int,
    request: Mapping[str, Any],
    target_version: str,
    *,
    parallel: int = 5,
    max_failures: int | None = None,
    max_failure_rate: float | None = None,
    reload_timeout: float = 900.0,
    poll_interval: float = 2.0,
    driver: str = DEFAULT_DRIVER,
) -> dict[str, Any]:
    if parallel < 1:
        raise UpgradeError(f"parallel must be 1 or more, not {parallel}", where="--parallel")
    if max_failures is not None and max_failures < 0:
        raise UpgradeError(f"max failures must be 0 or more, not {max_failures}", where="--max-failures")
    if max_failure_rate is not None and not 0 <= max_failure_rate <= 1:
        raise UpgradeError(
            f"max failure rate must be between 0 and 1, not {max_failure_rate}", where="--max-failure-rate"
        )
    return {
        "plan_id": plan_id,
        "image": str(request["image"]),
        "target_version": target_version,
        "parallel": parallel,
        "max_failures": max_failures,
        "max_failure_rate": max_failure_rate,
        "reload_timeout": reload_timeout,
        "poll_interval": poll_interval,
        "driver": driver,
    }


def start_plan(
    store: Store,
    plan_id: int,
    *,
    requested_by: str,
    run: bool = True,
    on_progress: ProgressCallback | None = None,
    **options: Unpack[RunOptions],
) -> tuple[int, str]:
    """Submit the plan's upgrade as an execution of ``os-upgrade``; with ``run``, run it here
    to its end (unless it awaits approval). Returns the execution id and the plan's status.
    From inside an event loop, submit with ``run=False`` and await :func:`run_plan`."""
    from nettui.engine.runner import submit

    names, inputs = _prepare_start(store, plan_id, options)
    execution_id = submit(store, WORKFLOW, names, inputs, requested_by=requested_by)
    with store.session() as session:
        plan = session.get(m.UpgradePlan, plan_id)
        assert plan is not None
        plan.execution_id = execution_id
        plan.status = UpgradeStatus.IN_PROGRESS
        plan.scheduled_time = None
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        pending = execution.status == ExecutionStatus.PENDING
    if run and pending:
        asyncio.run(run_plan(store, plan_id, execution_id, parallel=inputs["parallel"], on_progress=on_progress))
    with store.read_session() as session:
        plan = session.get(m.UpgradePlan, plan_id)
        assert plan is not None
        return execution_id, plan.status.value


async def run_plan(
    store: Store,
    plan_id: int,
    execution_id: int,
    *,
    parallel: int = 5,
    on_progress: ProgressCallback | None = None,
) -> str:
    """Run the plan's pending execution in this event loop (a TUI's, say) and finish the plan;
    its status. ``on_progress`` gets a line per stage of each device, and the engine's events."""
    from nettui.engine.runner import run_execution

    if on_progress is not None:
        _PROGRESS[execution_id] = on_progress
    try:
        await run_execution(store, execution_id, concurrency=max(parallel, 20), on_event=on_progress)
    finally:
        _PROGRESS.pop(execution_id, None)
    return await asyncio.to_thread(finalize_plan, store, plan_id)


def schedule_plan(
    store: Store,
    plan_id: int,
    *,
    at: datetime,
    requested_by: str,
    **options: Unpack[RunOptions],
) -> int:
    """A one-off schedule (fired by `nettui engine`) that runs the plan at ``at``; its id."""
    from nettui.engine.scheduling import add_schedule

    when = at if at.tzinfo else at.replace(tzinfo=UTC)
    if when <= datetime.now(UTC):
        raise UpgradeError(f"{when.isoformat()} is in the past", where="--at", hint="give a time to come")
    names, inputs = _prepare_start(store, plan_id, options)
    name = f"upgrade-plan-{plan_id}-{when.strftime('%Y%m%dT%H%M%S')}"
    schedule_id = add_schedule(
        store,
        name,
        WORKFLOW,
        ScheduleTrigger.DATE,
        when.isoformat(),
        devices=names,
        inputs=inputs,
        requested_by=requested_by,
    )
    with store.session() as session:
        plan = session.get(m.UpgradePlan, plan_id)
        assert plan is not None
        plan.status = UpgradeStatus.SCHEDULED
        plan.scheduled_time = when
    return schedule_id


# -- finishing ----------------------------------------------------------------------------------


def _plan_status(states: Mapping[str, Mapping[str, Any]]) -> UpgradeStatus | None:
    """The plan's status once every device is final (None before)."""
    values = [str(s.get("status") or "pending") for s in states.values()]
    if not values or any(v not in FINAL_DEVICE for v in values):
        return None
    if all(v == "completed" for v in values):
        return UpgradeStatus.COMPLETED
    if "rolled_back" in values and all(v in ("completed", "rolled_back") for v in values):
        return UpgradeStatus.ROLLED_BACK
    return UpgradeStatus.FAILED


def _summary_counts(states: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in states.values():
        key = str(state.get("status") or "pending")
        counts[key] = counts.get(key, 0) + 1
    return counts


def finalize_plan(store: Store, plan_id: int) -> str:
    """Once the plan's execution has ended: a device it never reached is ``not_started`` (with
    why), and the plan takes its final status. Its status."""
    with store.session() as session:
        plan = session.get(m.UpgradePlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFoundError(f"no upgrade plan {plan_id}")
        execution = session.get(m.Execution, plan.execution_id) if plan.execution_id else None
        if plan.status != UpgradeStatus.IN_PROGRESS or execution is None:
            return plan.status.value
        if execution.status not in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED):
            return plan.status.value
        results = dict(plan.post_check_results or {})
        states = {k: dict(v) for k, v in (results.get("devices") or {}).items()}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for state in states.values():
            if state.get("status") in (None, "pending"):
                state.update(
                    status="not_started",
                    error=f"execution {execution.id} ended ({execution.status.value}) before it reached this device",
                    finished_at=now,
                )
            elif state.get("status") == "in_progress":
                state.update(
                    status="failed",
                    error=f"execution {execution.id} ended ({execution.status.value}) during {state.get('stage')}",
                    finished_at=now,
                )
        results["devices"] = states
        results["summary"] = _summary_counts(states)
        plan.post_check_results = results
        plan.status = _plan_status(states) or UpgradeStatus.FAILED
        return plan.status.value


def _finalize_stale(store: Store, plan_id: int | None = None) -> None:
    """Plans still in progress whose execution has ended (run by an engine, or interrupted)."""
    with store.read_session() as session:
        query = (
            select(m.UpgradePlan.id)
            .join(m.Execution, m.UpgradePlan.execution_id == m.Execution.id)
            .where(
                m.UpgradePlan.status == UpgradeStatus.IN_PROGRESS,
                m.Execution.status.in_([ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED]),
            )
        )
        if plan_id is not None:
            query = query.where(m.UpgradePlan.id == plan_id)
        stale = list(session.scalars(query))
    for found in stale:
        finalize_plan(store, found)


# -- running one device (inside the engine) -----------------------------------------------------


_PROGRESS: dict[int, ProgressCallback] = {}  # execution id -> progress printer (runs started here)


ORDER_GRACE_S = 2.0  # how long a device waits for those before it in the plan to turn up


class _Batch:
    """The devices of one execution running in this process: at most ``parallel`` at once,
    started in the plan's order (the first devices of a plan are its canaries), and one lock
    for the plan's record (devices update it one at a time).

    A device waits for the devices before it in the plan only while they may still turn up
    (``ORDER_GRACE_S``): one the engine never hands over (no implementation for its platform,
    its lock held elsewhere) does not hold the others back."""

    def __init__(self, order: list[str], parallel: int, expected: int) -> None:
        self.order = {name: index for index, name in enumerate(order)}
        self.parallel = max(1, parallel)
        self.running = 0
        self.waiting: list[tuple[int, str, asyncio.Future[None]]] = []
        self.arrived: set[str] = set()
        self.lock = asyncio.Lock()
        self.left = expected
        self.deadline = asyncio.get_running_loop().time() + ORDER_GRACE_S
        self._timer: asyncio.TimerHandle | None = None

    async def enter(self, name: str) -> None:
        """Wait for this device's turn and a free slot."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.arrived.add(name)
        heapq.heappush(self.waiting, (self.order.get(name, len(self.order)), name, future))
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.leave()
            raise

    def leave(self) -> None:
        self.running -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self.running < self.parallel and self.waiting:
            index, _, future = self.waiting[0]
            early = any(i < index and name not in self.arrived for name, i in self.order.items())
            if early and loop.time() < self.deadline:
                if self._timer is None:
                    self._timer = loop.call_at(self.deadline, self._dispatch)
                return
            heapq.heappop(self.waiting)
            if future.cancelled():
                continue
            self.running += 1
            future.set_result(None)


_BATCHES: dict[int, _Batch] = {}


class _Device:
    """One device's upgrade: its spec, its log and its record in the plan."""

    def __init__(self, store: Store, spec: Mapping[str, Any], name: str, execution_id: int, batch: _Batch) -> None:
        from nettui.engine.runner import CURRENT_STEP_LOG

        self.store, self.spec, self.name, self.execution_id, self.batch = store, spec, name, execution_id, batch
        self.plan_id = int(spec["plan_id"])
        self.driver = str(spec.get("driver") or DEFAULT_DRIVER)
        self.target_version = str(spec["target_version"])
        self.log_lines = CURRENT_STEP_LOG.get()
        if self.log_lines is None:
            self.log_lines = []
        self.started = time.monotonic()
        self.stages: list[dict[str, Any]] = []

    def log(self, text: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f}s] {text}"
        assert self.log_lines is not None
        self.log_lines.append(line)
        printer = _PROGRESS.get(self.execution_id)
        if printer is not None:
            printer(f"{self.name}: {text}")

    async def update(
        self, *, pre: dict[str, Any] | None = None, plan: dict[str, Any] | None = None, **state: Any
    ) -> None:
        """Merge ``state`` into this device's entry of the plan (and ``pre`` into its pre-checks)."""

        def write(session: Any) -> None:
            row = session.get(m.UpgradePlan, self.plan_id, with_for_update=True)
            if row is None:
                raise UpgradeError(f"upgrade plan {self.plan_id} is gone")
            results = dict(row.post_check_results or {})
            states = {k: dict(v) for k, v in (results.get("devices") or {}).items()}
            states.setdefault(self.name, {}).update(state)
            results["devices"] = states
            results["summary"] = _summary_counts(states)
            if plan:
                results.update({k: v for k, v in plan.items() if k in ("stopped",)})
            row.post_check_results = results
            if pre is not None:
                checks = dict(row.pre_check_results or {})
                devices = dict(checks.get("devices") or {})
                devices[self.name] = pre
                checks["devices"] = devices
                row.pre_check_results = checks
                versions = sorted({str(v.get("version")) for v in devices.values() if v.get("version")})
                row.current_version = ", ".join(versions)[:100]
            if "backup_id" in state and row.device_id is not None:
                row.backup_reference_id = state["backup_id"]
            if row.execution_id != self.execution_id:  # started by a schedule: link it now
                row.execution_id = self.execution_id
            if row.status in (UpgradeStatus.PLANNED, UpgradeStatus.SCHEDULED):
                row.status = UpgradeStatus.IN_PROGRESS
            final = _plan_status(states)
            if final is not None:
                row.status = final

        async with self.batch.lock:
            await asyncio.to_thread(self._write, write)

    def _write(self, action: Callable[[Any], None]) -> None:
        with self.store.session() as session:
            action(session)

    async def stage(self, name: str) -> None:
        self.stages.append({"stage": name, "at": round(time.monotonic() - self.started, 2)})
        self.log(f"stage: {name}")
        await self.update(stage=name)

    def cancel_requested(self) -> bool:
        with self.store.read_session() as session:
            return (
                session.scalar(
                    select(m.ExecutionEvent.id).where(
                        m.ExecutionEvent.execution_id == self.execution_id,
                        m.ExecutionEvent.kind == "cancel_requested",
                    )
                )
                is not None
            )

    def stop_reason(self) -> str:
        """Why this device must not start (the stop rule, or a cancel), or ""."""
        if self.cancel_requested():
            return "the execution was cancelled"
        with self.store.read_session() as session:
            row = session.get(m.UpgradePlan, self.plan_id)
            states = (row.post_check_results or {}).get("devices") or {} if row else {}
        return stop_rule(states, self.spec.get("max_failures"), self.spec.get("max_failure_rate"))


def stop_rule(states: Mapping[str, Mapping[str, Any]], max_failures: Any, max_failure_rate: Any) -> str:
    """Why no more devices of a batch may start, or "": the failures (failed or rolled back)
    exceed ``max_failures``, or their share of the plan's devices exceeds ``max_failure_rate``."""
    total = max(len(states), 1)
    failures = sum(1 for s in states.values() if s.get("status") in FAILED_DEVICE)
    if max_failures is not None and failures > int(max_failures):
        return f"stop rule: {failures} device(s) failed, more than max_failures={int(max_failures)}"
    if max_failure_rate is not None and failures / total > float(max_failure_rate):
        return (
            f"stop rule: {failures} of {total} device(s) failed ({failures / total:.0%}), "
            f"more than max_failure_rate={float(max_failure_rate):g}"
        )
    return ""


def _context_store() -> Store:
    from nettui.lifecycle.hooks import _store

    return _store()


async def device_upgrade(context: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ``upgrade`` lifecycle action: upgrade the context's device as the plan in ``spec``
    says, within the batch's parallel limit and stop rule. Awaited in the engine's loop (the
    ``nettui_lifecycle`` hook returns this coroutine). Raises on anything but ``completed``."""
    store = _context_store()
    name = str((context.get("device") or {}).get("name") or "")
    execution_id = int((context.get("meta") or {}).get("execution") or 0)
    batch = _BATCHES.get(execution_id)
    if batch is None:
        with store.read_session() as session:
            execution = session.get(m.Execution, execution_id, options=[selectinload(m.Execution.target_devices)])
            count = len(execution.target_devices) if execution is not None else 1
            plan = session.get(m.UpgradePlan, int(spec["plan_id"]))
            if plan is None:
                raise UpgradeError(f"no upgrade plan {spec['plan_id']}", hint="`nettui upgrade list`")
            if plan.execution_id not in (None, execution_id) and plan.status != UpgradeStatus.SCHEDULED:
                # e.g. a schedule firing for a plan that was run by hand meanwhile
                raise UpgradeError(
                    f"upgrade plan {plan.id} was run by execution {plan.execution_id} ({plan.status.value})",
                    hint=f"plan again, or run it: nettui upgrade run {plan.id}",
                )
            order = list(((plan.pre_check_results or {}).get("request") or {}).get("devices") or [])
        batch = _BATCHES.setdefault(execution_id, _Batch(order, int(spec.get("parallel") or 5), count))
    device = _Device(store, spec, name, execution_id, batch)
    try:
        await batch.enter(name)
        try:
            reason = await asyncio.to_thread(device.stop_reason)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            if reason:
                device.log(f"not started: {reason}")
                await device.update(status="not_started", stage="", error=reason, finished_at=now)
                if reason.startswith("stop rule"):
                    await device.update(plan={"stopped": reason})
                raise StepSkipped(f"{name} not started: {reason}")
            await device.update(status="in_progress", stage="pre-checks", error="", started_at=now)
            return await _upgrade(device)
        finally:
            batch.leave()
    finally:
        batch.left -= 1
        if batch.left <= 0:
            _BATCHES.pop(execution_id, None)


async def _connect(device: _Device, timeout: float | None = None) -> Provider:
    from drivers.connect import connect

    return await connect(device.store, device.name, device.driver, timeout=timeout)


async def _upgrade(device: _Device) -> dict[str, Any]:
    """Stages 1-6 for one device; the plan's record kept current. Raises when not completed."""
    from drivers.connect import prepare_devices
    from nettui.lifecycle import backup

    spec, name = device.spec, device.name
    image = Path(str(spec["image"]))
    target = device.target_version
    changed = False  # whether anything on the device was changed yet (then: revert on failure)
    previous_image = ""
    profile: UpgradeProfile | None = None
    try:
        # 1. pre-checks
        async with await _connect(device) as provider:
            driver = provider.target.network_driver
            profile = upgrade_profile(driver, name)
            pre = await gather_checks(provider, profile)
        previous_image = pre["boot_image"]
        device.log(
            f"pre-checks: version {pre['version']}, boot {pre['boot_image'] or '?'}, "
            f"{len(pre['interfaces_up'])} interface(s) up, {len(pre['lldp_neighbors'])} LLDP neighbour(s), "
            + (f"{len(pre['routes'])} route(s)" if pre["routes"] is not None else "routes not available")
        )
        await device.update(pre=pre, previous_version=pre["version"], previous_image=previous_image)
        if same_version(pre["version"], target):
            device.log(f"already runs {target}: nothing to do")
            await device.update(
                status="completed", stage="done", finished_at=datetime.now(UTC).isoformat(timespec="seconds")
            )
            return {"device": name, "status": "completed", "already": True, "stages": device.stages}

        # 2. backup
        await device.stage("backup")
        run = await backup.run_backups(device.store, [name], driver=device.driver)
        outcome = run.devices[0]
        if not outcome.ok:
            raise UpgradeError(f"backup of {name} failed: {outcome.error}")
        backup_id = outcome.stored.get("running") or await asyncio.to_thread(_latest_backup, device.store, name)
        device.log(f"backup: record {backup_id} ({'new' if outcome.stored.get('running') else 'unchanged'})")
        await device.update(backup_id=backup_id)

        # 3. image transfer
        await device.stage("transfer")
        async with await _connect(device) as provider:
            sent = await provider.put_file(image)
        remote = sent.remote_path
        device.log(
            f"transfer: {remote} "
            + ("already there, " if sent.skipped else f"sent {sent.size:,} bytes in {sent.elapsed:.1f} s, ")
            + f"md5 {sent.remote_md5} verified"
        )
        await device.update(transfer=sent.to_json())
        if await asyncio.to_thread(device.cancel_requested):
            raise UpgradeError(f"{name}: cancelled before the boot image was changed; nothing was changed")

        # 4. boot, save, reload, wait
        await device.stage("boot")
        changed = True
        async with await _connect(device) as provider:
            await set_boot_image(provider, profile, remote)
        device.log(f"boot: {remote}" + (" installed" if profile.install else ", saved"))
        if await asyncio.to_thread(device.cancel_requested):
            raise UpgradeError(f"{name}: cancelled before the reload")
        (prepared,) = await asyncio.to_thread(prepare_devices, device.store, [name])
        await _reload_and_wait(device, prepared.target, profile)

        # 5. post-checks and the comparison
        await device.stage("post-checks")
        async with await _connect(device) as provider:
            post = await gather_checks(provider, profile)
        comparison = compare_checks(pre, post, target)
        device.log(
            f"post-checks: version {post['version']}, {len(post['interfaces_up'])} interface(s) up, "
            f"{len(post['lldp_neighbors'])} LLDP neighbour(s), "
            + (f"{len(post['routes'])} route(s)" if post["routes"] is not None else "routes not available")
            + ": "
            + ("passed" if comparison["passed"] else "FAILED: " + "; ".join(comparison["problems"]))
        )
        await device.update(checks=post, comparison=comparison)
        if comparison["passed"]:
            device.log(f"completed: {name} runs {post['version']}")
            await device.update(
                status="completed", stage="done", finished_at=datetime.now(UTC).isoformat(timespec="seconds")
            )
            return {
                "device": name,
                "status": "completed",
                "version": post["version"],
                "backup_id": backup_id,
                "comparison": comparison,
                "stages": device.stages,
            }

        # 6. rollback
        problems = "; ".join(comparison["problems"])
        rollback = await _rollback(device, profile, pre, previous_image, backup_id)
        await device.update(
            status="rolled_back" if rollback["ok"] else "failed",
            stage="rolled back" if rollback["ok"] else "rollback failed",
            error=f"post-checks failed: {problems}" + ("" if rollback["ok"] else f"; rollback: {rollback['error']}"),
            rollback=rollback,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if rollback["ok"]:
            raise UpgradeError(
                f"{name}: post-checks failed ({problems}); rolled back to {rollback['version']}",
                hint=f"nettui upgrade show {device.plan_id}",
            )
        raise UpgradeError(
            f"{name}: post-checks failed ({problems}) and the rollback did not restore it: {rollback['error']}",
            hint="check the device now",
        )
    except NettuiError as exc:
        text = exc.render()
        done = await asyncio.to_thread(_device_state, device)
        if done.get("status") in ("rolled_back", "failed") and done.get("finished_at"):
            raise
        if changed and previous_image and profile is not None and done.get("stage") == "boot":
            with contextlib.suppress(NettuiError):  # the reload did not happen: put the old boot back
                async with await _connect(device) as provider:
                    await set_boot_image(provider, profile, previous_image)
                device.log(f"boot image set back to {previous_image}")
        device.log(f"failed: {first_line(exc.what)}")
        await device.update(status="failed", error=text, finished_at=datetime.now(UTC).isoformat(timespec="seconds"))
        raise


def _device_state(device: _Device) -> dict[str, Any]:
    with device.store.read_session() as session:
        row = session.get(m.UpgradePlan, device.plan_id)
        return dict(((row.post_check_results or {}).get("devices") or {}).get(device.name) or {}) if row else {}


def _latest_backup(store: Store, name: str) -> int | None:
    with store.read_session() as session:
        rows = session.execute(
            select(m.BackupRecord.id, m.BackupRecord.metadata_)
            .join(m.Device, m.BackupRecord.device_id == m.Device.id)
            .where(m.Device.name == name, m.BackupRecord.backup_type == BackupType.CONFIG)
            .order_by(m.BackupRecord.id.desc())
        ).all()
    for record_id, metadata in rows:
        if str((metadata or {}).get("source", "running")) == "running":
            return int(record_id)
    return None


async def _rollback(
    device: _Device, profile: UpgradeProfile, pre: Mapping[str, Any], previous_image: str, backup_id: int | None
) -> dict[str, Any]:
    """Restore the backed-up configuration and the previous image, reload, verify."""
    from drivers.connect import prepare_devices
    from nettui.lifecycle import backup

    name = device.name
    result: dict[str, Any] = {"ok": False, "error": "", "config_lines": 0, "version": ""}
    try:
        await device.stage("rollback")
        if backup_id is None:
            raise UpgradeError(f"{name}: no configuration backup to restore")
        restore = await backup.plan_restore(device.store, backup_id, driver=device.driver)
        async with await _connect(device) as provider:
            if restore.lines:
                await provider.send_config(restore.lines)
            if previous_image:
                await set_boot_image(provider, profile, previous_image)
            elif profile.save:
                await provider.send_command(profile.save)
        await asyncio.to_thread(backup.record_restore, device.store, backup_id)
        result["config_lines"] = len(restore.lines)
        device.log(f"rollback: {len(restore.lines)} configuration line(s) restored, boot {previous_image or '?'}")
        (prepared,) = await asyncio.to_thread(prepare_devices, device.store, [name])
        await _reload_and_wait(device, prepared.target, profile)
        await device.stage("rollback checks")
        async with await _connect(device) as provider:
            after = await gather_checks(provider, profile)
        check = compare_checks(pre, after, str(pre.get("version") or ""))
        left = await backup.plan_restore(device.store, backup_id, driver=device.driver)
        drift = [line for line in left.lines if not _is_boot_line(line, profile) and line.strip() != "exit"]
        result.update(version=after["version"], checks=after, comparison=check, config_drift=drift)
        problems = list(check["problems"]) + ([f"configuration differs: {'; '.join(drift[:5])}"] if drift else [])
        if problems:
            result["error"] = "; ".join(problems)
            device.log(f"rollback checks FAILED: {result['error']}")
        else:
            result["ok"] = True
            device.log(f"rolled back: {name} runs {after['version']} with its backed-up configuration")
    except NettuiError as exc:
        result["error"] = first_line(exc.render())
        device.log(f"rollback failed: {result['error']}")
    return result


def _is_boot_line(line: str, profile: UpgradeProfile) -> bool:
    if not profile.boot_lines:
        return False
    words = profile.boot_lines[-1].split()[:2]  # "boot system" / "boot nxos"
    text = line.strip().removeprefix("no ").split()
    return text[:2] == words


# -- reload -------------------------------------------------------------------------------------


async def _reload_and_wait(device: _Device, target: DeviceTarget, profile: UpgradeProfile) -> None:
    timeout = float(device.spec.get("reload_timeout") or 900)
    poll = float(device.spec.get("poll_interval") or 2)
    await device.stage("reload")
    await reload_device(target, profile, timeout=min(timeout, 120.0))
    device.log("reload: the device went down")
    await device.stage("wait")
    await wait_for_device(device, timeout=timeout, poll=poll)


async def _read_until(process: Any, patterns: list[re.Pattern[str]], timeout: float, what: str, name: str) -> str:
    seen = ""
    try:
        async with asyncio.timeout(timeout):
            while True:
                for pattern in patterns:
                    if pattern.search(seen):
                        return seen
                chunk = await process.stdout.read(4096)
                if not chunk:
                    raise DeviceError(name, f"the session ended while waiting for {what}: {first_line(seen[-200:])}")
                seen += str(chunk).replace("\r", "")
    except TimeoutError:
        raise DeviceError(name, f"no {what} within {timeout:g} s: {first_line(seen[-200:])}") from None


async def reload_device(target: DeviceTarget, profile: UpgradeProfile, *, timeout: float = 120.0) -> None:
    """Reload the device as an operator does (an interactive session: enable, ``reload``,
    confirm), and wait until it drops the session."""
    import asyncssh

    creds = target.credentials
    try:
        conn = await second_connection(target)
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        reason = first_line(str(exc)) or type(exc).__name__
        raise DeviceUnreachable(target.name, f"no session to reload it: {reason}") from None
    try:
        process = await conn.create_process(term_type="vt100")
        seen = await _read_until(process, [_PROMPT], target.timeout, "prompt", target.name)
        if profile.enable and seen.rstrip().endswith(">"):
            if creds.enable_secret is None:
                raise DeviceError(target.name, "at the user prompt and no enable secret is known to reload it")
            process.stdin.write("enable\n")
            seen = await _read_until(process, [_PASSWORD, re.compile(r"#\s*$")], target.timeout, "enable", target.name)
            if _PASSWORD.search(seen):
                process.stdin.write(creds.enable_secret.reveal() + "\n")
                await _read_until(process, [re.compile(r"#\s*$")], target.timeout, "enable prompt", target.name)
        process.stdin.write(profile.reload + "\n")
        seen = await _read_until(
            process, [_CONFIRM, re.compile(r"\n[^\n]*[>#] ?$")], target.timeout, "reload confirmation", target.name
        )
        found = _CONFIRM.search(seen)
        if found is None:
            raise DeviceError(
                target.name, f"reload refused: {first_line(seen.split(chr(10), 1)[-1])}", command="reload"
            )
        choice = found.group(0).lower()
        answer = "yes" if "yes" in choice else "y" if "y" in choice else ""
        process.stdin.write(answer + "\n")
        try:
            async with asyncio.timeout(timeout):
                while await process.stdout.read(4096):
                    pass
        except TimeoutError:
            raise DeviceError(target.name, f"the device did not go down within {timeout:g} s of the reload") from None
        except (asyncssh.Error, OSError):
            pass  # the connection went away: that is the reload
    except (asyncssh.Error, OSError) as exc:
        raise ConnectionDropped(target.name, f"the reload session failed: {first_line(str(exc))}") from None
    finally:
        conn.close()


async def wait_for_device(device: _Device, *, timeout: float, poll: float) -> None:
    """Poll until the device takes a session again (bounded by ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    attempts = 0
    while True:
        attempts += 1
        try:
            left = max(1.0, min(15.0, deadline - loop.time()))
            provider = await _connect(device, timeout=left)
            await provider.close()
            device.log(f"wait: back after {attempts} attempt(s)")
            return
        except (DeviceUnreachable, ConnectionDropped) as exc:
            if loop.time() + poll > deadline:
                raise UpgradeError(
                    f"{device.name} did not come back within {timeout:g} s of the reload ({first_line(exc.what)})",
                    hint="check the device's console; the plan keeps its backup for a manual rollback",
                ) from None
            await asyncio.sleep(poll)
