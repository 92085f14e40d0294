"""Which implementation of a task runs on a device, and why the others do not.

An enabled implementation is a candidate for a device when its manufacturer is the device's,
its platform (when set) has the device platform's network driver, and its
``software_version_pattern`` (when set) matches the device's software version. Candidates are
ranked by priority (higher first), then by specificity (platform set, version pattern set),
then by slug, so the choice is the same on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netutils.os_version import compare_version_loose
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.errors import NettuiError
from catalog.models import Device, Manufacturer, TaskDefinition, TaskImplementation

_RANGE_START = re.compile(r"^\s*(>=|<=|==|!=|>|<)")
_SPECIFIER = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([0-9A-Za-z][0-9A-Za-z.()\-_]*)\s*$")


class PatternError(NettuiError):
    """A software_version_pattern that is neither a valid regex nor a valid range."""


class NoImplementationError(NettuiError):
    """No implementation of a task fits a device; ``verdicts`` says why for each candidate."""

    def __init__(self, task: TaskDefinition, device: Device, verdicts: list[Verdict]) -> None:
        self.verdicts = verdicts
        lines = [f"  - {v.implementation.slug}: {v.reason}" for v in verdicts] or ["  (the task has none)"]
        super().__init__(
            f"no implementation of task '{task.slug}' fits device '{device.name}' "
            f"({describe_device(device)}):\n" + "\n".join(lines),
            hint=f"add or enable an implementation; `nettui catalog explain {task.slug} --device {device.name}`",
        )


def is_range(pattern: str) -> bool:
    """A range (``>=15.0,<16.0``) rather than a regex (``17.*``)."""
    return bool(_RANGE_START.match(pattern))


def check_pattern(pattern: str) -> None:
    """Raise PatternError when ``pattern`` cannot be used."""
    if not pattern:
        return
    if is_range(pattern):
        for part in pattern.split(","):
            if not _SPECIFIER.match(part):
                raise PatternError(
                    f"bad version range {pattern!r}: {part.strip()!r} is not OPERATOR VERSION",
                    hint='write ranges as ">=15.0,<16.0" (operators: >= <= > < == !=)',
                )
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PatternError(
            f"bad version regex {pattern!r}: {exc}", hint='use a regex such as "17\\..*" or a range ">=17.0,<18.0"'
        ) from None


def version_matches(pattern: str, version: str) -> tuple[bool, str]:
    """Does ``version`` satisfy ``pattern``? Returns the answer and the reason, in words."""
    if not pattern:
        return True, "any version"
    check_pattern(pattern)
    if not version:
        return False, f"device has no software version to compare with {pattern!r}"
    if is_range(pattern):
        for part in pattern.split(","):
            found = _SPECIFIER.match(part)
            assert found is not None  # check_pattern vouched for it
            op, bound = found.groups()
            try:
                ok = compare_version_loose(version, op, bound)
            except (TypeError, ValueError) as exc:
                return False, f"cannot compare version {version!r} with {bound!r}: {exc}"
            if not ok:
                return False, f"version {version} is not {op} {bound}"
        return True, f"version {version} is in {pattern}"
    if re.fullmatch(pattern, version):
        return True, f"version {version} matches /{pattern}/"
    return False, f"version {version} does not match /{pattern}/"


def device_manufacturer(device: Device) -> Manufacturer | None:
    """The device's manufacturer, or else its platform's."""
    if device.manufacturer is not None:
        return device.manufacturer
    return device.platform.manufacturer if device.platform is not None else None


def describe_device(device: Device) -> str:
    found = device_manufacturer(device)
    manufacturer = found.name if found else "no manufacturer"
    driver = device.platform.network_driver if device.platform else "no platform"
    return f"{manufacturer}, {driver}, version {device.software_version or 'unknown'}"


@dataclass(frozen=True)
class Verdict:
    implementation: TaskImplementation
    accepted: bool
    reason: str

    @property
    def rank(self) -> tuple[int, int, int, str]:
        impl = self.implementation
        return (-impl.priority, 0 if impl.platform_id else 1, 0 if impl.software_version_pattern else 1, impl.slug)


def judge(implementation: TaskImplementation, device: Device) -> Verdict:
    """Accept or reject one implementation for one device, with the reason."""
    impl = implementation
    if not impl.enabled:
        return Verdict(impl, False, "disabled")
    manufacturer = device_manufacturer(device)
    if manufacturer is None:
        return Verdict(impl, False, "device has no manufacturer (set it, or its platform's)")
    if impl.manufacturer_id != manufacturer.id:
        return Verdict(impl, False, f"manufacturer {impl.manufacturer.name} is not the device's {manufacturer.name}")
    if impl.platform is not None:
        if device.platform is None:
            return Verdict(impl, False, f"needs platform {impl.platform.network_driver}; device has none")
        if impl.platform.network_driver != device.platform.network_driver:
            return Verdict(
                impl,
                False,
                f"platform {impl.platform.network_driver} is not the device's {device.platform.network_driver}",
            )
    try:
        ok, why = version_matches(impl.software_version_pattern, device.software_version)
    except PatternError as exc:
        return Verdict(impl, False, exc.what)
    if not ok:
        return Verdict(impl, False, why)
    parts = [f"manufacturer {impl.manufacturer.name}"]
    parts.append(f"platform {impl.platform.network_driver}" if impl.platform else "any platform")
    parts.append(why)
    return Verdict(impl, True, f"matches: {', '.join(parts)}; priority {impl.priority}")


def explain(task: TaskDefinition, device: Device) -> list[Verdict]:
    """Every implementation of ``task`` judged for ``device``: accepted ones first, best first."""
    verdicts = [judge(impl, device) for impl in task.implementations]
    return sorted(verdicts, key=lambda v: (not v.accepted, v.rank))


def select_implementation(task: TaskDefinition, device: Device) -> TaskImplementation:
    """The implementation to run, or NoImplementationError listing every candidate and why."""
    verdicts = explain(task, device)
    if verdicts and verdicts[0].accepted:
        return verdicts[0].implementation
    raise NoImplementationError(task, device, verdicts)


def resolve_implementation(session: Session, task_slug: str, device_name: str) -> TaskImplementation:
    """Load the task and device by name and select the implementation for them."""
    task = session.scalars(
        select(TaskDefinition)
        .where(TaskDefinition.slug == task_slug)
        .options(
            selectinload(TaskDefinition.implementations).selectinload(TaskImplementation.platform),
            selectinload(TaskDefinition.implementations).selectinload(TaskImplementation.manufacturer),
        )
    ).one_or_none()
    if task is None:
        raise NettuiError(f"no task '{task_slug}'", hint="`nettui catalog list --kind task` lists them")
    device = session.scalars(select(Device).where(Device.name == device_name)).one_or_none()
    if device is None:
        raise NettuiError(f"no device '{device_name}'", hint="`nettui inventory list` lists them")
    return select_implementation(task, device)
