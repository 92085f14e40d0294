"""Two catalog files for one object (the same slug, or the same name) are a problem reported at
both files' lines, never a database error, and nothing is imported: through the loader,
`nettui catalog import` (one folder or several) and `nettui catalog pull` from a Git repository.
Renames the store can take (a slug renamed with --prune, two names swapped, an implementation's
slug renamed) import cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.loader import CatalogInvalid, load_catalog
from catalog.store import Store
from catalog.sync import import_catalog
from tests.conftest import run_cli
from tests.test_git_catalog import FOLDER, add_repo, bare_repo, catalog_content, clone, commit_all, syncs


def task(slug: str, name: str, *impls: tuple[str, str]) -> str:
    text = f"kind: task\nslug: {slug}\nname: {name}\n"
    if impls:
        text += "implementations:\n"
        for priority, (impl_slug, impl_name) in enumerate(impls):
            text += (
                f"  - slug: {impl_slug}\n    name: {impl_name}\n    manufacturer: Cisco\n    platform: cisco_ios\n"
                f"    priority: {priority}\n    implementation_type: jinja2_config\n    template_content: hostname x\n"
            )
    return text


WORKFLOW = "kind: workflow\nslug: {slug}\nname: {name}\n"
FORM = "kind: request_form\nslug: {slug}\nname: {name}\nworkflow: wf\n"
CHECK = "kind: compliance_check\nslug: {slug}\nname: {name}\ncheck_type: python_hook\n"
PROVIDER = "kind: provider\nname: {name}\ndriver_class: nettui.providers.x:X\n"
CONFIG = "kind: provider_config\nname: {name}\nprovider: prov\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def objects(store: Store) -> dict[str, list[str]]:
    with store.read_session() as session:
        return {
            "tasks": sorted(session.scalars(select(m.TaskDefinition.slug))),
            "implementations": sorted(session.scalars(select(m.TaskImplementation.slug))),
        }


# Two files of each kind, the second one (b.yaml) taking the first one's slug or name:
# (what the files share, the line of the key in b.yaml and in a.yaml, the words of the problem).
SAME = [
    ("task slug", {"a.yaml": task("x", "X"), "b.yaml": task("x", "Y")}, 2, 2, "task slug 'x'"),
    ("task name", {"a.yaml": task("x", "Same"), "b.yaml": task("y", "Same")}, 3, 3, "task name 'Same'"),
    (
        "workflow name",
        {"a.yaml": WORKFLOW.format(slug="x", name="W"), "b.yaml": WORKFLOW.format(slug="y", name="W")},
        3,
        3,
        "workflow name 'W'",
    ),
    (
        "form name",
        {
            "wf.yaml": WORKFLOW.format(slug="wf", name="Wf"),
            "a.yaml": FORM.format(slug="x", name="F"),
            "b.yaml": FORM.format(slug="y", name="F"),
        },
        3,
        3,
        "request_form name 'F'",
    ),
    (
        "check slug",
        {"a.yaml": CHECK.format(slug="x", name="C1"), "b.yaml": CHECK.format(slug="x", name="C2")},
        2,
        2,
        "compliance_check slug 'x'",
    ),
    (
        "check name",
        {"a.yaml": CHECK.format(slug="x", name="C"), "b.yaml": "# the same check\n" + CHECK.format(slug="y", name="C")},
        4,
        3,
        "compliance_check name 'C'",
    ),
    ("provider name", {"a.yaml": PROVIDER.format(name="prov"), "b.yaml": PROVIDER.format(name="prov")}, 2, 2, "prov"),
    (
        "provider config name",
        {"p.yaml": PROVIDER.format(name="prov"), "a.yaml": CONFIG.format(name="c"), "b.yaml": CONFIG.format(name="c")},
        2,
        2,
        "provider_config name 'c'",
    ),
]


@pytest.mark.parametrize(("files", "line", "first_line", "words"), [s[1:] for s in SAME], ids=[s[0] for s in SAME])
def test_two_files_for_one_object_are_a_problem_at_both_lines(
    tmp_path: Path, files: dict[str, str], line: int, first_line: int, words: str
) -> None:
    write(tmp_path, files)
    (problem,) = load_catalog(tmp_path).problems
    assert (problem.path, problem.line) == (str(tmp_path / "b.yaml"), line)
    assert words in problem.message
    assert f"also used by {tmp_path / 'a.yaml'}:{first_line}" in problem.message
    assert "rename" in problem.message  # what to do


def test_implementations_sharing_a_name_or_a_slug_are_problems(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"a.yaml": task("a", "A", ("a-ios", "IOS"), ("a-ios2", "IOS")), "b.yaml": task("b", "B", ("a-ios", "X"))},
    )
    problems = [(Path(p.path).name, p.line, p.message) for p in load_catalog(tmp_path).problems]
    assert problems == [
        (
            "a.yaml",
            13,
            f"implementation name 'IOS' is also used at {tmp_path / 'a.yaml'}:6 in the same task; "
            "the implementations of a task need their own names: rename one",
        ),
        (
            "b.yaml",
            5,
            f"implementation slug 'a-ios' is also used at {tmp_path / 'a.yaml'}:5; "
            "each implementation needs its own slug: rename one",
        ),
    ]


def test_import_of_two_tasks_with_one_name_imports_nothing(store: Store, tmp_path: Path) -> None:
    folder = write(tmp_path / "cat", {"tasks/a.yaml": task("a", "Same"), "tasks/b.yaml": task("b", "Same")})
    good = write(tmp_path / "good", {"c.yaml": task("c", "C")})
    result = run_cli(store, "catalog", "import", str(good), str(folder))
    assert result.exit_code == 1
    assert (
        f"{folder}/tasks/b.yaml:3: task name 'Same' is also used by {folder}/tasks/a.yaml:3 (task 'a')" in result.stderr
    )
    assert "nothing was imported" in result.stderr and "Traceback" not in result.stderr
    assert "IntegrityError" not in result.stderr + result.stdout
    assert objects(store)["tasks"] == []  # not even the good folder

    as_json = run_cli(store, "catalog", "import", str(folder), "--json")
    assert as_json.exit_code == 1
    (problem,) = json.loads(as_json.stdout)["problems"]
    assert (problem["path"], problem["line"]) == (f"{folder}/tasks/b.yaml", 3)


def test_one_object_in_two_of_the_imported_folders_is_a_duplicate(sqlite_store: Store, tmp_path: Path) -> None:
    first = write(tmp_path / "one", {"x.yaml": task("x", "X")})
    second = write(tmp_path / "two", {"x.yaml": task("x", "Another X"), "wf.yaml": WORKFLOW.format(slug="w", name="W")})
    with pytest.raises(CatalogInvalid) as caught:
        import_catalog(sqlite_store, [first, second])
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == (str(second / "x.yaml"), 2)
    assert f"task slug 'x' is also used by {first / 'x.yaml'}:2" in problem.message
    # The same folder twice is one catalog, not duplicates; and files may refer across folders.
    steps = "steps:\n  - name: Go\n    step_type: task\n    task: x\n"
    write(second, {"x.yaml": "kind: workflow\nslug: uses-x\nname: Uses x\n" + steps})
    report = import_catalog(sqlite_store, [first, first / "x.yaml", second])
    assert sorted(report.created) == ["task/x", "workflow/uses-x", "workflow/w"]


def test_a_name_the_store_uses_under_another_slug(store: Store, tmp_path: Path) -> None:
    import_catalog(store, [write(tmp_path / "v1", {"t.yaml": task("old-slug", "Change VLAN", ("old-ios", "IOS"))})])
    renamed = write(tmp_path / "v2", {"t.yaml": task("new-slug", "Change VLAN", ("new-ios", "IOS"))})

    result = run_cli(store, "catalog", "import", str(renamed))
    assert result.exit_code == 1
    assert (
        f"{renamed}/t.yaml:3: task name 'Change VLAN' is already used in the store by task 'old-slug', "
        "which these files do not rename" in result.stderr
    )
    assert "--prune" in result.stderr and "Traceback" not in result.stderr
    assert objects(store) == {"tasks": ["old-slug"], "implementations": ["old-ios"]}

    # With --prune the old task goes: the slug is renamed, name and all.
    dry = import_catalog(store, [renamed], prune=True, dry_run=True)
    assert (dry.created, dry.removed) == (["task/new-slug"], ["task/old-slug"])
    assert objects(store) == {"tasks": ["old-slug"], "implementations": ["old-ios"]}
    import_catalog(store, [renamed], prune=True)
    assert objects(store) == {"tasks": ["new-slug"], "implementations": ["new-ios"]}
    assert import_catalog(store, [renamed]).unchanged == ["task/new-slug"]


def test_names_swapped_and_an_implementation_renamed_import_cleanly(store: Store, tmp_path: Path) -> None:
    before = {"a.yaml": task("a", "First", ("a-ios", "IOS"), ("a-eos", "EOS")), "b.yaml": task("b", "Second")}
    import_catalog(store, [write(tmp_path / "v1", before)])
    # Two tasks swap their names; an implementation gets a new slug and keeps its name; two
    # implementations swap theirs.
    after = {"a.yaml": task("a", "Second", ("a-ios-xe", "EOS"), ("a-eos", "IOS")), "b.yaml": task("b", "First")}
    report = import_catalog(store, [write(tmp_path / "v2", after)])
    assert sorted(report.updated) == ["task/a", "task/b"]
    with store.read_session() as session:
        assert dict(session.execute(select(m.TaskDefinition.slug, m.TaskDefinition.name)).all()) == {
            "a": "Second",
            "b": "First",
        }
        assert dict(session.execute(select(m.TaskImplementation.slug, m.TaskImplementation.name)).all()) == {
            "a-ios-xe": "EOS",
            "a-eos": "IOS",
        }
    assert import_catalog(store, [tmp_path / "v2"]).unchanged == ["task/a", "task/b"]


def test_pull_of_a_commit_with_two_tasks_of_one_name(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    _bare, url = bare_repo(tmp_path)
    work = clone(url, tmp_path / "author")
    write(work / FOLDER, {"tasks/a.yaml": task("a", "Same"), "tasks/b.yaml": task("b", "Same")})
    bad = commit_all(work, "two tasks, one name")
    add_repo(store, url)

    result = run_cli(store, "catalog", "pull", "net")
    assert result.exit_code == 1
    expected = f"{FOLDER}/tasks/b.yaml:3: task name 'Same' is also used by {FOLDER}/tasks/a.yaml:3 (task 'a')"
    assert expected in result.stderr
    assert "nothing was imported" in result.stderr and "Traceback" not in result.stderr
    assert catalog_content(store) == {}
    (record,) = syncs(store)
    assert (record.status, record.commit_sha) == ("failed", bad)
    assert [(e["path"], e["line"]) for e in record.errors] == [(f"{FOLDER}/tasks/b.yaml", 3)]

    # Renamed in the next commit, the pull imports both.
    write(work / FOLDER, {"tasks/b.yaml": task("b", "Other")})
    commit_all(work, "rename b")
    pulled = run_cli(store, "catalog", "pull", "net", "--json")
    assert pulled.exit_code == 0, pulled.stderr
    assert sorted(json.loads(pulled.stdout)["report"]["created"]) == ["task/a", "task/b"]
