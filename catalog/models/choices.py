"""Every fixed set of choices in the data model, spelled exactly as the data model spells it."""

from __future__ import annotations

from enum import StrEnum


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    PLANNED = "planned"
    STAGED = "staged"
    FAILED = "failed"
    OFFLINE = "offline"
    INVENTORY = "inventory"
    DECOMMISSIONING = "decommissioning"


class IPAMStatus(StrEnum):
    """Status of VLANs, prefixes and IP addresses."""

    ACTIVE = "active"
    RESERVED = "reserved"
    DEPRECATED = "deprecated"
    CONTAINER = "container"


class InterfaceMode(StrEnum):
    ACCESS = "access"
    TAGGED = "tagged"
    TAGGED_ALL = "tagged-all"


class UserRole(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


class SecretBackend(StrEnum):
    KEYRING = "keyring"
    ENV = "env"
    FILE = "file"


class ImplementationType(StrEnum):
    JINJA2_CONFIG = "jinja2_config"
    JINJA2_PAYLOAD = "jinja2_payload"
    API_CALL = "api_call"
    GRAPHQL_QUERY = "graphql_query"
    PYTHON_HOOK = "python_hook"


class StepType(StrEnum):
    TASK = "task"
    VALIDATION = "validation"
    APPROVAL = "approval"
    NOTIFICATION = "notification"
    CONDITION = "condition"
    WAIT = "wait"


class OnFailure(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    SKIP_REMAINING = "skip_remaining"


class FieldType(StrEnum):
    OBJECT_SELECTOR = "object_selector"
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    BOOLEAN = "boolean"


class ObjectType(StrEnum):
    """Kinds of store objects an object_selector field can offer (the data model's ContentType)."""

    DEVICE = "device"
    INTERFACE = "interface"
    VLAN = "vlan"
    VRF = "vrf"
    PREFIX = "prefix"
    IP_ADDRESS = "ip_address"
    LOCATION = "location"
    TENANT = "tenant"
    TAG = "tag"
    PLATFORM = "platform"
    MANUFACTURER = "manufacturer"
    DEVICE_ROLE = "device_role"


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class BackupType(StrEnum):
    CONFIG = "config"
    OS_IMAGE = "os_image"
    FULL = "full"


class CheckType(StrEnum):
    CONFIG_TEMPLATE = "config_template"
    GRAPHQL_QUERY = "graphql_query"
    API_CALL = "api_call"
    PYTHON_HOOK = "python_hook"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class ComplianceStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class UpgradeStatus(StrEnum):
    PLANNED = "planned"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class DiscoveryType(StrEnum):
    IP_RANGE = "ip_range"
    CIDR = "cidr"
    CSV_IMPORT = "csv_import"
    CONTROLLER_API = "controller_api"
    LLDP_CRAWL = "lldp_crawl"


class JobStatus(StrEnum):
    """Status of a discovery job."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class SessionType(StrEnum):
    SSH = "ssh"
    CONSOLE = "console"
    API = "api"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class GitDirection(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class GitSyncStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CONFLICT = "conflict"


class ScheduleTrigger(StrEnum):
    DATE = "date"
    INTERVAL = "interval"
    CRON = "cron"
