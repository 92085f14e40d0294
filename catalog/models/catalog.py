"""The catalog: tasks and their platform implementations, workflows, request forms, providers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, JSONType, Timestamped, choice_type
from catalog.models.choices import FieldType, ImplementationType, ObjectType, OnFailure, StepType
from catalog.models.identity import SecretsGroup
from catalog.models.inventory import Location, Manufacturer, Platform, Tag, Tenant, _m2m

task_definition_tags = _m2m("task_definition_tags", "task_definition", "tag")
provider_supported_platforms = _m2m("provider_supported_platforms", "provider", "platform")
provider_config_scope_sites = _m2m("provider_config_scope_sites", "provider_config", "location")
provider_config_scope_tenants = _m2m("provider_config_scope_tenants", "provider_config", "tenant")
provider_config_scope_tags = _m2m("provider_config_scope_tags", "provider_config", "tag")


class TaskDefinition(Timestamped, Base):
    """An abstract, vendor-agnostic operation ("Change VLAN")."""

    __tablename__ = "task_definition"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    input_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    documentation: Mapped[str] = mapped_column(Text, default="", doc="Markdown help text")

    tags: Mapped[list[Tag]] = relationship(secondary=task_definition_tags, order_by="Tag.name")
    implementations: Mapped[list[TaskImplementation]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True, order_by="TaskImplementation.name"
    )


class Provider(Timestamped, Base):
    """A driver type for talking to devices or systems (netmiko, scrapli, http_api, nautobot...)."""

    __tablename__ = "provider"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    driver_class: Mapped[str] = mapped_column(doc="Python path of the driver class")
    description: Mapped[str] = mapped_column(Text, default="")
    capabilities: Mapped[list[Any]] = mapped_column(default=list)

    supported_platforms: Mapped[list[Platform]] = relationship(
        secondary=provider_supported_platforms, order_by="Platform.name"
    )
    configs: Mapped[list[ProviderConfig]] = relationship(back_populates="provider")


class ProviderConfig(Timestamped, Base):
    """An instance of a provider with its settings, credentials and the devices it serves."""

    __tablename__ = "provider_config"

    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(unique=True)
    credentials_id: Mapped[int | None] = mapped_column(ForeignKey("secrets_group.id", ondelete="RESTRICT"))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)

    provider: Mapped[Provider] = relationship(back_populates="configs")
    credentials: Mapped[SecretsGroup | None] = relationship()
    scope_sites: Mapped[list[Location]] = relationship(secondary=provider_config_scope_sites, order_by="Location.name")
    scope_tenants: Mapped[list[Tenant]] = relationship(secondary=provider_config_scope_tenants, order_by="Tenant.name")
    scope_tags: Mapped[list[Tag]] = relationship(secondary=provider_config_scope_tags, order_by="Tag.name")


class TaskImplementation(Timestamped, Base):
    """How to do a task on one vendor, platform and software range ("Change VLAN - Cisco IOS-XE")."""

    __tablename__ = "task_implementation"
    __table_args__ = (UniqueConstraint("task_id", "name"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("task_definition.id", ondelete="CASCADE"), index=True)
    name: Mapped[str]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturer.id", ondelete="RESTRICT"))
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="RESTRICT"))
    software_version_pattern: Mapped[str] = mapped_column(String(100), default="", doc='"17.*" or ">=15.0,<16.0"')
    priority: Mapped[int] = mapped_column(default=0, doc="Higher wins")
    implementation_type: Mapped[ImplementationType] = mapped_column(choice_type(ImplementationType))
    template_content: Mapped[str] = mapped_column(Text, default="")
    action_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pre_checks: Mapped[list[Any]] = mapped_column(default=list)
    post_checks: Mapped[list[Any]] = mapped_column(default=list)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id", ondelete="RESTRICT"))
    enabled: Mapped[bool] = mapped_column(default=True)

    task: Mapped[TaskDefinition] = relationship(back_populates="implementations")
    manufacturer: Mapped[Manufacturer] = relationship()
    platform: Mapped[Platform | None] = relationship()
    provider: Mapped[Provider | None] = relationship()


class Workflow(Timestamped, Base):
    """An end-to-end automation: ordered steps, inputs, approval and scheduling rules."""

    __tablename__ = "workflow"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[str] = mapped_column(String(50), default="1.0.0", doc="Semantic version")
    enabled: Mapped[bool] = mapped_column(default=True)
    approval_required: Mapped[bool] = mapped_column(default=False)
    schedule_allowed: Mapped[bool] = mapped_column(default=False)
    input_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)

    steps: Mapped[list[WorkflowStep]] = relationship(
        back_populates="workflow", cascade="all, delete-orphan", passive_deletes=True, order_by="WorkflowStep.order"
    )


class WorkflowStep(Timestamped, Base):
    __tablename__ = "workflow_step"
    __table_args__ = (
        UniqueConstraint("workflow_id", "order"),
        UniqueConstraint("workflow_id", "name"),
        CheckConstraint("step_type <> 'task' OR task_id IS NOT NULL", name="task_step_names_task"),
    )

    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"))
    order: Mapped[int]
    name: Mapped[str]
    step_type: Mapped[StepType] = mapped_column(choice_type(StepType))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task_definition.id", ondelete="RESTRICT"))
    input_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    condition: Mapped[str] = mapped_column(Text, default="", doc="Jinja2 expression; empty means always")
    on_failure: Mapped[OnFailure] = mapped_column(choice_type(OnFailure), default=OnFailure.STOP)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)

    workflow: Mapped[Workflow] = relationship(back_populates="steps")
    task: Mapped[TaskDefinition | None] = relationship()


class RequestForm(Timestamped, Base):
    """A self-service portal form that exposes a workflow."""

    __tablename__ = "request_form"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id", ondelete="RESTRICT"), index=True)
    published: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str] = mapped_column(String(100), default="")
    icon: Mapped[str] = mapped_column(String(50), default="")

    workflow: Mapped[Workflow] = relationship()
    fields: Mapped[list[RequestFormField]] = relationship(
        back_populates="form",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RequestFormField.order",
        foreign_keys="RequestFormField.form_id",
    )


class RequestFormField(Timestamped, Base):
    __tablename__ = "request_form_field"
    __table_args__ = (
        UniqueConstraint("form_id", "field_name"),
        UniqueConstraint("form_id", "order"),
        CheckConstraint("field_type <> 'object_selector' OR object_type IS NOT NULL", name="selector_has_object_type"),
        CheckConstraint("depends_on_id IS NULL OR depends_on_id <> id", name="not_own_dependency"),
    )

    form_id: Mapped[int] = mapped_column(ForeignKey("request_form.id", ondelete="CASCADE"))
    order: Mapped[int]
    field_name: Mapped[str] = mapped_column(String(100), doc="The workflow input this field fills")
    field_type: Mapped[FieldType] = mapped_column(choice_type(FieldType))
    label: Mapped[str]
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    default_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    validation_rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    choices: Mapped[list[Any]] = mapped_column(default=list)
    object_type: Mapped[ObjectType | None] = mapped_column(choice_type(ObjectType))
    queryset_filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    depends_on_id: Mapped[int | None] = mapped_column(ForeignKey("request_form_field.id", ondelete="SET NULL"))
    show_condition: Mapped[str] = mapped_column(Text, default="", doc="Jinja2 expression")

    form: Mapped[RequestForm] = relationship(back_populates="fields", foreign_keys=[form_id])
    depends_on: Mapped[RequestFormField | None] = relationship(remote_side="RequestFormField.id")
