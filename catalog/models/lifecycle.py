"""Lifecycle records: backups, compliance, upgrades, discovery and recorded sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped, choice_type, utcnow
from catalog.models.catalog import Workflow
from catalog.models.choices import (
    BackupType,
    CheckType,
    ComplianceStatus,
    DiscoveryType,
    JobStatus,
    SessionStatus,
    SessionType,
    Severity,
    UpgradeStatus,
)
from catalog.models.execution import Execution
from catalog.models.identity import User
from catalog.models.inventory import Device


class BackupRecord(Base):
    """A configuration (text) or OS image / full backup (file reference) of one device."""

    __tablename__ = "backup_record"
    __table_args__ = (CheckConstraint("restore_count >= 0", name="restore_count_not_negative"),)

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    backup_type: Mapped[BackupType] = mapped_column(choice_type(BackupType), default=BackupType.CONFIG)
    backup_data: Mapped[str] = mapped_column(Text, default="", doc="Configuration text, or a file reference")
    backup_method: Mapped[str] = mapped_column(String(100), default="", doc="CLI, API, Golden Config, ...")
    backup_timestamp: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    validated: Mapped[bool] = mapped_column(default=False)
    restore_count: Mapped[int] = mapped_column(default=0)
    # "metadata" is reserved by SQLAlchemy's declarative base, hence the trailing underscore.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)

    device: Mapped[Device] = relationship()


class ComplianceCheck(Timestamped, Base):
    """A reusable policy check, applied to the devices its match_rules select."""

    __tablename__ = "compliance_check"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    check_type: Mapped[CheckType] = mapped_column(choice_type(CheckType))
    standard: Mapped[str] = mapped_column(String(100), default="", doc="DISA STIG, CIS Benchmark, DORA, custom")
    severity: Mapped[Severity] = mapped_column(choice_type(Severity), default=Severity.WARNING)
    check_logic: Mapped[str] = mapped_column(Text, default="")
    remediation_workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflow.id", ondelete="SET NULL"))
    match_rules: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="platform, role, site, tags")

    remediation_workflow: Mapped[Workflow | None] = relationship()


class ComplianceRun(Base):
    __tablename__ = "compliance_run"
    __table_args__ = (CheckConstraint("device_id IS NOT NULL OR scope_query IS NOT NULL", name="device_or_scope"),)

    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    scope_query: Mapped[dict[str, Any] | None] = mapped_column(doc="Filter selecting many devices")
    check_id: Mapped[int] = mapped_column(ForeignKey("compliance_check.id", ondelete="CASCADE"), index=True)
    status: Mapped[ComplianceStatus] = mapped_column(choice_type(ComplianceStatus))
    result_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remediation_execution_id: Mapped[int | None] = mapped_column(ForeignKey("execution.id", ondelete="SET NULL"))
    run_timestamp: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    device: Mapped[Device | None] = relationship()
    check: Mapped[ComplianceCheck] = relationship()
    remediation_execution: Mapped[Execution | None] = relationship()
    requested_by: Mapped[User | None] = relationship()


class UpgradePlan(Timestamped, Base):
    __tablename__ = "upgrade_plan"
    __table_args__ = (CheckConstraint("device_id IS NOT NULL OR scope_query IS NOT NULL", name="device_or_scope"),)

    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    scope_query: Mapped[dict[str, Any] | None] = mapped_column(doc="Filter selecting many devices")
    current_version: Mapped[str] = mapped_column(String(100), default="")
    target_version: Mapped[str] = mapped_column(String(100))
    upgrade_workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflow.id", ondelete="RESTRICT"))
    status: Mapped[UpgradeStatus] = mapped_column(choice_type(UpgradeStatus), default=UpgradeStatus.PLANNED)
    pre_check_results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    post_check_results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    backup_reference_id: Mapped[int | None] = mapped_column(ForeignKey("backup_record.id", ondelete="SET NULL"))
    scheduled_time: Mapped[datetime | None]
    execution_id: Mapped[int | None] = mapped_column(ForeignKey("execution.id", ondelete="SET NULL"))

    device: Mapped[Device | None] = relationship()
    upgrade_workflow: Mapped[Workflow | None] = relationship()
    backup_reference: Mapped[BackupRecord | None] = relationship()
    execution: Mapped[Execution | None] = relationship()


class DiscoveryJob(Base):
    __tablename__ = "discovery_job"
    __table_args__ = (
        CheckConstraint(
            "devices_discovered >= 0 AND devices_created >= 0 AND devices_updated >= 0", name="counts_not_negative"
        ),
    )

    discovery_type: Mapped[DiscoveryType] = mapped_column(choice_type(DiscoveryType))
    discovery_config: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Ranges, secrets groups, settings")
    status: Mapped[JobStatus] = mapped_column(choice_type(JobStatus), default=JobStatus.PENDING)
    devices_discovered: Mapped[int] = mapped_column(default=0)
    devices_created: Mapped[int] = mapped_column(default=0)
    devices_updated: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list, doc="[{address, reason}]")
    run_timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    requested_by: Mapped[User | None] = relationship()


class SessionRecord(Base):
    """An audited terminal session through the bastion. Kept even when the user or device goes
    away, so deleting either is refused while records point at it."""

    __tablename__ = "session_record"

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    session_start: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    session_end: Mapped[datetime | None]
    session_type: Mapped[SessionType] = mapped_column(choice_type(SessionType), default=SessionType.SSH)
    commands_executed: Mapped[list[Any]] = mapped_column(default=list, doc="[{command, timestamp, result}]")
    session_log: Mapped[str] = mapped_column(Text, default="", doc="Redacted transcript")
    status: Mapped[SessionStatus] = mapped_column(choice_type(SessionStatus), default=SessionStatus.ACTIVE)
    recording_path: Mapped[str] = mapped_column(String(1024), default="", doc="asciicast v2 file")
    bastion: Mapped[str] = mapped_column(
        String(255), default="", doc="The bastion process serving it (its engine_node name), to close it if that dies"
    )

    device: Mapped[Device] = relationship()
    user: Mapped[User] = relationship()
