"""Request forms without a screen (nettui.forms) on SQLite and PostgreSQL: every field type and
validation rule, fields that appear from earlier answers, selectors narrowed by them, the
workflow's schema as the last word, the preview with its diff, and submit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import ExecutionStatus, IPAMStatus, ObjectType
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from nettui.forms import MAX_OPTIONS, FormDraft, InvalidForm, apply_config, list_forms, search_objects

BACKUP = (
    "hostname hq-sw1\n!\ninterface GigabitEthernet1/0/1\n description old desk\n switchport mode access\n"
    " switchport access vlan 20\n!\ninterface GigabitEthernet1/0/2\n shutdown\n!\nend\n"
)


def seed(store: Store) -> Store:
    """The library, two access switches at two sites (ports, VLANs), a core router, a backup."""
    import_catalog(store, [LIBRARY_DIR])
    with store.session() as session:
        ios = session.scalars(select(m.Platform).where(m.Platform.network_driver == "cisco_ios")).one()
        hq, branch = m.Location(name="HQ", slug="hq"), m.Location(name="Branch", slug="branch")
        access = m.DeviceRole(name="Access switch", slug="access-switch")
        core = m.DeviceRole(name="Core", slug="core")
        hq_sw1 = m.Device(name="hq-sw1", host="10.0.0.1", platform=ios, location=hq, role=access)
        br_sw1 = m.Device(name="br-sw1", host="10.1.0.1", platform=ios, location=branch, role=access)
        core1 = m.Device(name="hq-core1", host="10.0.0.254", platform=ios, location=hq, role=core)
        session.add_all([hq_sw1, br_sw1, core1])
        for device in (hq_sw1, br_sw1):
            for port in range(1, 4):
                session.add(m.Interface(device=device, name=f"GigabitEthernet1/0/{port}", enabled=port != 3))
        session.add_all(
            [
                m.VLAN(vid=10, name="users", location=hq),
                m.VLAN(vid=20, name="voice", location=hq),
                m.VLAN(vid=99, name="old", location=hq, status=IPAMStatus.DEPRECATED),
                m.VLAN(vid=30, name="branch-users", location=branch),
            ]
        )
        session.add(
            m.BackupRecord(device=hq_sw1, backup_data=BACKUP, backup_timestamp=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
        )
        session.add(m.User(username="ops", role="operator"))
    return store


@pytest.fixture
def seeded(store: Store) -> Store:
    return seed(store)


def labels(options: Any) -> list[str]:
    return [o.label for o in options.options]


def test_published_forms_are_listed_by_category(seeded: Store) -> None:
    forms = list_forms(seeded)
    assert [(f.category, f.slug) for f in forms][:3] == [
        ("Access", "configure-switchport"),
        ("Access", "provision-access-port"),
        ("Access", "create-vlan"),
    ]
    access = next(f for f in forms if f.slug == "provision-access-port")
    assert access.icon == "🔌" and access.approval_required
    assert [f.name for f in access.fields] == ["device", "interface", "vlan", "description"]


def test_dependent_selectors_offer_the_ports_of_the_switch_then_the_vlans_of_its_site(seeded: Store) -> None:
    draft = FormDraft(seeded, "provision-access-port")
    assert [f.name for f in draft.visible()] == ["device"]
    # role access-switch and status active: the core router is not offered
    assert labels(draft.options("device")) == ["br-sw1", "hq-sw1"]
    assert draft.options("interface").waiting_for == ("Switch",)

    assert draft.set("device", "hq-sw1") == ""
    assert [f.name for f in draft.visible()] == ["device", "interface"]
    # the chosen switch's enabled ports only, narrowed as the operator types
    assert labels(draft.options("interface")) == ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"]
    assert labels(draft.options("interface", "0/2")) == ["GigabitEthernet1/0/2"]

    assert draft.set("interface", "GigabitEthernet1/0/1") == ""
    assert [f.name for f in draft.visible()] == ["device", "interface", "vlan", "description"]
    assert labels(draft.options("vlan")) == ["10 users", "20 voice"]  # HQ, active
    assert draft.set("vlan", "30") == "VLAN 30 is not offered here (location HQ, status active)."
    assert draft.set("vlan", "4000") == "No VLAN 4000."
    assert draft.set("interface", "GigabitEthernet1/0/3").startswith("interface GigabitEthernet1/0/3 is not offered")
    assert draft.set("interface", "GigabitEthernet1/0/1") == ""
    assert draft.set("vlan", "10") == ""
    assert draft.inputs() == {"device": "hq-sw1", "interface": "GigabitEthernet1/0/1", "vlan": 10}

    # Another switch: its port of the same name stays chosen, the HQ VLAN does not fit the branch.
    assert draft.set("device", "br-sw1") == ""
    assert draft.inputs() == {"device": "br-sw1", "interface": "GigabitEthernet1/0/1"}
    assert labels(draft.options("vlan")) == ["30 branch-users"]
    # Clearing the switch hides what depends on it.
    draft.clear("device")
    assert [f.name for f in draft.visible()] == ["device"]
    assert draft.inputs() == {}


def test_show_condition_and_choices_make_fields_appear(seeded: Store) -> None:
    draft = FormDraft(seeded, "configure-switchport")
    draft.fill({"device": "hq-sw1", "interface": "GigabitEthernet1/0/2"})
    assert draft.values["mode"] == "access"  # default_value
    assert [f.name for f in draft.visible()] == ["device", "interface", "mode", "vlan", "description"]
    assert draft.set("mode", "bridge") == "Choose one of: access, trunk."
    assert draft.set("mode", "trunk") == ""
    assert [f.name for f in draft.visible()] == [
        "device",
        "interface",
        "mode",
        "native_vlan",
        "allowed_vlans",
        "description",
    ]
    assert draft.set("allowed_vlans", "10,20-x") == (
        "Not in the expected form. VLAN IDs and ranges carried tagged, for example 10,20,30-32."
    )
    assert draft.set("allowed_vlans", "10,20") == ""
    assert draft.validate() == {}
    assert draft.inputs() == {
        "device": "hq-sw1",
        "interface": "GigabitEthernet1/0/2",
        "mode": "trunk",
        "allowed_vlans": "10,20",
    }


def test_number_range_and_text_length_and_regex_rules(seeded: Store) -> None:
    draft = FormDraft(seeded, "create-vlan")
    draft.set("device", "hq-sw1")
    assert draft.set("vid", "ten") == "'ten' is not a number."
    assert draft.set("vid", "1") == "Must be at least 2."
    assert draft.set("vid", "4095") == "Must be at most 4094."
    assert draft.set("vid", "120") == "" and draft.values["vid"] == 120
    assert draft.set("name", "x" * 33) == "At most 32 characters (now 33)."
    assert draft.set("name", "1st").startswith("Not in the expected form. A letter, then")
    assert draft.set("name", "") == ""  # empty is not an error while typing...
    assert draft.validate() == {"name": "Required."}  # ...but it is on submit
    assert draft.set("name", "Printers") == ""
    assert draft.validate() == {}


def test_boolean_multi_choice_and_range_shapes(seeded: Store) -> None:
    """Field types the library does not use, on a form of their own."""
    with seeded.session() as session:
        workflow = m.Workflow(
            name="Probe",
            slug="probe",
            input_schema={
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "device": {"type": "string"},
                    "checks": {"type": "array", "items": {"enum": ["ntp", "snmp", "aaa"]}, "maxItems": 2},
                    "verbose": {"type": "boolean"},
                    "count": {"type": "integer", "maximum": 5},
                    "site": {"type": "string"},
                },
            },
        )
        form = m.RequestForm(name="Probe", slug="probe", workflow=workflow, published=True, category="Tests")
        session.add_all([workflow, form])
        session.flush()
        device_field = m.RequestFormField(
            form=form, order=1, field_name="device", field_type="object_selector", label="Device", object_type="device"
        )
        session.add(device_field)
        session.flush()
        session.add_all(
            [
                m.RequestFormField(
                    form=form,
                    order=2,
                    field_name="checks",
                    field_type="multi_choice",
                    label="Checks",
                    choices=["ntp", "snmp", {"value": "aaa", "label": "AAA", "show_condition": "device is not none"}],
                    validation_rules={"length": {"max": 2}},
                ),
                m.RequestFormField(form=form, order=3, field_name="verbose", field_type="boolean", label="Verbose"),
                m.RequestFormField(
                    form=form,
                    order=4,
                    field_name="count",
                    field_type="number",
                    label="Count",
                    validation_rules={"range": {"min": 1, "max": 10}},
                ),
                m.RequestFormField(
                    form=form,
                    order=5,
                    field_name="site",
                    field_type="object_selector",
                    label="Site",
                    object_type="location",
                    depends_on=device_field,
                    queryset_filter={"name": "{{ device.location }}"},
                ),
            ]
        )
    draft = FormDraft(seeded, "probe")
    assert [o.value for o in draft.choices("checks")] == ["ntp", "snmp"]  # AAA waits for a device
    assert draft.set("checks", ["ntp", "aaa"]).startswith("'aaa' is not one of")
    draft.set("device", "hq-sw1")
    assert [o.label for o in draft.choices("checks")] == ["ntp", "snmp", "AAA"]
    assert draft.set("checks", ["ntp", "snmp", "aaa"]) == "At most 2 choices (now 3)."
    assert draft.set("checks", "ntp, aaa") == ""
    assert draft.set("verbose", "maybe") == "'maybe' is not yes or no."
    assert draft.set("verbose", "yes") == "" and draft.values["verbose"] is True
    assert draft.set("count", "11") == "Must be at most 10."
    assert draft.set("count", "7") == "Must be at most 5."  # the form allows 10; the workflow's schema 5
    assert draft.set("count", "5") == ""
    assert labels(draft.options("site")) == ["HQ"]  # the chosen device's location, by name
    assert draft.set("site", "Branch").startswith("location Branch is not offered here")
    assert draft.set("site", "HQ") == ""
    assert draft.inputs() == {"device": "hq-sw1", "checks": ["ntp", "aaa"], "verbose": True, "count": 5, "site": "HQ"}


def test_the_workflow_schema_has_the_last_word_on_each_field(seeded: Store) -> None:
    """The form's own rules allow what the workflow's input_schema refuses: the schema wins,
    on the field it belongs to, and nothing is submitted."""
    with seeded.session() as session:
        field = session.scalars(
            select(m.RequestFormField)
            .join(m.RequestForm)
            .where(m.RequestForm.slug == "provision-access-port", m.RequestFormField.field_name == "description")
        ).one()
        field.validation_rules = {}  # the form no longer keeps control characters out...
    draft = FormDraft(seeded, "provision-access-port")
    draft.fill({"device": "hq-sw1", "interface": "GigabitEthernet1/0/1", "vlan": 10})
    error = draft.set("description", "bell\x07")
    assert error.startswith("The workflow does not accept this value (Port description")  # ...the schema does
    with pytest.raises(InvalidForm) as refused:
        draft.submit("ops")
    assert set(refused.value.errors) == {"description"}
    with seeded.read_session() as session:
        assert session.scalars(select(m.Execution)).all() == []


def test_preview_renders_per_device_and_diffs_against_the_last_backup(seeded: Store) -> None:
    draft = FormDraft(seeded, "provision-access-port")
    with pytest.raises(InvalidForm, match="device: Required"):
        draft.preview()
    draft.fill({"device": "hq-sw1", "interface": "GigabitEthernet1/0/1", "vlan": 10, "description": "Desk 3.14"})
    (preview,) = draft.preview(requested_by="ops")
    assert preview.device == "hq-sw1" and preview.errors == []
    assert preview.config == (
        "interface GigabitEthernet1/0/1\n description Desk 3.14\n switchport mode access\n switchport access vlan 10\n"
    )
    assert [s.implementation for s in preview.steps if s.implementation] == ["change-vlan-cisco-ios"]
    assert preview.current_source == "backup of 2026-01-02 03:04 UTC"
    changed = [line for line in preview.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "- description old desk",
        "+ description Desk 3.14",
        "- switchport access vlan 20",
        "+ switchport access vlan 10",
    ]

    draft.set("device", "br-sw1")
    draft.fill({"interface": "GigabitEthernet1/0/2", "vlan": 30})
    (preview,) = draft.preview()
    assert preview.current_source == "" and preview.diff == ""  # no backup: nothing to compare with
    assert "switchport access vlan 30" in preview.config


def test_submit_records_an_execution_linked_to_the_form(seeded: Store) -> None:
    draft = FormDraft(seeded, "provision-access-port")
    draft.fill({"device": "hq-sw1", "interface": "GigabitEthernet1/0/2", "vlan": 20})
    execution_id = draft.submit("ops")
    with seeded.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        assert execution.status == ExecutionStatus.PENDING  # its approval step, after the checks, asks
        assert execution.inputs == {
            "device": "hq-sw1",
            "interface": "GigabitEthernet1/0/2",
            "vlan": 20,
            "description": "",
        }
        assert [d.name for d in execution.target_devices] == ["hq-sw1"]
        assert execution.request_form is not None and execution.request_form.slug == "provision-access-port"


def test_selectors_stay_limited_and_indexed_on_a_big_inventory(seeded: Store) -> None:
    with seeded.session() as session:
        role = session.scalars(select(m.DeviceRole).where(m.DeviceRole.slug == "access-switch")).one()
        session.add_all(
            m.Device(name=f"big-sw{i:04d}", host=f"10.9.{i // 250}.{i % 250}", role=role) for i in range(300)
        )
    draft = FormDraft(seeded, "provision-access-port")
    offered = draft.options("device")
    assert len(offered.options) == MAX_OPTIONS and offered.more
    assert labels(draft.options("device", "sw0299")) == ["big-sw0299"]
    assert labels(search_objects(seeded, ObjectType.DEVICE, "hq-")) == ["hq-core1", "hq-sw1"]


def test_a_filter_on_an_unknown_key_says_which_keys_exist(seeded: Store) -> None:
    with seeded.session() as session:
        field = session.scalars(
            select(m.RequestFormField)
            .join(m.RequestForm)
            .where(m.RequestForm.slug == "create-vlan", m.RequestFormField.field_name == "device")
        ).one()
        field.queryset_filter = {"colour": "blue"}
    draft = FormDraft(seeded, "create-vlan")
    from catalog.errors import NettuiError

    with pytest.raises(NettuiError, match="'colour' is not a field of device") as raised:
        draft.options("device")
    assert "filter on one of:" in (raised.value.hint or "")


def test_apply_config_replaces_the_setting_a_line_changes() -> None:
    current = "interface Gi1\n description a\n switchport access vlan 20\n shutdown\n!\n"
    change = "interface Gi1\n switchport access vlan 10\n no shutdown\ninterface Gi2\n description new\n"
    assert apply_config(current, change) == (
        "interface Gi1\n description a\n switchport access vlan 10\n!\ninterface Gi2\n description new\n"
    )
    junos = "set vlans users vlan-id 10\nset interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members 20\n"
    change = (
        "delete interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members\n"
        "set interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members 10\n"
    )
    assert apply_config(junos, change) == (
        "set vlans users vlan-id 10\nset interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members 10\n"
    )


def test_numbers_in_names_order_as_numbers(seeded: Store) -> None:
    """An operator looks for port 10 after port 9, not after port 1 (walkthrough in tmux)."""
    with seeded.session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == "hq-sw1")).one()
        session.add_all(m.Interface(device=device, name=f"GigabitEthernet1/0/{port}") for port in (10, 11, 12, 4))
        session.add_all(m.Device(name=f"hq-sw{i}", host=f"10.0.1.{i}") for i in (2, 10))
    draft = FormDraft(seeded, "provision-access-port")
    draft.set("device", "hq-sw1")
    ports = [f"GigabitEthernet1/0/{port}" for port in (1, 2, 4, 10, 11, 12)]  # 3 is shut: not offered
    assert labels(draft.options("interface")) == ports
    assert labels(search_objects(seeded, ObjectType.DEVICE, "hq-sw")) == ["hq-sw1", "hq-sw2", "hq-sw10"]
