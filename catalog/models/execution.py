"""The audit trail of workflow runs: one Execution per run, one ExecutionStep per step and device."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped, choice_type, utcnow
from catalog.models.catalog import RequestForm, TaskImplementation, Workflow, WorkflowStep
from catalog.models.choices import ExecutionStatus, ScheduleTrigger, StepStatus
from catalog.models.identity import User
from catalog.models.inventory import Device, _m2m

execution_target_devices = _m2m("execution_target_devices", "execution", "device")


class Execution(Base):
    __tablename__ = "execution"

    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id", ondelete="RESTRICT"), index=True)
    request_form_id: Mapped[int | None] = mapped_column(ForeignKey("request_form.id", ondelete="SET NULL"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    status: Mapped[ExecutionStatus] = mapped_column(
        choice_type(ExecutionStatus), default=ExecutionStatus.PENDING, index=True
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Snapshot of every input")
    context: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Context accumulated while running")
    scheduled_for: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Which engine process runs it ("host:pid") and when that process last said it was alive:
    # how a restarted engine tells an interrupted execution from one still running elsewhere.
    owner: Mapped[str] = mapped_column(String(255), default="")
    heartbeat_at: Mapped[datetime | None]

    workflow: Mapped[Workflow] = relationship()
    request_form: Mapped[RequestForm | None] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    target_devices: Mapped[list[Device]] = relationship(secondary=execution_target_devices, order_by="Device.name")
    steps: Mapped[list[ExecutionStep]] = relationship(
        back_populates="execution",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(ExecutionStep.order, ExecutionStep.id)",
    )


class ExecutionStep(Base):
    """What one workflow step did on one device (or on none, for steps that touch no device)."""

    __tablename__ = "execution_step"

    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"), index=True)
    workflow_step_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_step.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    order: Mapped[int]
    status: Mapped[StepStatus] = mapped_column(choice_type(StepStatus), default=StepStatus.PENDING)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    task_implementation_id: Mapped[int | None] = mapped_column(
        ForeignKey("task_implementation.id", ondelete="SET NULL")
    )
    rendered_content: Mapped[str] = mapped_column(Text, default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    logs: Mapped[str] = mapped_column(Text, default="")
    error_message: Mapped[str] = mapped_column(Text, default="")

    execution: Mapped[Execution] = relationship(back_populates="steps")
    workflow_step: Mapped[WorkflowStep | None] = relationship()
    device: Mapped[Device | None] = relationship()
    task_implementation: Mapped[TaskImplementation | None] = relationship()


class ExecutionEvent(Base):
    """A state change of an execution: who did what, when, and why (approvals, rejections,
    cancellations, starts and ends). Append-only."""

    __tablename__ = "execution_event"

    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(50), doc="submitted, approved, rejected, started, paused, finished")
    detail: Mapped[str] = mapped_column(Text, default="")

    execution: Mapped[Execution] = relationship()
    actor: Mapped[User | None] = relationship()


class DeviceLock(Base):
    """At most one execution changes a device at a time, across processes: taking the lock is
    one INSERT that the primary key lets only one writer win."""

    __tablename__ = "device_lock"

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), unique=True)
    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)

    device: Mapped[Device] = relationship()
    execution: Mapped[Execution] = relationship()


class Schedule(Timestamped, Base):
    """A workflow that runs by itself: once at a time, every interval, or on a cron line.
    The engine's scheduler (APScheduler, its jobs in the same store) fires it."""

    __tablename__ = "schedule"

    name: Mapped[str] = mapped_column(unique=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[ScheduleTrigger] = mapped_column(choice_type(ScheduleTrigger))
    expression: Mapped[str] = mapped_column(String(255), doc="ISO time, 15m / 2h / 1d, or a cron line")
    devices: Mapped[list[Any]] = mapped_column(default=list, doc="device names")
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    enabled: Mapped[bool] = mapped_column(default=True)
    last_fired_at: Mapped[datetime | None]

    workflow: Mapped[Workflow] = relationship()
    requested_by: Mapped[User] = relationship()


class EngineNode(Base):
    """A running engine: `nettui engine` (runner, worker, scheduler) or a TUI's embedded engine.
    Each says it is alive every few seconds; the CLI hands executions over only to a live one."""

    __tablename__ = "engine_node"

    name: Mapped[str] = mapped_column(String(255), unique=True, doc="host:pid")
    roles: Mapped[list[Any]] = mapped_column(default=list, doc="runner, worker, scheduler")
    active_scheduler: Mapped[bool] = mapped_column(default=False, doc="fires schedules now (one at a time)")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
