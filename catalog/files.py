"""The catalog file format: one YAML file per object, each with a ``kind``.

These pydantic models *are* the format. Field names are the data model's. A task file holds
the task and its implementations; a workflow file its steps (in order); a request form file its
fields (in order). References to other objects are by slug (tasks, workflows) or by name
(providers, secrets groups, sites, tenants, tags); manufacturers and platforms are named by
slug or name, platforms also by their network driver (``cisco_ios``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from catalog.models.choices import (
    CheckType,
    FieldType,
    ImplementationType,
    ObjectType,
    OnFailure,
    Severity,
    StepType,
)
from catalog.naming import is_valid_slug


def _slug(value: str) -> str:
    if not is_valid_slug(value):
        raise ValueError(f"bad slug {value!r}: use lowercase letters, digits, '-' and '_' (for example 'change-vlan')")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Name = Annotated[str, Field(min_length=1, max_length=255)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class CheckSpec(_Strict):
    """A pre- or post-check: run ``command`` (optional) and require ``expect`` to be true.

    ``expect`` is a Jinja2 expression over the render context plus ``output`` (the command's
    text) and ``parsed`` (its TextFSM parse, when a template exists).
    """

    name: str = ""
    command: str = ""
    expect: str = Field(min_length=1)


class ImplementationFile(_Strict):
    slug: Slug
    name: Name
    manufacturer: str = Field(min_length=1)
    platform: str | None = None
    software_version_pattern: str = ""
    priority: int = 0
    implementation_type: ImplementationType
    template_content: str = ""
    action_config: dict[str, Any] = Field(default_factory=dict)
    pre_checks: list[CheckSpec] = Field(default_factory=list)
    post_checks: list[CheckSpec] = Field(default_factory=list)
    provider: str | None = None
    enabled: bool = True


class TaskFile(_Strict):
    kind: Literal["task"] = "task"
    slug: Slug
    name: Name
    description: str = ""
    category: str = ""
    tags: list[str] = Field(default_factory=list)
    input_schema: dict[str, Any] = Field(default_factory=dict)
    output_schema: dict[str, Any] = Field(default_factory=dict)
    documentation: str = ""
    implementations: list[ImplementationFile] = Field(default_factory=list)


class StepFile(_Strict):
    name: Name
    step_type: StepType
    task: str | None = None
    input_mapping: dict[str, Any] = Field(default_factory=dict)
    output_mapping: dict[str, Any] = Field(default_factory=dict)
    condition: str = ""
    on_failure: OnFailure = OnFailure.STOP
    config: dict[str, Any] = Field(default_factory=dict)


class WorkflowFile(_Strict):
    kind: Literal["workflow"] = "workflow"
    slug: Slug
    name: Name
    description: str = ""
    category: str = ""
    version: str = Field(default="1.0.0", pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
    enabled: bool = True
    approval_required: bool = False
    schedule_allowed: bool = False
    input_schema: dict[str, Any] = Field(default_factory=dict)
    default_inputs: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepFile] = Field(default_factory=list)


class ValidationRules(_Strict):
    """Checks a form applies as the user types."""

    regex: str | None = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)


class FormFieldFile(_Strict):
    field_name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    field_type: FieldType
    label: Name
    help_text: str = ""
    required: bool = False
    default_value: Any = None
    validation_rules: ValidationRules = Field(default_factory=ValidationRules)
    choices: list[Any] = Field(default_factory=list)
    object_type: ObjectType | None = None
    queryset_filter: dict[str, Any] = Field(default_factory=dict)
    depends_on: str | None = None
    show_condition: str = ""


class RequestFormFile(_Strict):
    kind: Literal["request_form"] = "request_form"
    slug: Slug
    name: Name
    description: str = ""
    workflow: str = Field(min_length=1)
    published: bool = False
    category: str = ""
    icon: str = ""
    fields: list[FormFieldFile] = Field(default_factory=list)


class MatchRules(_Strict):
    """Which devices a compliance check applies to; empty lists match everything."""

    platforms: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class ComplianceCheckFile(_Strict):
    kind: Literal["compliance_check"] = "compliance_check"
    slug: Slug
    name: Name
    description: str = ""
    check_type: CheckType
    standard: str = ""
    severity: Severity = Severity.WARNING
    check_logic: str = ""
    remediation_workflow: str | None = None
    match_rules: MatchRules = Field(default_factory=MatchRules)


class ProviderFile(_Strict):
    kind: Literal["provider"] = "provider"
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    driver_class: str = Field(min_length=1, pattern=r"^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$")
    description: str = ""
    capabilities: list[str] = Field(default_factory=list)
    supported_platforms: list[str] = Field(default_factory=list)


class ProviderConfigFile(_Strict):
    kind: Literal["provider_config"] = "provider_config"
    name: Name
    provider: str = Field(min_length=1)
    scope_sites: list[str] = Field(default_factory=list)
    scope_tenants: list[str] = Field(default_factory=list)
    scope_tags: list[str] = Field(default_factory=list)
    credentials: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


CatalogFile = TaskFile | WorkflowFile | RequestFormFile | ComplianceCheckFile | ProviderFile | ProviderConfigFile

KINDS: dict[str, type[CatalogFile]] = {
    "task": TaskFile,
    "workflow": WorkflowFile,
    "request_form": RequestFormFile,
    "compliance_check": ComplianceCheckFile,
    "provider": ProviderFile,
    "provider_config": ProviderConfigFile,
}

# Where `nettui catalog export` writes each kind.
FOLDERS = {
    "task": "tasks",
    "workflow": "workflows",
    "request_form": "forms",
    "compliance_check": "checks",
    "provider": "providers",
    "provider_config": "provider-configs",
}


def key_of(item: CatalogFile) -> str:
    """The identity an object is upserted by: its slug, or its name for providers."""
    return item.name if isinstance(item, ProviderFile | ProviderConfigFile) else item.slug
