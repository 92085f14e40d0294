"""A corrupted copy of the built-in library: one error of each kind the validator knows, one
precise message for each, and a store that the failed import leaves exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import models as m
from catalog.loader import CatalogInvalid, load_catalog
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog

# (file, text, replacement, words the one message about it must contain)
CORRUPTIONS = [
    (
        "tasks/create-vlan.yaml",
        "category: Configuration\n",
        "category: Configuration\ncolour: red\n",
        "unknown key 'colour'",
    ),
    (
        "tasks/set-interface-description.yaml",
        "\nslug: set-interface-description\n",
        "\nslug: Set Interface Description\n",
        "bad slug 'Set Interface Description'",
    ),
    (
        "tasks/change-vlan.yaml",
        "2020-12/schema\n  type: object",
        "2020-12/schema\n  type: objekt",
        "input_schema is not valid JSON Schema (Draft 2020-12)",
    ),
    (
        "tasks/create-vlan.yaml",
        "vlan {{ intended.vlan.vid }}\n",
        "vlan {{ intended.vlan.vid }\n",
        "Jinja2 syntax error",
    ),
    ("workflows/set-ntp.yaml", "task: set-ntp-servers", "task: set-ntp-server", "unknown task 'set-ntp-server'"),
    (
        "forms/backup-config.yaml",
        "field_name: include_facts",
        "field_name: include_fact",
        "field 'include_fact' maps to no input of workflow 'backup-config'",
    ),
    (
        "workflows/backup-config.yaml",
        "condition: inputs.include_facts | default(true)",
        "condition: inputs.include_facts | default(true",
        "condition: expression does not parse",
    ),
    ("workflows/create-vlan.yaml", "vid: '{{ inputs.vid }}'", "vid: '{{ inputs.vid }'", "input_mapping 'vlan' 'vid'"),
    ("forms/create-vlan.yaml", "    label: Switch\n", "    label: Switch\n    depends_on: vid\n", "depends_on cycle: "),
    ("tasks/gather-facts.yaml", "    platform: cisco_nxos\n", "    platform: cisco_ios\n", "ties with"),
]


@pytest.fixture
def corrupted(tmp_path: Path) -> Path:
    copy = tmp_path / "library"
    shutil.copytree(LIBRARY_DIR, copy)
    for name, text, replacement, _ in CORRUPTIONS:
        path = copy / name
        content = path.read_text()
        assert content.count(text) >= 1, f"{name} no longer contains {text!r}: update this test"
        path.write_text(content.replace(text, replacement, 1))
    return copy


def test_one_precise_message_per_error(corrupted: Path) -> None:
    problems = load_catalog(corrupted).problems
    assert len(problems) == len(CORRUPTIONS), "\n".join(map(str, problems))
    for name, _, _replacement, words in CORRUPTIONS:
        mine = [p for p in problems if p.path.endswith(name) and words in p.message]
        assert len(mine) == 1, (name, words, [str(p) for p in problems])
        line = mine[0].line
        source = (corrupted / name).read_text().splitlines()
        assert 1 <= line <= len(source)
    # each message points at the line that was changed (the Jinja one at the template's line)
    jinja = next(p for p in problems if "Jinja2 syntax error" in p.message)
    assert (
        "vlan {{ intended.vlan.vid }" in (corrupted / "tasks/create-vlan.yaml").read_text().splitlines()[jinja.line - 1]
    )


def test_a_failed_import_leaves_the_store_unchanged(store: Store, corrupted: Path) -> None:
    import_catalog(store, [LIBRARY_DIR])

    def snapshot() -> dict[str, object]:
        with store.read_session() as session:
            out: dict[str, object] = {}
            for model in (
                m.TaskDefinition,
                m.TaskImplementation,
                m.Workflow,
                m.WorkflowStep,
                m.RequestForm,
                m.RequestFormField,
                m.ComplianceCheck,
            ):
                out[model.__name__] = session.scalar(select(func.count()).select_from(model))
                out[model.__name__ + ".updated"] = session.scalar(select(func.max(model.updated_at)))
            return out

    before = snapshot()
    with pytest.raises(CatalogInvalid) as info:
        import_catalog(store, [corrupted])
    assert len(info.value.problems) == len(CORRUPTIONS)
    assert snapshot() == before
