"""Every entity of the data model, as SQLAlchemy 2.x typed models on one metadata."""

from catalog.models.base import Base, JSONType, UTCDateTime, utcnow
from catalog.models.catalog import (
    Provider,
    ProviderConfig,
    RequestForm,
    RequestFormField,
    TaskDefinition,
    TaskImplementation,
    Workflow,
    WorkflowStep,
)
from catalog.models.execution import Execution, ExecutionStep
from catalog.models.git import GitRepository, GitSyncRecord
from catalog.models.identity import SecretsGroup, SecretsGroupEntry, SshPublicKey, User
from catalog.models.inventory import (
    VLAN,
    VRF,
    Device,
    DeviceRole,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    Tag,
    Tenant,
)
from catalog.models.lifecycle import (
    BackupRecord,
    ComplianceCheck,
    ComplianceRun,
    DiscoveryJob,
    SessionRecord,
    UpgradePlan,
)

__all__ = [
    "VLAN",
    "VRF",
    "BackupRecord",
    "Base",
    "ComplianceCheck",
    "ComplianceRun",
    "Device",
    "DeviceRole",
    "DiscoveryJob",
    "Execution",
    "ExecutionStep",
    "GitRepository",
    "GitSyncRecord",
    "IPAddress",
    "Interface",
    "JSONType",
    "Location",
    "Manufacturer",
    "Platform",
    "Prefix",
    "Provider",
    "ProviderConfig",
    "RequestForm",
    "RequestFormField",
    "SecretsGroup",
    "SecretsGroupEntry",
    "SessionRecord",
    "SshPublicKey",
    "Tag",
    "TaskDefinition",
    "TaskImplementation",
    "Tenant",
    "UTCDateTime",
    "UpgradePlan",
    "User",
    "Workflow",
    "WorkflowStep",
    "utcnow",
]
