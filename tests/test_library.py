"""The built-in library: it loads cleanly, every implementation renders the configuration an
engineer expects (golden files), its checks judge real device output correctly, bad intent is
refused with JSON paths, and the library imports into a real store idempotently.

Golden files: ``tests/golden/<implementation-slug>/`` holds ``context.yaml`` (the render
context, as ``catalog.context.build_context`` makes it) and ``expected.txt`` (the rendered
configuration), plus optionally ``checks.yaml`` (device output for the pre- and post-checks,
and whether each check passes on it). Sub-folders with their own ``context.yaml`` are further
cases. ``tests/golden/checks/<check-slug>/<network-driver>/`` does the same for compliance
checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import models as m
from catalog.context import InputError, build_context, validate_inputs
from catalog.files import ComplianceCheckFile, ImplementationFile, RequestFormFile, TaskFile, WorkflowFile
from catalog.loader import LoadedFile, load_catalog
from catalog.models.choices import DeviceStatus, InterfaceMode, IPAMStatus, StepType
from catalog.rendering import evaluate, render_template
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, export_catalog, import_catalog

GOLDEN = Path(__file__).parent / "golden"
CHECK_GOLDEN = GOLDEN / "checks"
PLATFORMS = {"cisco_ios": "Cisco", "cisco_nxos": "Cisco", "arista_eos": "Arista", "juniper_junos": "Juniper"}
CONTEXT_KEYS = ["device", "interfaces", "vlans", "vrfs", "prefixes", "ip_addresses", "intended", "facts", "meta"]

LIBRARY = load_catalog(LIBRARY_DIR)


def _items(kind: type[Any]) -> list[Any]:
    return [f.item for f in LIBRARY.of_kind(kind)]


TASKS: dict[str, TaskFile] = {t.slug: t for t in _items(TaskFile)}
WORKFLOWS: dict[str, WorkflowFile] = {w.slug: w for w in _items(WorkflowFile)}
FORMS: dict[str, RequestFormFile] = {f.slug: f for f in _items(RequestFormFile)}
CHECKS: dict[str, ComplianceCheckFile] = {c.slug: c for c in _items(ComplianceCheckFile)}
IMPLEMENTATIONS: dict[str, tuple[TaskFile, ImplementationFile]] = {
    impl.slug: (task, impl) for task in TASKS.values() for impl in task.implementations
}


def _cases(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds a context.yaml."""
    return sorted(p.parent for p in root.rglob("context.yaml")) if root.is_dir() else []


def _case_id(case: Path) -> str:
    return case.relative_to(GOLDEN).as_posix()


IMPLEMENTATION_CASES = [case for slug in IMPLEMENTATIONS for case in _cases(GOLDEN / slug)]
CHECK_CASES = _cases(CHECK_GOLDEN)
CHECK_OUTPUT_CASES = [case for case in IMPLEMENTATION_CASES if (case / "checks.yaml").is_file()]


def _implementation_of(case: Path) -> tuple[TaskFile, ImplementationFile]:
    return IMPLEMENTATIONS[case.relative_to(GOLDEN).parts[0]]


def _context(case: Path) -> dict[str, Any]:
    context = yaml.safe_load((case / "context.yaml").read_text(encoding="utf-8"))
    assert isinstance(context, dict)
    return context


def _expected(case: Path) -> str:
    return (case / "expected.txt").read_text(encoding="utf-8")


# -- the library as a whole ---------------------------------------------------------------------


def test_library_loads_without_problems() -> None:
    catalog = load_catalog(LIBRARY_DIR)
    assert [str(p) for p in catalog.problems] == []
    assert len(TASKS) >= 8
    assert len(WORKFLOWS) >= 4
    assert len(FORMS) >= 4
    assert len(CHECKS) >= 5


def test_every_task_has_one_implementation_per_platform() -> None:
    for task in TASKS.values():
        found = {impl.platform: impl.manufacturer for impl in task.implementations}
        assert found == PLATFORMS, task.slug
        for impl in task.implementations:
            assert impl.slug == f"{task.slug}-{impl.platform.replace('_', '-')}"  # type: ignore[union-attr]
            assert impl.priority == 100
            assert impl.software_version_pattern == ""
            assert impl.enabled
            assert impl.template_content.endswith("\n"), impl.slug


def test_every_task_is_documented_with_strict_schemas() -> None:
    for task in TASKS.values():
        assert task.description and task.category and task.documentation.startswith("# "), task.slug
        assert task.input_schema.get("type") == "object", task.slug
        assert task.output_schema.get("type") == "object", task.slug
        for key, schema in task.input_schema.get("properties", {}).items():
            assert schema.get("additionalProperties") is False, f"{task.slug}: intended.{key} allows unknown keys"


@pytest.mark.parametrize("slug", sorted(IMPLEMENTATIONS))
def test_every_implementation_has_a_golden_pair(slug: str) -> None:
    assert (GOLDEN / slug / "context.yaml").is_file(), f"add tests/golden/{slug}/context.yaml"
    assert (GOLDEN / slug / "expected.txt").is_file(), f"add tests/golden/{slug}/expected.txt"


def test_every_golden_folder_belongs_to_something_in_the_library() -> None:
    implementation_dirs = {p.name for p in GOLDEN.iterdir() if p.is_dir() and p != CHECK_GOLDEN}
    assert implementation_dirs - set(IMPLEMENTATIONS) == set()
    check_dirs = {p.name for p in CHECK_GOLDEN.iterdir() if p.is_dir()}
    assert check_dirs == set(CHECKS)
    for case in IMPLEMENTATION_CASES + CHECK_CASES:
        assert (case / "expected.txt").is_file(), f"{_case_id(case)} has a context but no expected.txt"


# -- golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", IMPLEMENTATION_CASES, ids=_case_id)
def test_implementation_renders_its_golden_config(case: Path) -> None:
    task, impl = _implementation_of(case)
    context = _context(case)
    assert list(context) == CONTEXT_KEYS
    assert context["device"]["platform"]["network_driver"] == impl.platform
    validate_inputs(task.input_schema, context["intended"], where=_case_id(case))
    rendered = render_template(impl.template_content, context, where=impl.slug)
    assert rendered == _expected(case)


@pytest.mark.parametrize("case", IMPLEMENTATION_CASES, ids=_case_id)
def test_every_check_renders_its_command_and_evaluates_its_expectation(case: Path) -> None:
    _, impl = _implementation_of(case)
    context = _context(case)
    for check in impl.pre_checks + impl.post_checks:
        command = render_template(check.command, context, where=check.name)
        assert command.strip() and "\n" not in command.strip()
        for output in ("", "% Invalid input detected at '^' marker.\n"):
            assert isinstance(evaluate(check.expect, {**context, "output": output}, where=check.name), bool)


@pytest.mark.parametrize("case", CHECK_OUTPUT_CASES, ids=_case_id)
def test_checks_judge_device_output_correctly(case: Path) -> None:
    _, impl = _implementation_of(case)
    context = _context(case)
    checks = {c.name: c for c in impl.pre_checks + impl.post_checks}
    assert len(checks) == len(impl.pre_checks) + len(impl.post_checks), "check names must be unique"
    samples = yaml.safe_load((case / "checks.yaml").read_text(encoding="utf-8"))
    for sample in samples:
        check = checks[sample["check"]]
        assert render_template(check.command, context) == sample["command"]
        passed = evaluate(check.expect, {**context, "output": sample["output"]}, where=check.name)
        assert passed is sample["passed"], f"{check.name!r} on:\n{sample['output']}"


@pytest.mark.parametrize("case", CHECK_CASES, ids=_case_id)
def test_compliance_check_renders_its_golden_config(case: Path) -> None:
    check = CHECKS[case.relative_to(CHECK_GOLDEN).parts[0]]
    context = _context(case)
    driver = context["device"]["platform"]["network_driver"]
    assert driver == case.relative_to(CHECK_GOLDEN).parts[1]
    assert driver in check.match_rules.platforms
    assert render_template(check.check_logic, context, where=check.slug) == _expected(case)


def test_every_compliance_check_has_a_golden_pair_per_platform() -> None:
    for check in CHECKS.values():
        assert check.check_type == "config_template" and check.standard and check.severity, check.slug
        assert sorted(check.match_rules.platforms) == sorted(PLATFORMS), check.slug
        for driver in check.match_rules.platforms:
            assert (CHECK_GOLDEN / check.slug / driver / "expected.txt").is_file(), f"{check.slug} on {driver}"


def test_junos_ntp_source_interface_without_an_address_fails_loudly() -> None:
    _, impl = IMPLEMENTATIONS["set-ntp-servers-juniper-junos"]
    context = _context(GOLDEN / "set-ntp-servers-juniper-junos")
    context["intended"]["ntp"]["source_interface"] = "lo0.5"
    with pytest.raises(Exception, match="undefined"):
        render_template(impl.template_content, context)


# -- golden contexts are what the store renders -------------------------------------------------


def _store_inventory(session: Any, golden: dict[str, Any]) -> m.Device:
    """Create the golden context's inventory in the store; returns the device."""
    d = golden["device"]
    cache: dict[tuple[type[Any], str], Any] = {}

    def named(model: type[Any], data: dict[str, Any] | None, **extra: Any) -> Any:
        if data is None:
            return None
        key = (model, data["name"])
        if key not in cache:
            cache[key] = model(name=data["name"], slug=data["slug"], **extra)
            session.add(cache[key])
        return cache[key]

    manufacturer = named(m.Manufacturer, d["manufacturer"])
    location = named(m.Location, d["location"])
    vrfs = {v["name"]: m.VRF(name=v["name"], rd=v["rd"], description=v["description"]) for v in golden["vrfs"]}
    vlans = {
        v["vid"]: m.VLAN(
            vid=v["vid"],
            name=v["name"],
            status=IPAMStatus(v["status"]),
            description=v["description"],
            location=location,
        )
        for v in golden["vlans"]
    }
    session.add_all([*vrfs.values(), *vlans.values()])
    device = m.Device(
        name=d["name"],
        host=d["host"],
        ssh_port=d["ssh_port"],
        manufacturer=manufacturer,
        platform=m.Platform(
            name=d["platform"]["name"],
            slug=d["platform"]["slug"],
            network_driver=d["platform"]["network_driver"],
            manufacturer=manufacturer,
        ),
        model=d["model"],
        role=named(m.DeviceRole, d["role"]),
        status=DeviceStatus(d["status"]),
        location=location,
        tenant=named(m.Tenant, d["tenant"]),
        tags=[m.Tag(name=t, slug=t) for t in d["tags"]],
        software_version=d["software_version"],
        serial=d["serial"],
    )
    for i in golden["interfaces"]:
        device.interfaces.append(
            m.Interface(
                name=i["name"],
                type=i["type"],
                enabled=i["enabled"],
                description=i["description"],
                mode=InterfaceMode(i["mode"]) if i["mode"] else None,
                untagged_vlan=vlans[i["untagged_vlan"]["vid"]] if i["untagged_vlan"] else None,
                tagged_vlans=[vlans[v["vid"]] for v in i["tagged_vlans"]],
                mtu=i["mtu"],
                mac_address=i["mac_address"],
                ip_addresses=[
                    m.IPAddress(
                        address=a["address"], vrf=vrfs[a["vrf"]] if a["vrf"] else None, status=IPAMStatus(a["status"])
                    )
                    for a in i["ip_addresses"]
                ],
            )
        )
    for p in golden["prefixes"]:
        session.add(
            m.Prefix(
                prefix=p["prefix"],
                vrf=vrfs[p["vrf"]] if p["vrf"] else None,
                status=IPAMStatus(p["status"]),
                location=location,
            )
        )
    session.add(device)
    session.flush()
    return device


@pytest.mark.parametrize("driver", sorted(PLATFORMS))
def test_golden_contexts_are_what_the_store_renders(sqlite_store: Store, driver: str) -> None:
    cases = [c for c in IMPLEMENTATION_CASES if _context(c)["device"]["platform"]["network_driver"] == driver]
    golden = _context(cases[0])
    with sqlite_store.session() as session:
        device = _store_inventory(session, golden)
        built = build_context(session, device, golden["intended"])
    built["meta"].pop("timestamp")
    assert built == golden
    for case in cases[1:]:  # every other golden context of this platform shows the same inventory
        other = _context(case)
        assert {k: v for k, v in other.items() if k != "intended"} == {
            k: v for k, v in golden.items() if k != "intended"
        }, _case_id(case)


# -- inputs -------------------------------------------------------------------------------------


def _errors(task: str, intended: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as info:
        validate_inputs(TASKS[task].input_schema, intended, where=f"task '{task}' inputs")
    return info.value.errors


def test_bad_port_intent_is_refused_with_json_paths() -> None:
    errors = _errors(
        "change-vlan",
        {"port": {"name": "Gi1/0/1", "mode": "hybrid", "untagged_vlan": 5000, "tagged_vlans": [10, 4095], "speed": 1}},
    )
    paths = {path for path, _ in errors}
    assert {"$.port", "$.port.mode", "$.port.untagged_vlan", "$.port.tagged_vlans[1]"} <= paths
    messages = "\n".join(f"{path}: {message}" for path, message in errors)
    assert "'speed' was unexpected" in messages
    assert "'hybrid' is not one of ['access', 'trunk']" in messages
    assert "5000 is greater than the maximum of 4094" in messages


@pytest.mark.parametrize(
    ("task", "intended", "path", "fragment"),
    [
        ("change-vlan", {"port": {"name": "Gi1/0/1", "mode": "access"}}, "$.port", "'untagged_vlan' is a required"),
        ("change-vlan", {"port": {"name": "Gi1/0/1", "mode": "trunk"}}, "$.port", "'tagged_vlans' is a required"),
        (
            "change-vlan",
            {"port": {"name": "Gi1/0/1", "mode": "access", "untagged_vlan": 10, "tagged_vlans": [20]}},
            "$.port.tagged_vlans",
            "is expected to be empty",
        ),
        (
            "change-vlan",
            {"port": {"name": "Gi1/0/1", "mode": "access", "untagged_vlan": 10, "description": "x\nshutdown"}},
            "$.port.description",
            "does not match",
        ),
        (
            "change-vlan",
            {"port": {"name": "Gi1/0/1\n shutdown", "mode": "access", "untagged_vlan": 10}},
            "$.port.name",
            "does not match",
        ),
        ("change-vlan", {}, "$", "'port' is a required"),
        ("create-vlan", {"vlan": {"vid": 1, "name": "X"}}, "$.vlan.vid", "less than the minimum of 2"),
        ("create-vlan", {"vlan": {"vid": 10, "name": "two words"}}, "$.vlan.name", "does not match"),
        ("set-ntp-servers", {"ntp": {"servers": ["10.0.0.300"]}}, "$.ntp.servers[0]", "is not valid"),
        ("set-ntp-servers", {"ntp": {"servers": []}}, "$.ntp.servers", "should be non-empty"),
        ("set-snmp-community", {"snmp": {"community": "public", "access": "ro"}}, "$.snmp.community", "too short"),
        ("set-snmp-community", {"snmp": {"community": "s3cret-1", "access": "admin"}}, "$.snmp.access", "not one of"),
        ("l3-interface-vrf", {"l3": {"interface": "Gi0/0/1", "vrf": "BLUE", "ip": "10.0.0.1"}}, "$.l3.ip", "match"),
        ("set-interface-description", {"port": {"name": "Gi1/0/1"}}, "$.port", "'description' is a required"),
    ],
)
def test_bad_intent_is_refused(task: str, intended: dict[str, Any], path: str, fragment: str) -> None:
    errors = _errors(task, intended)
    assert any(p == path and fragment in message for p, message in errors), errors


# -- workflows and forms ------------------------------------------------------------------------

# Inputs a form could submit, and what the device's context holds when the workflow runs.
WORKFLOW_RUNS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "provision-access-port",
        "change-vlan-cisco-ios",
        {"device": "ber1-acc-sw01", "interface": "Gi1/0/10", "vlan": 120},
    ),
    (
        "provision-access-port",
        "change-vlan-juniper-junos",
        {"device": "lon1-acc-sw01", "interface": "ge-0/0/10", "vlan": 120, "description": "Printer 2nd floor"},
    ),
    (
        "configure-switchport",
        "change-vlan-cisco-nxos",
        {"device": "fra1-leaf01", "interface": "Ethernet1/49", "mode": "trunk", "allowed_vlans": "100-102, 200"},
    ),
    (
        "configure-switchport",
        "change-vlan-arista-eos",
        {"device": "ams1-leaf01", "interface": "Ethernet10", "mode": "access", "vlan": 110, "description": "esx"},
    ),
    ("create-vlan", "create-vlan-cisco-ios", {"device": "ber1-acc-sw01", "vid": 130, "name": "PRINTERS"}),
    ("create-vlan", "create-vlan-cisco-ios", {"device": "ber1-acc-sw01", "vid": 120, "name": "USERS-3RD-FLOOR"}),
    ("set-ntp", "set-ntp-servers-cisco-ios", {"device": "ber1-acc-sw01", "servers": "10.255.1.1, 10.255.1.2"}),
    (
        "set-ntp",
        "set-ntp-servers-cisco-nxos",
        {"device": "fra1-leaf01", "servers": "10.255.1.1", "source_interface": "mgmt0", "vrf": "management"},
    ),
    ("backup-config", "backup-config-arista-eos", {"device": "ams1-leaf01"}),
    ("backup-config", "backup-config-juniper-junos", {"device": "lon1-acc-sw01", "include_facts": False}),
    (
        "configure-l3-interface",
        "l3-interface-vrf-cisco-nxos",
        {"device": "fra1-leaf01", "interface": "Ethernet1/5", "vrf": "TENANT-A", "ip": "10.50.0.1/30"},
    ),
    # nettui.lifecycle: restore, remediation and the schedulable backup and compliance runs.
    (
        "restore-config",
        "apply-config-cisco-ios",
        {"device": "ber1-acc-sw01", "backup_id": 7, "lines": ["ntp server 10.1.1.1"]},
    ),
    (
        "apply-remediation",
        "apply-config-juniper-junos",
        {"device": "lon1-acc-sw01", "lines": ["delete snmp community public"], "check": "snmp-no-default-communities"},
    ),
    ("backup-all", "lifecycle-action-arista-eos", {"driver": "scrapli"}),
    ("compliance-run", "lifecycle-action-cisco-nxos", {"checks": ["aaa-tacacs"], "live": True}),
    (
        "os-upgrade",
        "upgrade-device-cisco-ios",
        {"plan_id": 7, "image": "/srv/images/cat9k_iosxe.17.12.03.SPA.bin", "target_version": "17.12.03"},
    ),
    (
        "os-upgrade",
        "upgrade-device-juniper-junos",
        {"plan_id": 8, "image": "/x/p.tgz", "target_version": "22.4R3.25", "max_failures": 1},
    ),
]


def _resolve(value: Any, context: dict[str, Any]) -> Any:
    """An input_mapping value as the engine resolves it: strings with ``{{`` are evaluated."""
    if isinstance(value, dict):
        return {k: _resolve(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, context) for v in value]
    if isinstance(value, str) and "{{" in value:
        return evaluate(value, context)
    return value


# Workflows whose steps need a live source of truth, run for real elsewhere.
EXERCISED_ELSEWHERE = {"nautobot-switchport": "tests/test_nautobot_writeback.py (real Nautobot and lab)"}


def test_every_workflow_is_exercised_below() -> None:
    assert {slug for slug, _, _ in WORKFLOW_RUNS} | set(EXERCISED_ELSEWHERE) == set(WORKFLOWS)


@pytest.mark.parametrize(("workflow", "golden", "inputs"), WORKFLOW_RUNS, ids=lambda x: x if isinstance(x, str) else "")
def test_workflow_steps_turn_form_inputs_into_valid_task_inputs(
    workflow: str, golden: str, inputs: dict[str, Any]
) -> None:
    wf = WORKFLOWS[workflow]
    validate_inputs(wf.input_schema, inputs, where=f"workflow '{workflow}' inputs")
    context = {**_context(GOLDEN / golden), "inputs": inputs}
    context["intended"] = {}
    for step in wf.steps:
        if step.condition and not evaluate(step.condition, context):
            continue
        if step.step_type == StepType.VALIDATION.value:
            assert evaluate(step.config["expression"], context) is True, step.name
        if step.step_type == StepType.TASK.value:
            assert step.task is not None
            intended = _resolve(step.input_mapping, context)
            validate_inputs(TASKS[step.task].input_schema, intended, where=step.name)
            _, impl = IMPLEMENTATIONS[golden]
            render_template(impl.template_content, {**context, "intended": intended})
            outputs = {"config": "", "checks": [{"name": "x", "phase": "post", "passed": True}], "facts": {}}
            for name, expression in step.output_mapping.items():
                context[name] = evaluate(expression, {**context, "outputs": outputs})


def test_workflow_validations_refuse_what_they_should() -> None:
    vlan_check = WORKFLOWS["provision-access-port"].steps[0].config["expression"]
    context = _context(GOLDEN / "change-vlan-cisco-ios")
    assert evaluate(vlan_check, {**context, "inputs": {"vlan": 3999}}) is False
    name_check = WORKFLOWS["create-vlan"].steps[0].config["expression"]
    assert evaluate(name_check, {**context, "inputs": {"vid": 120, "name": "SOMETHING-ELSE"}}) is False
    host_check = WORKFLOWS["configure-l3-interface"].steps[0].config["expression"]
    for ip, ok in [("10.0.0.1/24", True), ("10.0.0.0/24", False), ("10.0.0.255/24", False), ("10.0.0.0/31", True)]:
        assert evaluate(host_check, {**context, "inputs": {"ip": ip}}) is ok, ip
    used_check = WORKFLOWS["configure-l3-interface"].steps[1].config["expression"]
    assert evaluate(used_check, {**context, "inputs": {"ip": "10.255.3.1/32"}}) is False


def test_every_form_field_fills_a_workflow_input() -> None:
    for form in FORMS.values():
        wf = WORKFLOWS[form.workflow]
        inputs = set(wf.input_schema["properties"])
        names = [fld.field_name for fld in form.fields]
        assert set(names) <= inputs, form.slug
        assert set(wf.input_schema.get("required", [])) <= set(names), f"{form.slug} cannot fill every required input"
        assert form.published and form.category and form.icon, form.slug
        for i, fld in enumerate(form.fields):
            if fld.depends_on:
                assert fld.depends_on in names[:i], f"{form.slug}.{fld.field_name} depends on a later field"
            if fld.field_type == "object_selector":
                assert fld.object_type, f"{form.slug}.{fld.field_name}"


def test_access_port_form_chains_device_interface_vlan() -> None:
    fields = {f.field_name: f for f in FORMS["provision-access-port"].fields}
    assert fields["interface"].depends_on == "device"
    assert fields["interface"].queryset_filter["device"] == "{{ device }}"
    assert fields["vlan"].depends_on == "interface"
    assert fields["vlan"].queryset_filter["location"] == "{{ device.location }}"


# -- the store ----------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.yaml"))}


def _comparable(files: list[LoadedFile]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for f in files:
        data = f.item.model_dump(mode="json")
        if isinstance(f.item, TaskFile):
            data["implementations"] = sorted(data["implementations"], key=lambda i: i["slug"])
        out[(f.item.kind, data.get("slug") or data["name"])] = data
    return out


def test_library_imports_into_the_store_and_round_trips(store: Store, tmp_path: Path) -> None:
    first = import_catalog(store, [LIBRARY_DIR])
    assert first.updated == [] and first.unchanged == []
    assert len(first.created) == len(LIBRARY.files)

    again = import_catalog(store, [LIBRARY_DIR])
    assert again.created == [] and again.updated == []
    assert sorted(again.unchanged) == sorted(first.created)

    exported = tmp_path / "exported"
    export_catalog(store, exported)
    reimport = import_catalog(store, [exported])
    assert reimport.created == [] and reimport.updated == []
    export_catalog(store, tmp_path / "exported-again")
    assert _tree(exported) == _tree(tmp_path / "exported-again")

    # Nothing is lost on the way: the exported files say what the library says.
    loaded = load_catalog(exported)
    assert loaded.problems == []
    assert _comparable(loaded.files) == _comparable(LIBRARY.files)
