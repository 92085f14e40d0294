"""Approvals: an approver who is not the requester approves or rejects, with a comment.

An execution that ends while it waits (rejected, timed out, cancelled) has no runner to undo
what its steps before the approval registered as undoable (e.g. a Nautobot change made before
the device push): it is undone here, once the decision is committed, and each outcome recorded
on the registering step ("... reverted (the approval was rejected by boss)" or "... NOT
reverted (...): why"), as the runner records it (nettui.engine.undo)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NotFoundError
from catalog.models.choices import ExecutionStatus, StepStatus, UserRole
from catalog.store import Store
from nettui.engine.runner import ExecutionError, record_event
from nettui.engine.undo import undo_pending_now

APPROVER_ROLES = (UserRole.APPROVER, UserRole.ADMIN)
CANCEL_WHY = "the execution was cancelled"  # as the runner says it


def awaiting_approval(session: Any) -> list[m.Execution]:
    """Executions waiting for a decision, oldest first."""
    return list(
        session.scalars(
            select(m.Execution)
            .where(m.Execution.status == ExecutionStatus.AWAITING_APPROVAL)
            .options(
                selectinload(m.Execution.workflow),
                selectinload(m.Execution.requested_by),
                selectinload(m.Execution.target_devices),
            )
            .order_by(m.Execution.id)
        )
    )


def decide(store: Store, execution_id: int, approver: str, *, approve: bool, comment: str) -> ExecutionStatus:
    """Approve (the execution becomes pending, to run or resume) or reject (cancelled, with
    the reason; what earlier steps registered as undoable is undone). Refused: a requester
    deciding on their own request, a non-approver, no comment, or an execution that is not
    awaiting approval."""
    if not comment.strip():
        raise ExecutionError("a decision needs a comment", hint='--comment "why"')
    with store.session() as session:
        execution = session.scalars(
            select(m.Execution).where(m.Execution.id == execution_id).options(selectinload(m.Execution.requested_by))
        ).one_or_none()
        if execution is None:
            raise NotFoundError(f"no execution {execution_id}", hint="`nettui approvals list`")
        user = session.scalars(select(m.User).where(m.User.username == approver)).one_or_none()
        if user is None or not user.is_active:
            raise ExecutionError(f"no active user '{approver}'")
        if user.id == execution.requested_by_id:
            raise ExecutionError(
                f"{approver} requested execution {execution_id} and cannot approve or reject it",
                hint="another approver decides",
            )
        if user.role not in APPROVER_ROLES:
            raise ExecutionError(f"user '{approver}' is {user.role.value}, not an approver")
        new_status = ExecutionStatus.PENDING if approve else ExecutionStatus.CANCELLED
        values: dict[str, Any] = {"status": new_status}
        if approve:
            values["approved_by_id"] = user.id
        else:
            values["completed_at"] = m.utcnow()
        # One conditional UPDATE: two approvers deciding at once cannot both win.
        result: Any = session.execute(
            update(m.Execution)
            .where(m.Execution.id == execution_id, m.Execution.status == ExecutionStatus.AWAITING_APPROVAL)
            .values(**values)
        )
        changed = result.rowcount
        if changed != 1:
            raise ExecutionError(f"execution {execution_id} is {execution.status.value}, not awaiting approval")
        session.refresh(execution)
        context = dict(execution.context)
        paused_at = context.pop("paused_at", None)
        if paused_at is not None:
            context["resume_after"] = paused_at
            step = session.scalars(
                select(m.ExecutionStep).where(
                    m.ExecutionStep.execution_id == execution_id,
                    m.ExecutionStep.order == paused_at,
                    m.ExecutionStep.status == StepStatus.PENDING,
                )
            ).first()
            if step is not None:
                step.status = StepStatus.COMPLETED if approve else StepStatus.FAILED
                step.completed_at = m.utcnow()
                step.logs += f"{'approved' if approve else 'rejected'} by {approver}: {comment}\n"
        if not approve:
            context["rejected"] = True
        execution.context = context
        record_event(session, execution_id, "approved" if approve else "rejected", comment, user.id)
    if not approve:  # what steps before the approval changed (e.g. in Nautobot) is undone now
        undo_pending_now(store, execution_id, f"the approval was rejected by {approver}")
    return new_status


def cancel(store: Store, execution_id: int, actor: str, *, reason: str = "") -> ExecutionStatus:
    """Cancel an execution: at once if it has not started (or waits for approval: what earlier
    steps registered as undoable is undone then), otherwise at its next safe point (before the
    next step, or within a second of a wait), where the runner undoes it."""
    with store.session() as session:
        execution = session.get(m.Execution, execution_id)
        if execution is None:
            raise NotFoundError(f"no execution {execution_id}", hint="`nettui executions list`")
        user = session.scalars(select(m.User).where(m.User.username == actor)).one_or_none()
        if user is None or not user.is_active:
            raise ExecutionError(f"no active user '{actor}'")
        if user.id != execution.requested_by_id and user.role not in (UserRole.ADMIN, UserRole.APPROVER):
            raise ExecutionError(f"only the requester, an approver or an admin may cancel execution {execution_id}")
        waiting = (ExecutionStatus.PENDING, ExecutionStatus.SCHEDULED, ExecutionStatus.AWAITING_APPROVAL)
        result: Any = session.execute(
            update(m.Execution)
            .where(m.Execution.id == execution_id, m.Execution.status.in_(waiting))
            .values(status=ExecutionStatus.CANCELLED, completed_at=m.utcnow())
        )
        cancelled = result.rowcount == 1
        if cancelled:
            record_event(session, execution_id, "cancelled", reason, user.id)
        elif execution.status != ExecutionStatus.RUNNING:
            raise ExecutionError(f"execution {execution_id} is {execution.status.value}: nothing to cancel")
        else:
            record_event(session, execution_id, "cancel_requested", reason, user.id)
            return ExecutionStatus.RUNNING
    # A running execution undoes at its safe point; one that waited (for approval, or to resume
    # after it) has no runner: what its earlier steps registered as undoable is undone now.
    undo_pending_now(store, execution_id, CANCEL_WHY)
    return ExecutionStatus.CANCELLED


def expire_approvals(store: Store) -> list[int]:
    """Reject the executions whose approval step timed out; their ids."""
    from datetime import datetime

    now = m.utcnow()
    expired = []
    with store.session() as session:
        for execution in awaiting_approval(session):
            deadline = execution.context.get("approval_deadline")
            if not deadline or datetime.fromisoformat(deadline) > now:
                continue
            result: Any = session.execute(
                update(m.Execution)
                .where(m.Execution.id == execution.id, m.Execution.status == ExecutionStatus.AWAITING_APPROVAL)
                .values(status=ExecutionStatus.CANCELLED, completed_at=now)
            )
            if result.rowcount != 1:
                continue
            execution.context = {**execution.context, "rejected": True}
            session.execute(
                update(m.ExecutionStep)
                .where(m.ExecutionStep.execution_id == execution.id, m.ExecutionStep.status == StepStatus.PENDING)
                .values(status=StepStatus.FAILED, completed_at=now, error_message="approval timed out")
            )
            record_event(session, execution.id, "rejected", "approval timed out")
            expired.append(execution.id)
    for execution_id in expired:
        undo_pending_now(store, execution_id, "the approval timed out")
    return expired
