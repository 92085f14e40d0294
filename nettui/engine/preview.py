"""What a workflow run will change, before it runs: the configuration each task step renders
per device, and which of its lines the device does not have yet (against the device's latest
configuration backup, when there is one). Renders only; never touches a device.

Approvers read this for an execution waiting for them; a form shows it before submitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import models as m
from catalog.context import InputError, inventory_contexts, validate_inputs
from catalog.errors import NettuiError, NotFoundError
from catalog.matching import NoImplementationError, select_implementation
from catalog.models.choices import BackupType, StepType
from catalog.rendering import RenderError, evaluate, render_template
from nettui.engine.runner import _resolve_mapping, merged_inputs


@dataclass(frozen=True)
class ChangePreview:
    """What one task step would send to one device."""

    device: str
    step: str
    implementation: str = ""
    content: str = ""
    error: str = ""
    current_config: str | None = None
    """The device's configuration from its latest backup; None when none is known."""
    backup_at: datetime | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)
    """(mark, line) per rendered line: "+" when the device lacks it, " " when it has it.
    Empty when the current configuration is unknown."""

    @property
    def new_lines(self) -> int:
        return sum(1 for mark, _ in self.lines if mark == "+")


def latest_config(session: Session, device_id: int) -> tuple[str, datetime] | None:
    """The newest configuration backup of a device and when it was taken, if any."""
    backup = session.scalars(
        select(m.BackupRecord)
        .where(m.BackupRecord.device_id == device_id, m.BackupRecord.backup_type == BackupType.CONFIG)
        .order_by(m.BackupRecord.backup_timestamp.desc(), m.BackupRecord.id.desc())
        .limit(1)
    ).first()
    return (backup.backup_data, backup.backup_timestamp) if backup is not None else None


def mark_new_lines(content: str, current: str, network_os: str) -> list[tuple[str, str]]:
    """Each non-empty rendered line, marked "+" when the current configuration lacks it.
    Hierarchy-aware through netutils when it knows the platform; line by line otherwise."""
    current_lines = {line.strip() for line in current.splitlines() if line.strip()}
    missing: set[str] | None = None
    try:
        from netutils.config.compliance import diff_network_config

        missing = {line.strip() for line in diff_network_config(content, current, network_os).splitlines()}
    except Exception:  # netutils knows no parser for this platform, or cannot parse the text
        missing = None
    marked = []
    for line in content.splitlines():
        if not line.strip():
            continue
        stripped = line.strip()
        if missing is None:
            new = stripped not in current_lines
        else:
            # netutils repeats a parent line ("interface X") to place new children; a parent
            # the device already has is context, not a change.
            new = stripped in missing and not (line == line.lstrip() and stripped in current_lines)
        marked.append(("+" if new else " ", line))
    return marked


def _workflow(session: Session, slug: str) -> m.Workflow:
    workflow = session.scalars(
        select(m.Workflow)
        .where(m.Workflow.slug == slug)
        .options(
            selectinload(m.Workflow.steps)
            .selectinload(m.WorkflowStep.task)
            .selectinload(m.TaskDefinition.implementations)
            .selectinload(m.TaskImplementation.platform),
            selectinload(m.Workflow.steps)
            .selectinload(m.WorkflowStep.task)
            .selectinload(m.TaskDefinition.implementations)
            .selectinload(m.TaskImplementation.manufacturer),
        )
    ).one_or_none()
    if workflow is None:
        raise NotFoundError(f"no workflow '{slug}'")
    return workflow


def preview_changes(
    session: Session,
    workflow_slug: str,
    device_names: list[str],
    inputs: dict[str, Any],
    *,
    saved: dict[str, dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
    after_order: int = 0,
) -> list[ChangePreview]:
    """Render every task step of the workflow for every device, as the engine would (same
    context, input mapping and implementation choice), with the diff against the latest
    backup. ``saved`` is what earlier steps of a paused execution added per device, and steps
    up to ``after_order`` are left out (they ran before it paused). A step
    that cannot render says why in ``error``; nothing is raised for one device's trouble."""
    workflow = _workflow(session, workflow_slug)
    devices = list(
        session.scalars(
            select(m.Device)
            .where(m.Device.name.in_(device_names))
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
    values = merged_inputs(workflow, inputs)
    contexts = inventory_contexts(session, devices)
    run_meta = {"preview": True, **(meta or {})}
    steps = sorted(
        (s for s in workflow.steps if s.step_type == StepType.TASK and s.task and s.order > after_order),
        key=lambda s: s.order,
    )
    previews = []
    for device in devices:
        context = {
            **contexts[device.id],
            "inputs": values,
            "facts": {},
            "meta": run_meta,
            **(saved or {}).get(device.name, {}),
        }
        backup = latest_config(session, device.id)
        network_os = device.platform.network_driver if device.platform else ""
        for step in steps:
            assert step.task is not None
            try:
                if step.condition and not evaluate(step.condition, context, where=f"step '{step.name}' condition"):
                    continue
                step_inputs = _resolve_mapping(step.input_mapping, context, f"step '{step.name}' input_mapping")
                impl = select_implementation(step.task, device)
                validate_inputs(step.task.input_schema, step_inputs, where=f"task '{step.task.slug}' inputs")
                content = render_template(
                    impl.template_content, {**context, "intended": step_inputs}, where=f"implementation '{impl.slug}'"
                )
            except (NettuiError, RenderError, InputError, NoImplementationError) as exc:
                previews.append(ChangePreview(device=device.name, step=step.name, error=exc.render()))
                continue
            previews.append(
                ChangePreview(
                    device=device.name,
                    step=step.name,
                    implementation=impl.slug,
                    content=content,
                    current_config=backup[0] if backup else None,
                    backup_at=backup[1] if backup else None,
                    lines=mark_new_lines(content, backup[0], network_os) if backup else [],
                )
            )
    return previews


def preview_execution(session: Session, execution_id: int) -> list[ChangePreview]:
    """What an execution (typically one awaiting approval) will change on its devices."""
    execution = session.scalars(
        select(m.Execution)
        .where(m.Execution.id == execution_id)
        .options(
            selectinload(m.Execution.workflow),
            selectinload(m.Execution.target_devices),
            selectinload(m.Execution.requested_by),
        )
    ).one_or_none()
    if execution is None:
        raise NotFoundError(f"no execution {execution_id}")
    return preview_changes(
        session,
        execution.workflow.slug,
        [d.name for d in execution.target_devices],
        dict(execution.inputs),
        saved=dict(execution.context.get("devices") or {}),
        meta={"execution": execution.id, "requested_by": execution.requested_by.username},
        after_order=int(execution.context.get("paused_at") or 0),
    )
