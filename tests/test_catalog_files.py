"""Catalog files: every problem found with file:line, imports that are all-or-nothing and
idempotent, and export -> import -> export giving identical files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import models as m
from catalog.loader import CatalogInvalid, load_catalog
from catalog.store import Store
from catalog.sync import export_catalog, import_catalog
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data" / "catalog"
GOOD = DATA / "good"
BROKEN = DATA / "broken"

# One problem of each kind the validator must catch: (file, line, words the message contains).
EXPECTED_PROBLEMS = [
    ("bad-expressions.yaml", 12, "step 'Maybe' condition: expression does not parse"),
    ("bad-expressions.yaml", 16, "step 'Notify' input_mapping 'message': expression does not parse"),
    ("bad-schema.yaml", 8, "input_schema is not valid JSON Schema (Draft 2020-12): 'integr'"),
    ("bad-slug.yaml", 2, "bad slug 'Bad Slug'"),
    ("cycle.yaml", 9, "depends_on cycle: vlan -> vlan2 -> vlan"),
    ("jinja-error.yaml", 14, "implementation 'jinja-error-ios': template line 4: Jinja2 syntax error"),
    ("orphan-field.yaml", 9, "field 'colour' maps to no input of workflow 'bad-expressions' (its inputs: vlan, vlan2)"),
    ("tie.yaml", 11, "implementation 'tie-b' ties with 'tie-a'"),
    ("unknown-key.yaml", 4, "unknown key 'descripton' (did you mean 'description'?)"),
    ("unknown-task.yaml", 7, "step 'Do it': unknown task 'change-vlna'"),
]


def _counts(store: Store) -> dict[str, int]:
    with store.read_session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (m.TaskDefinition, m.TaskImplementation, m.Workflow, m.WorkflowStep, m.RequestForm)
        }


def test_each_kind_of_problem_gets_one_precise_message() -> None:
    problems = load_catalog(BROKEN).problems
    found = [(Path(p.path).name, p.line, p.message) for p in problems]
    assert len(found) == len(EXPECTED_PROBLEMS), "\n".join(map(str, problems))
    for (name, line, words), (got_name, got_line, message) in zip(EXPECTED_PROBLEMS, found, strict=True):
        assert (got_name, got_line) == (name, line), message
        assert words in message


def test_the_good_catalog_has_no_problems() -> None:
    assert load_catalog(GOOD).problems == []


def test_validate_reports_file_and_line_and_imports_nothing(store: Store) -> None:
    result = run_cli(store, "catalog", "validate", str(BROKEN))
    assert result.exit_code == 1
    assert "bad-slug.yaml:2: slug: bad slug 'Bad Slug'" in result.stdout
    assert "10 problem(s)" in result.stderr
    assert sum(_counts(store).values()) == 0
    ok = run_cli(store, "catalog", "validate", str(GOOD))
    assert ok.exit_code == 0 and ok.stdout == ""
    assert sum(_counts(store).values()) == 0


def test_a_broken_file_among_good_ones_imports_nothing(store: Store, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(GOOD, mixed)
    shutil.copy(BROKEN / "unknown-key.yaml", mixed / "tasks" / "zz.yaml")
    result = run_cli(store, "catalog", "import", str(mixed))
    assert result.exit_code == 1
    assert "zz.yaml:4: unknown key 'descripton'" in result.stderr
    assert "nothing was imported" in result.stderr
    assert sum(_counts(store).values()) == 0


def test_import_is_an_idempotent_upsert_by_slug(store: Store, tmp_path: Path) -> None:
    first = import_catalog(store, [GOOD])
    assert sorted(first.created) == ["request_form/port-form", "task/change-vlan", "workflow/provision-access-port"]
    counts = _counts(store)
    assert counts["TaskImplementation"] == 5 and counts["WorkflowStep"] == 2
    with store.read_session() as session:
        stamp = session.scalars(select(m.TaskDefinition.updated_at)).one()
    second = import_catalog(store, [GOOD])
    assert second.created == [] and second.updated == [] and len(second.unchanged) == 3
    with store.read_session() as session:
        assert session.scalars(select(m.TaskDefinition.updated_at)).one() == stamp  # really untouched
    changed = tmp_path / "changed"
    shutil.copytree(GOOD, changed)
    path = changed / "workflows" / "provision-access-port.yaml"
    path.write_text(path.read_text().replace("name: Provision access port", "name: Provision a port"))
    third = import_catalog(store, [changed])
    assert third.updated == ["workflow/provision-access-port"] and len(third.unchanged) == 2
    assert _counts(store) == counts


def test_reordering_steps_and_fields_keeps_their_identity(store: Store, tmp_path: Path) -> None:
    import_catalog(store, [GOOD])
    with store.read_session() as session:
        ids = dict(session.execute(select(m.WorkflowStep.name, m.WorkflowStep.id)).all())
    changed = tmp_path / "changed"
    shutil.copytree(GOOD, changed)
    path = changed / "workflows" / "provision-access-port.yaml"
    text = path.read_text()
    approve = "  - name: Approve\n    step_type: approval\n"
    path.write_text(text.replace(approve, "") + approve)
    report = import_catalog(store, [changed])
    assert report.updated == ["workflow/provision-access-port"]
    with store.read_session() as session:
        rows = session.execute(select(m.WorkflowStep.name, m.WorkflowStep.id, m.WorkflowStep.order)).all()
    assert {name: ident for name, ident, _ in rows} == ids
    assert sorted((order, name) for name, _, order in rows) == [(1, "Change"), (2, "Approve")]


def test_export_import_export_gives_identical_files(store: Store, tmp_path: Path) -> None:
    import_catalog(store, [GOOD])
    first, second = tmp_path / "one", tmp_path / "two"
    export_catalog(store, first)
    report = import_catalog(store, [first])
    assert report.created == [] and report.updated == []
    export_catalog(store, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*.yaml"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.yaml"))
    assert len(files) == 3
    for rel in files:
        assert (first / rel).read_text() == (second / rel).read_text(), rel


def test_prune_removes_only_what_the_files_no_longer_hold(store: Store, tmp_path: Path) -> None:
    import_catalog(store, [GOOD])
    smaller = tmp_path / "smaller"
    shutil.copytree(GOOD, smaller)
    (smaller / "forms" / "port-form.yaml").unlink()
    kept = import_catalog(store, [smaller])
    assert kept.removed == [] and _counts(store)["RequestForm"] == 1
    pruned = run_cli(store, "catalog", "import", str(smaller), "--prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert '"request_form/port-form"' in pruned.stdout
    assert _counts(store)["RequestForm"] == 0


def test_prune_refuses_to_remove_a_workflow_with_executions(store: Store, tmp_path: Path) -> None:
    import_catalog(store, [GOOD])
    with store.session() as session:
        workflow = session.scalars(select(m.Workflow)).one()
        session.add(m.Execution(workflow=workflow, requested_by=m.User(username="ops")))
    only_tasks = tmp_path / "only-tasks"
    shutil.copytree(GOOD / "tasks", only_tasks / "tasks")
    with pytest.raises(CatalogInvalid, match="cannot remove workflow 'provision-access-port': 1 execution"):
        import_catalog(store, [only_tasks], prune=True)
    assert _counts(store)["RequestForm"] == 1  # nothing was removed


def test_dry_run_reports_and_writes_nothing(store: Store) -> None:
    result = run_cli(store, "catalog", "import", str(GOOD), "--dry-run", "--json")
    assert result.exit_code == 0
    assert '"task/change-vlan"' in result.stdout and "dry run" in result.stderr
    assert sum(_counts(store).values()) == 0


def test_list_and_show(store: Store) -> None:
    import_catalog(store, [GOOD])
    listing = run_cli(store, "catalog", "list", "--kind", "implementation", "--json")
    assert listing.exit_code == 0
    assert listing.stdout.count('"kind": "implementation"') == 5
    shown = run_cli(store, "catalog", "show", "change-vlan")
    assert shown.exit_code == 0
    assert shown.stdout.startswith("kind: task\nslug: change-vlan\n")
    assert "template_content: |" in shown.stdout
    missing = run_cli(store, "catalog", "show", "nope")
    assert missing.exit_code == 1 and "no catalog object 'nope'" in missing.stderr


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("kind: task\nslug: x\n  name: bad indent\n", 3, "YAML syntax error"),
        ("- just\n- a list\n", 1, "a catalog file is a mapping with a 'kind' key"),
        ("kind: gadget\nslug: x\n", 1, "unknown or missing kind 'gadget'"),
        ("kind: task\nslug: x\nname: a\nname: b\n", 4, "duplicate key 'name'"),
        ("kind: task\nname: no slug\n", 1, "missing required key 'slug'"),
        ("kind: task\nslug: x\nname: x\ninput_schema: [1]\n", 4, "input_schema: Input should be a valid dictionary"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    problems = load_catalog(path).problems
    assert len(problems) == 1, problems
    assert problems[0].line == line and words in problems[0].message, problems[0]


def test_defaults_may_leave_required_inputs_out_but_must_fit(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        "kind: workflow\nslug: wf\nname: wf\n"
        "input_schema:\n  type: object\n  required: [device]\n"
        "  properties:\n    device: {type: string}\n    vlan: {type: integer}\n"
        "default_inputs:\n  vlan: 1\n"
    )
    assert load_catalog(path).problems == []
    path.write_text(path.read_text().replace("vlan: 1", "vlan: one"))
    problems = load_catalog(path).problems
    assert [(p.line, p.message) for p in problems] == [
        (11, "default_inputs do not fit input_schema: 'one' is not of type 'integer'")
    ]


def test_templates_nested_in_mappings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        "kind: workflow\nslug: wf\nname: wf\nsteps:\n  - name: Notify\n    step_type: notification\n"
        "    input_mapping:\n      port:\n        name: '{{ inputs.interface '\n"
        "        vlans: ['{{ inputs.vlan | }}']\n"
    )
    problems = load_catalog(path).problems
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (9, "step 'Notify' input_mapping 'port' 'name'"),
        (10, "step 'Notify' input_mapping 'port' 'vlans'[0]"),
    ]


def test_providers_and_their_configs(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        session.add(m.SecretsGroup(name="nautobot-token"))
        session.add(m.Location(name="Paris", slug="paris"))
    src = tmp_path / "src"
    (src / "providers").mkdir(parents=True)
    (src / "providers" / "http.yaml").write_text(
        "kind: provider\nname: http_api\ndriver_class: drivers.http:HttpProvider\n"
        "capabilities: [api_call]\nsupported_platforms: [eos, cisco_ios]\n"
    )
    (src / "providers" / "paris.yaml").write_text(
        "kind: provider_config\nname: Paris controller\nprovider: http_api\nscope_sites: [Paris]\n"
        "scope_tags: [dc]\ncredentials: nautobot-token\nsettings: {base_url: 'https://127.0.0.1:8443', retries: 2}\n"
    )
    report = import_catalog(store, [src])
    assert sorted(report.created) == ["provider/http_api", "provider_config/Paris controller"]
    assert import_catalog(store, [src]).unchanged == ["provider/http_api", "provider_config/Paris controller"]
    out = tmp_path / "out"
    export_catalog(store, out)
    exported = (out / "providers" / "http_api.yaml").read_text()
    assert "supported_platforms:\n- arista_eos\n- cisco_ios\n" in exported  # normalised driver names
    config = (out / "provider-configs" / "paris-controller.yaml").read_text()
    assert "scope_sites:\n- Paris\n" in config and "credentials: nautobot-token\n" in config
    (src / "providers" / "paris.yaml").write_text(
        (src / "providers" / "paris.yaml").read_text().replace("nautobot-token", "missing-group")
    )
    with pytest.raises(CatalogInvalid, match=r"paris\.yaml:6: unknown secrets group 'missing-group'"):
        import_catalog(store, [src])
