"""One object of every model, with every field set to a non-default value.

Used to prove that every field round-trips on both databases and that constraints hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from catalog import models as m
from catalog.models import choices as c

T0 = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)


def build_graph(session: Session) -> dict[type[m.Base], m.Base]:
    """Add one fully populated object of every model to ``session`` and flush."""
    manufacturer = m.Manufacturer(name="Cisco", slug="cisco", description="Cisco Systems")
    platform = m.Platform(
        name="Cisco IOS-XE",
        slug="cisco-ios-xe",
        manufacturer=manufacturer,
        network_driver="cisco_ios",
        description="IOS-XE 17",
    )
    region = m.Location(name="Europe", slug="europe", location_type="region", description="EU")
    site = m.Location(name="Paris DC1", slug="paris-dc1", location_type="site", parent=region, description="DC")
    tenant = m.Tenant(name="Blue Corp", slug="blue-corp", description="customer")
    tag = m.Tag(name="Core", slug="core", color="ff0000", description="core layer")
    role = m.DeviceRole(name="Access Switch", slug="access-switch", description="edge")
    secrets = m.SecretsGroup(name="lab-creds", description="lab devices")
    entry = m.SecretsGroupEntry(group=secrets, name="password", backend=c.SecretBackend.ENV, reference="LAB_PASSWORD")
    device = m.Device(
        name="par-sw1",
        host="192.0.2.10",
        ssh_port=2201,
        manufacturer=manufacturer,
        platform=platform,
        model="C9300-48P",
        role=role,
        status=c.DeviceStatus.STAGED,
        location=site,
        tenant=tenant,
        software_version="17.9.4a",
        serial="FOC1234X0AB",
        secrets_group=secrets,
        tags=[tag],
    )
    vlan = m.VLAN(
        vid=123, name="users", location=site, tenant=tenant, status=c.IPAMStatus.RESERVED, description="user vlan"
    )
    interface = m.Interface(
        device=device,
        name="GigabitEthernet1/0/1",
        type="1000base-t",
        enabled=False,
        description="desk 12",
        mode=c.InterfaceMode.TAGGED,
        untagged_vlan=vlan,
        mtu=9000,
        mac_address="00:11:22:33:44:55",
        tagged_vlans=[vlan],
    )
    vrf = m.VRF(name="BLUE", rd="65000:1", tenant=tenant, description="blue vrf")
    prefix = m.Prefix(
        prefix="10.0.0.0/24",
        vrf=vrf,
        location=site,
        tenant=tenant,
        vlan=vlan,
        status=c.IPAMStatus.CONTAINER,
        description="users",
    )
    address = m.IPAddress(
        address="10.0.0.1/24",
        vrf=vrf,
        interface=interface,
        tenant=tenant,
        status=c.IPAMStatus.DEPRECATED,
        dns_name="gw.example.net",
        description="gateway",
    )
    user = m.User(
        username="alice",
        full_name="Alice Martin",
        email="alice@example.net",
        role=c.UserRole.APPROVER,
        is_active=False,
        scope_locations=[site],
        scope_tenants=[tenant],
        scope_tags=[tag],
        scope_roles=[role],
    )
    requester = m.User(username="bob", full_name="Bob", email="bob@example.net", role=c.UserRole.OPERATOR)
    key = m.SshPublicKey(
        user=user,
        key_type="ssh-ed25519",
        public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA",
        fingerprint="SHA256:abc",
        comment="alice@laptop",
    )
    task = m.TaskDefinition(
        name="Change VLAN",
        slug="change-vlan",
        description="set access vlan",
        category="Configuration",
        input_schema={"type": "object", "properties": {"vlan": {"type": "integer"}}},
        output_schema={"type": "object"},
        tags=[tag],
        documentation="# Change VLAN",
    )
    provider = m.Provider(
        name="netmiko",
        driver_class="drivers.netmiko:NetmikoProvider",
        description="SSH CLI",
        capabilities=["send_commands", "send_config"],
        supported_platforms=[platform],
    )
    provider_config = m.ProviderConfig(
        provider=provider,
        name="Lab SSH",
        credentials=secrets,
        settings={"timeout": 30, "retries": 2},
        enabled=False,
        scope_sites=[site],
        scope_tenants=[tenant],
        scope_tags=[tag],
    )
    implementation = m.TaskImplementation(
        task=task,
        name="Change VLAN - Cisco IOS-XE",
        slug="change-vlan-cisco-ios-xe",
        manufacturer=manufacturer,
        platform=platform,
        software_version_pattern=">=17.0,<18.0",
        priority=10,
        implementation_type=c.ImplementationType.JINJA2_CONFIG,
        template_content="interface {{ intended.port.name }}\n switchport access vlan {{ intended.port.vlan }}",
        action_config={"method": "POST"},
        pre_checks=[{"command": "show vlan brief"}],
        post_checks=[{"command": "show interfaces status"}],
        provider=provider,
        enabled=False,
    )
    workflow = m.Workflow(
        name="Access port change",
        slug="access-port-change",
        description="change a port",
        category="Access",
        version="1.2.3",
        enabled=False,
        approval_required=True,
        schedule_allowed=True,
        input_schema={"type": "object", "required": ["device"]},
        default_inputs={"vlan": 1},
    )
    step = m.WorkflowStep(
        workflow=workflow,
        order=1,
        name="Change VLAN",
        step_type=c.StepType.TASK,
        task=task,
        input_mapping={"vlan": "{{ inputs.vlan }}"},
        output_mapping={"result": "{{ outputs }}"},
        condition="{{ inputs.vlan > 1 }}",
        on_failure=c.OnFailure.SKIP_REMAINING,
        config={"dry_run": True},
    )
    form = m.RequestForm(
        name="Change my port",
        slug="change-my-port",
        description="self service",
        workflow=workflow,
        published=True,
        category="Access",
        icon="🔌",
    )
    device_field = m.RequestFormField(
        form=form,
        order=1,
        field_name="device",
        field_type=c.FieldType.OBJECT_SELECTOR,
        label="Device",
        help_text="pick one",
        required=True,
        default_value="par-sw1",
        validation_rules={"length": {"min": 1}},
        choices=[],
        object_type=c.ObjectType.DEVICE,
        queryset_filter={"status": "active"},
        show_condition="",
    )
    vlan_field = m.RequestFormField(
        form=form,
        order=2,
        field_name="vlan",
        field_type=c.FieldType.CHOICE,
        label="VLAN",
        help_text="vlan id",
        required=False,
        default_value=10,
        validation_rules={"range": {"min": 1, "max": 4094}},
        choices=[10, 20],
        object_type=c.ObjectType.VLAN,
        queryset_filter={"location": "{{ device.location }}"},
        depends_on=device_field,
        show_condition="{{ device }}",
    )
    execution = m.Execution(
        workflow=workflow,
        request_form=form,
        requested_by=requester,
        approved_by=user,
        status=c.ExecutionStatus.AWAITING_APPROVAL,
        inputs={"vlan": 20},
        context={"step1": {"ok": True}},
        scheduled_for=T0 + timedelta(hours=1),
        created_at=T0,
        started_at=T0,
        completed_at=T0 + timedelta(minutes=5),
        target_devices=[device],
        owner="engine-host:4242",
        heartbeat_at=T0,
    )
    execution_step = m.ExecutionStep(
        execution=execution,
        workflow_step=step,
        device=device,
        order=1,
        status=c.StepStatus.SKIPPED,
        started_at=T0,
        completed_at=T0 + timedelta(seconds=3),
        task_implementation=implementation,
        rendered_content="interface Gi1/0/1",
        inputs={"vlan": 20},
        outputs={"changed": True},
        logs="connected\n",
        error_message="none",
    )
    backup = m.BackupRecord(
        device=device,
        backup_type=c.BackupType.FULL,
        backup_data="hostname par-sw1\nend\n",
        backup_method="CLI",
        backup_timestamp=T0,
        validated=True,
        restore_count=2,
        metadata_={"version": "17.9.4a"},
    )
    check = m.ComplianceCheck(
        name="NTP servers",
        slug="ntp-servers",
        description="ntp configured",
        check_type=c.CheckType.PYTHON_HOOK,
        standard="CIS Benchmark",
        severity=c.Severity.CRITICAL,
        check_logic="ntp server 10.0.0.1",
        remediation_workflow=workflow,
        match_rules={"platform": ["cisco_ios"]},
    )
    compliance_run = m.ComplianceRun(
        device=device,
        scope_query={"location": "paris-dc1"},
        check=check,
        status=c.ComplianceStatus.ERROR,
        result_data={"missing": ["ntp server 10.0.0.1"]},
        remediation_execution=execution,
        run_timestamp=T0,
        requested_by=user,
    )
    upgrade = m.UpgradePlan(
        device=device,
        scope_query={"role": "access-switch"},
        current_version="17.9.4a",
        target_version="17.12.1",
        upgrade_workflow=workflow,
        status=c.UpgradeStatus.ROLLED_BACK,
        pre_check_results={"interfaces_up": 48},
        post_check_results={"interfaces_up": 47},
        backup_reference=backup,
        scheduled_time=T0,
        execution=execution,
    )
    discovery = m.DiscoveryJob(
        discovery_type=c.DiscoveryType.LLDP_CRAWL,
        discovery_config={"seed": "par-sw1", "depth": 2},
        status=c.JobStatus.FAILED,
        devices_discovered=5,
        devices_created=3,
        devices_updated=1,
        errors=[{"address": "10.0.0.9", "reason": "timeout"}],
        run_timestamp=T0,
        requested_by=user,
    )
    session_record = m.SessionRecord(
        device=device,
        user=user,
        session_start=T0,
        session_end=T0 + timedelta(minutes=2),
        session_type=c.SessionType.CONSOLE,
        commands_executed=[{"command": "show version", "timestamp": T0.isoformat(), "result": "ok"}],
        session_log="par-sw1#show version\n",
        status=c.SessionStatus.TERMINATED,
        recording_path="/rec/1.cast",
        bastion="bastion bastion-host:4242:1a2b3c",
    )
    repo = m.GitRepository(
        name="Network catalog",
        slug="network-catalog",
        remote_url="https://git.example.net/net/catalog.git",
        branch="prod",
        path="catalog/",
        provides=["tasks", "workflows"],
        credentials=secrets,
    )
    git_sync = m.GitSyncRecord(
        repository=repo,
        direction=c.GitDirection.EXPORT,
        commit_sha="0123456789abcdef" * 2 + "01234567",
        status=c.GitSyncStatus.CONFLICT,
        started_at=T0,
        completed_at=T0 + timedelta(seconds=4),
        message="conflict on tasks/change-vlan.yaml",
        errors=[{"path": "tasks/change-vlan.yaml"}],
    )
    host_key = m.DeviceHostKey(
        device=device,
        key_type="ssh-ed25519",
        public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB",
        fingerprint="SHA256:x",
    )
    event = m.ExecutionEvent(execution=execution, at=T0, actor=user, kind="approved", detail="looks good")
    lock = m.DeviceLock(device=device, execution=execution, owner="engine-host:4242", acquired_at=T0)
    schedule = m.Schedule(
        name="nightly ntp",
        workflow=workflow,
        trigger="cron",
        expression="0 2 * * *",
        devices=["par-sw1"],
        inputs={"vlan": 20},
        requested_by=requester,
        enabled=False,
        last_fired_at=T0,
    )
    node = m.EngineNode(
        name="engine-host:4242",
        roles=["worker", "scheduler"],
        active_scheduler=True,
        started_at=T0,
        heartbeat_at=T0,
        stopped_at=T0,
    )
    refusal = m.BastionEvent(
        occurred_at=T0,
        event="refused",
        username="mallory",
        device="par-sw1",
        source="192.0.2.9:50022",
        reason="device out of scope",
    )
    second_factor = m.BastionSecondFactor(user=user, secrets_group=secrets, entry="totp")
    nautobot = m.InventorySource(
        name="nautobot http://nb.example.net",
        kind="nautobot",
        url="http://nb.example.net",
        last_synced_at=T0,
        last_summary={"changed": 3},
    )
    device_ref = m.ExternalRef(
        source=nautobot,
        kind="devices",
        object_id=1,
        external_id="3f1c9a2e-0000-4000-8000-000000000001",
        missing_since=T0,
    )
    objects: list[Any] = [
        nautobot,
        device_ref,
        refusal,
        second_factor,
        node,
        schedule,
        host_key,
        lock,
        event,
        manufacturer,
        platform,
        site,
        tenant,
        tag,
        role,
        secrets,
        entry,
        device,
        vlan,
        interface,
        vrf,
        prefix,
        address,
        user,
        key,
        task,
        provider,
        provider_config,
        implementation,
        workflow,
        step,
        form,
        vlan_field,
        execution,
        execution_step,
        backup,
        check,
        compliance_run,
        upgrade,
        discovery,
        session_record,
        repo,
        git_sync,
    ]
    session.add_all(objects)
    session.flush()
    return {type(obj): obj for obj in objects}
