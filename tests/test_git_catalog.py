"""The catalog in Git, and the backups' Git export, against real ``git`` and local bare repositories.

Every remote is a bare repository in ``tmp_path`` reached through a file:// URL; pulls, pushes
and their GitSyncRecords go through the real CLI and store (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import GitDirection, GitSyncStatus
from catalog.secrets import Secret
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, SPECS, file_data, import_catalog
from nettui.gitrepo import PushRejected, Remote, Workdir, export_backups_to, push_catalog
from tests.conftest import run_cli

FOLDER = "net/catalog"  # where the catalog sits inside the test repositories


def git(cwd: Path, *args: str) -> str:
    env_args = ["-c", "user.name=Someone Else", "-c", "user.email=else@example.net", "-c", "init.defaultBranch=main"]
    done = subprocess.run(["git", *env_args, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def bare_repo(tmp_path: Path, name: str = "catalog.git") -> tuple[Path, str]:
    bare = tmp_path / name
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    return bare, bare.as_uri()


def clone(url: str, where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", url, str(where)], check=True, capture_output=True)
    return where


def commit_all(work: Path, message: str) -> str:
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    git(work, "push", "-q", "origin", "HEAD:refs/heads/main")
    return git(work, "rev-parse", "HEAD").strip()


def tip(bare: Path) -> str:
    return git(bare, "rev-parse", "refs/heads/main").strip()


def library_repo(tmp_path: Path) -> tuple[Path, str, Path]:
    """A bare repository whose first commit holds the built-in library under FOLDER."""
    bare, url = bare_repo(tmp_path)
    work = clone(url, tmp_path / "author")
    (work / "README.md").write_text("network automation content\n")
    shutil.copytree(LIBRARY_DIR, work / FOLDER, ignore=shutil.ignore_patterns("README.md"))
    commit_all(work, "the library")
    return bare, url, work


def catalog_content(store: Store) -> dict[tuple[str, str], dict[str, object]]:
    with store.read_session() as session:
        return {
            (spec.kind, getattr(obj, spec.key.key)): file_data(spec.to_file(obj))
            for spec in SPECS
            for obj in session.scalars(select(spec.model))
        }


def syncs(store: Store) -> list[SimpleNamespace]:
    """The GitSyncRecords, oldest first, as plain objects."""
    with store.read_session() as session:
        return [
            SimpleNamespace(**{c.key: getattr(r, c.key) for c in m.GitSyncRecord.__table__.columns})
            for r in session.scalars(select(m.GitSyncRecord).order_by(m.GitSyncRecord.id))
        ]


def add_repo(store: Store, url: str, *extra: str, name: str = "net") -> None:
    result = run_cli(store, "catalog", "repo", "add", name, "--url", url, "--path", FOLDER, *extra)
    assert result.exit_code == 0, result.stderr


def edit_description(path: Path, text: str) -> None:
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines = [line for line in lines if not line.startswith("description:")]
    lines.insert(at + 1, f"description: {text}")
    path.write_text("\n".join(lines) + "\n")


# -- pull ------------------------------------------------------------------------------------------


def test_pull_imports_a_commit_and_records_it(store: Store, tmp_path: Path) -> None:
    bare, url, work = library_repo(tmp_path)
    first = tip(bare)
    add_repo(store, url)

    dry = run_cli(store, "catalog", "pull", "net", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["report"]["dry_run"] is True
    assert catalog_content(store) == {} and syncs(store) == []  # a dry run writes and records nothing

    pulled = run_cli(store, "catalog", "pull", "net", "--json")
    assert pulled.exit_code == 0, pulled.stderr
    outcome = json.loads(pulled.stdout)
    assert (outcome["status"], outcome["commit"]) == ("succeeded", first)
    expected = import_catalog(store, [LIBRARY_DIR], dry_run=True)  # the library itself, already in
    assert expected.created == [] and expected.updated == []
    assert len(outcome["report"]["created"]) == len(list(LIBRARY_DIR.rglob("*.yaml")))

    # A second commit changes a task; the first commit can still be imported exactly.
    edit_description(work / FOLDER / "tasks" / "create-vlan.yaml", "Creates a VLAN, as edited in Git")
    second = commit_all(work, "reword create-vlan")
    assert run_cli(store, "catalog", "pull", "net").exit_code == 0
    assert catalog_content(store)[("task", "create-vlan")]["description"] == "Creates a VLAN, as edited in Git"
    back = run_cli(store, "catalog", "pull", "net", "--commit", first[:10], "--json")
    assert json.loads(back.stdout)["commit"] == first
    assert catalog_content(store)[("task", "create-vlan")]["description"] != "Creates a VLAN, as edited in Git"

    records = syncs(store)
    assert [(r.direction, r.status, r.commit_sha) for r in records] == [
        (GitDirection.IMPORT, GitSyncStatus.SUCCEEDED, first),
        (GitDirection.IMPORT, GitSyncStatus.SUCCEEDED, second),
        (GitDirection.IMPORT, GitSyncStatus.SUCCEEDED, first),
    ]
    assert all(r.completed_at is not None and r.completed_at >= r.started_at for r in records)
    assert "1 updated" in records[1].message

    shown = json.loads(run_cli(store, "catalog", "repo", "show", "net", "--json").stdout)
    assert [s["commit"] for s in shown["syncs"]] == [first, second, first]
    listed = json.loads(run_cli(store, "catalog", "repo", "list", "--json").stdout)
    assert [(r["name"], r["last_status"], r["last_commit"]) for r in listed] == [("net", "succeeded", first)]

    unknown = run_cli(store, "catalog", "pull", "net", "--commit", "0123456789abcdef")
    assert unknown.exit_code == 1 and "is not on branch main" in unknown.stderr


def test_a_malformed_file_reports_file_and_line_and_imports_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    _bare, url, work = library_repo(tmp_path)
    broken = work / FOLDER / "tasks" / "broken.yaml"
    broken.write_text("kind: task\nslug: broken\nname: Broken\ndescripton: typo\n")
    (work / FOLDER / "forms" / "bad-indent.yaml").write_text("kind: request_form\nslug: x\n  name: y\n")
    bad = commit_all(work, "two bad files among good ones")
    add_repo(store, url)

    result = run_cli(store, "catalog", "pull", "net")
    assert result.exit_code == 1
    assert f"{FOLDER}/tasks/broken.yaml:4: unknown key 'descripton' (did you mean 'description'?)" in result.stderr
    assert f"{FOLDER}/forms/bad-indent.yaml:3:" in result.stderr
    assert "nothing was imported" in result.stderr
    assert catalog_content(store) == {}  # not even the good files

    (record,) = syncs(store)
    assert (record.direction, record.status, record.commit_sha) == (GitDirection.IMPORT, GitSyncStatus.FAILED, bad)
    assert {(e["path"], e["line"]) for e in record.errors} == {
        (f"{FOLDER}/tasks/broken.yaml", 4),
        (f"{FOLDER}/forms/bad-indent.yaml", 3),
    }
    shown = run_cli(store, "catalog", "repo", "show", "net")
    assert f"{FOLDER}/tasks/broken.yaml:4: unknown key" in shown.stdout

    # A kind the repository does not provide is refused at its line, too.
    broken.unlink()
    (work / FOLDER / "forms" / "bad-indent.yaml").unlink()
    commit_all(work, "fixed")
    add_repo(store, url, "--provides", "tasks", name="tasks-only")
    narrow = run_cli(store, "catalog", "pull", "tasks-only", "--json")
    assert narrow.exit_code == 1
    errors = json.loads(narrow.stdout)["errors"]
    others = {p.parent.name for p in (work / FOLDER).rglob("*.yaml")} - {"tasks"}
    assert {e["path"].split("/")[2] for e in errors} == others and {"workflows", "forms", "checks"} <= others
    assert all(e["line"] == 1 and "is not content repository 'tasks-only' provides" in e["message"] for e in errors)
    assert catalog_content(store) == {}


# -- push ------------------------------------------------------------------------------------------


def test_push_round_trip_into_a_fresh_store(sqlite_store: Store, postgres_store: Store, tmp_path: Path) -> None:
    source, target = sqlite_store, postgres_store
    import_catalog(source, [LIBRARY_DIR])
    bare, url = bare_repo(tmp_path)  # empty: no branch yet
    add_repo(source, url)

    pushed = run_cli(source, "catalog", "push", "net", "--json")
    assert pushed.exit_code == 0, pushed.stderr
    outcome = json.loads(pushed.stdout)
    assert outcome["status"] == "succeeded" and outcome["commit"] == tip(bare)
    assert len(outcome["report"]["added"]) == len(list(LIBRARY_DIR.rglob("*.yaml")))
    work = clone(url, tmp_path / "reader")
    assert (work / FOLDER / "tasks" / "create-vlan.yaml").is_file()
    assert git(work, "log", "--format=%an %s").splitlines() == [
        f"nettui nettui catalog: {len(outcome['report']['added'])} added"
    ]

    again = json.loads(run_cli(source, "catalog", "push", "net", "--json").stdout)
    assert again["status"] == "succeeded" and "nothing to push" in again["message"] and again["commit"] == tip(bare)
    assert len(git(work, "log", "--format=%H", "origin/main").split()) == 1

    add_repo(target, url)
    assert run_cli(target, "catalog", "pull", "net").exit_code == 0
    assert catalog_content(target) == catalog_content(source)

    # A change in the store is one commit with the message given; the fresh store follows it.
    with source.session() as session:
        task = session.scalars(select(m.TaskDefinition).where(m.TaskDefinition.slug == "set-ntp-servers")).one()
        task.description = "Set NTP servers (edited in nettui)"
        form = session.scalars(select(m.RequestForm).where(m.RequestForm.slug == "set-ntp")).one()
        session.delete(form)
    third = run_cli(source, "catalog", "push", "net", "-m", "NTP wording", "--json")
    report = json.loads(third.stdout)["report"]
    assert report == {
        "added": [],
        "modified": [f"{FOLDER}/tasks/set-ntp-servers.yaml"],
        "deleted": [f"{FOLDER}/forms/set-ntp.yaml"],
    }
    git(work, "pull", "-q")
    assert git(work, "log", "-1", "--format=%s%n%b").splitlines()[:3] == [
        "NTP wording",
        f"changed: {FOLDER}/tasks/set-ntp-servers.yaml",
        f"removed: {FOLDER}/forms/set-ntp.yaml",
    ]
    assert run_cli(target, "catalog", "pull", "net").exit_code == 0
    assert catalog_content(target)[("task", "set-ntp-servers")]["description"] == "Set NTP servers (edited in nettui)"

    kinds = [(r.direction, r.status) for r in syncs(source)]
    assert kinds == [(GitDirection.EXPORT, GitSyncStatus.SUCCEEDED)] * 3


def test_a_conflict_is_reported_and_the_remote_left_alone(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    bare, url, author = library_repo(tmp_path)
    # Written by hand with other spellings than nettui's (``cisco``, ``ios``): the same content.
    facts = author / FOLDER / "tasks" / "gather-facts.yaml"
    facts.write_text(
        facts.read_text()
        .replace("manufacturer: Cisco", "manufacturer: cisco")
        .replace("platform: cisco_ios", "platform: ios")
    )
    commit_all(author, "other spellings")
    add_repo(store, url)
    assert run_cli(store, "catalog", "pull", "net").exit_code == 0

    # Someone edits two tasks in Git; nettui edits one of them, and a third one.
    edit_description(author / FOLDER / "tasks" / "create-vlan.yaml", "Edited in Git")
    edit_description(author / FOLDER / "tasks" / "gather-facts.yaml", "Also edited in Git")
    theirs = commit_all(author, "edits in Git")
    with store.session() as session:
        for slug in ("create-vlan", "set-ntp-servers"):
            task = session.scalars(select(m.TaskDefinition).where(m.TaskDefinition.slug == slug)).one()
            task.description = "Edited in nettui"

    result = run_cli(store, "catalog", "push", "net", "--json")
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "conflict"
    assert [e["path"] for e in outcome["errors"]] == [f"{FOLDER}/tasks/create-vlan.yaml"]
    assert "changed in the repository" in outcome["errors"][0]["message"]
    assert "nothing was pushed" in outcome["message"] and "never forces" in outcome["message"]
    assert tip(bare) == theirs  # untouched
    assert syncs(store)[-1].status == GitSyncStatus.CONFLICT

    # A pull would discard the store's edits: reported the same way, nothing imported.
    pulled = run_cli(store, "catalog", "pull", "net", "--json")
    assert pulled.exit_code == 1
    outcome = json.loads(pulled.stdout)
    assert outcome["status"] == "conflict" and "--discard-local" in outcome["message"]
    assert [(e["path"], e["object"]) for e in outcome["errors"]] == [
        (f"{FOLDER}/tasks/create-vlan.yaml", "task/create-vlan"),
        (f"{FOLDER}/tasks/set-ntp-servers.yaml", "task/set-ntp-servers"),  # only the store changed it
    ]
    content = catalog_content(store)
    assert content[("task", "create-vlan")]["description"] == "Edited in nettui"
    assert content[("task", "gather-facts")]["description"] != "Also edited in Git"

    # Once the store takes Git's version of the conflicting task, the push merges file by file:
    # Git's edit of gather-facts stays, nettui's edit of set-ntp-servers goes in.
    with store.session() as session:
        task = session.scalars(select(m.TaskDefinition).where(m.TaskDefinition.slug == "create-vlan")).one()
        task.description = "Edited in Git"
    merged = run_cli(store, "catalog", "push", "net", "--json")
    assert merged.exit_code == 0, merged.stdout
    assert json.loads(merged.stdout)["report"]["modified"] == [f"{FOLDER}/tasks/set-ntp-servers.yaml"]
    git(author, "pull", "-q")
    assert git(author, "rev-parse", "HEAD~1").strip() == theirs  # a fast-forward on top of theirs
    assert "description: Also edited in Git" in (author / FOLDER / "tasks" / "gather-facts.yaml").read_text()
    assert "Edited in nettui" in (author / FOLDER / "tasks" / "set-ntp-servers.yaml").read_text()

    # The store now agrees with Git up to its push; a local edit blocks a pull until discarded.
    with store.session() as session:
        task = session.scalars(select(m.TaskDefinition).where(m.TaskDefinition.slug == "gather-facts")).one()
        task.description = "Local only"
    assert json.loads(run_cli(store, "catalog", "pull", "net", "--json").stdout)["status"] == "conflict"
    taken = run_cli(store, "catalog", "pull", "net", "--discard-local", "--json")
    assert taken.exit_code == 0 and json.loads(taken.stdout)["report"]["updated"] == ["task/gather-facts"]
    assert catalog_content(store)[("task", "gather-facts")]["description"] == "Also edited in Git"


def test_a_push_to_a_branch_that_moved_is_refused_not_forced(tmp_path: Path) -> None:
    bare, url, author = library_repo(tmp_path)
    with Workdir(Remote(url)) as work:
        work.checkout(work.fetch())
        work.write("mine.txt", "mine\n")
        work.status()
        work.commit("mine")
        (author / "theirs.txt").write_text("theirs\n")
        theirs = commit_all(author, "theirs")
        with pytest.raises(PushRejected, match="moved on since it was fetched"):
            work.push()
    assert tip(bare) == theirs


# -- credentials ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_credentials_reach_git_only(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = sqlite_store
    token = "ghp_s3cr3t-T0KEN-value"
    leaked = run_cli(store, "catalog", "repo", "add", "x", "--url", f"https://bot:{token}@git.example.net/c.git")
    assert leaked.exit_code == 1 and "carries a password" in leaked.stderr and token not in leaked.stderr

    # Through GIT_ASKPASS, in git's environment only: git's credential machinery gets them.
    remote = Remote("https://git.example.net/c.git", secrets={"token": Secret(token), "username": Secret("bot")})
    with Workdir(remote) as work:
        work.out("init", "-q")
        filled = work.git("credential", "fill", input="protocol=https\nhost=git.example.net\n\n").stdout
        assert token not in work.out("config", "--list")  # not in any git configuration
    assert f"username=bot\npassword={token}\n" in filled

    # An ssh key: a private file for GIT_SSH_COMMAND while the work lasts, gone afterwards.
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----"
    with Workdir(Remote("git@git.example.net:net/c.git", secrets={"ssh_key": Secret(key)})) as work:
        command = work.git("-c", 'alias.show-ssh=!printf %s "$GIT_SSH_COMMAND"', "show-ssh").stdout
        key_file = Path(command.split("'")[1])
        assert key_file.read_text() == key + "\n" and key_file.stat().st_mode & 0o777 == 0o600
    assert not key_file.exists()

    monkeypatch.setenv("GIT_TOKEN", token)
    assert run_cli(store, "secrets", "set", "git-bot", "username=env:GIT_USER").exit_code == 0
    nope = run_cli(
        store, "catalog", "repo", "add", "x", "--url", "https://git.example.net/c.git", "--credentials", "git-bot"
    )
    assert nope.exit_code == 1 and "no 'token', 'password' or 'ssh_key' entry" in nope.stderr
    assert run_cli(store, "secrets", "set", "git-bot", "token=env:GIT_TOKEN").exit_code == 0
    monkeypatch.setenv("GIT_USER", "bot")
    # Nothing listens there: the failure is reported and recorded without the token.
    url = f"http://127.0.0.1:{_free_port()}/c.git"
    assert run_cli(store, "catalog", "repo", "add", "x", "--url", url, "--credentials", "git-bot").exit_code == 0
    failed = run_cli(store, "catalog", "pull", "x")
    assert failed.exit_code == 1 and "git ls-remote failed" in failed.stderr and token not in failed.stderr
    (record,) = syncs(store)
    assert record.status == GitSyncStatus.FAILED and token not in record.message + json.dumps(record.errors)
    shown = run_cli(store, "catalog", "repo", "show", "x", "--json")
    assert token not in shown.stdout and json.loads(shown.stdout)["credentials"] == "git-bot"

    assert run_cli(store, "catalog", "repo", "remove", "x").exit_code == 0
    assert syncs(store) == [] and json.loads(run_cli(store, "catalog", "repo", "list", "--json").stdout) == []
    missing = run_cli(store, "catalog", "push", "x")
    assert missing.exit_code == 1 and "no repository 'x'" in missing.stderr


# -- backups ---------------------------------------------------------------------------------------


def test_backups_export_one_file_per_device_one_commit_per_run(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    bare, url = bare_repo(tmp_path, "configs.git")
    seed = clone(url, tmp_path / "seed-clone")
    (seed / "README.md").write_text("configurations, one file per device\n")
    commit_all(seed, "readme")

    first = export_backups_to(store, url, {"sw1": "hostname sw1\n", "sw2": "hostname sw2\n"}, "2/2 backed up")
    assert first == tip(bare)
    work = clone(url, tmp_path / "reader")
    assert git(work, "log", "-1", "--format=%s%n%b").strip().splitlines() == [
        "nettui backup: 2 device(s) changed: sw1, sw2",
        "added: sw1, sw2",
        "",
        git(work, "log", "-1", "--format=%b").splitlines()[2],
    ]
    assert git(work, "log", "-1", "--format=%b").splitlines()[2].endswith("UTC: 2/2 backed up")
    assert export_backups_to(store, url, {"sw1": "hostname sw1\n", "sw2": "hostname sw2\n"}) is None

    # sw1 changed, sw2 is gone from the store, rtr1 is new; the README is not a device.
    second = export_backups_to(store, url, {"sw1": "hostname sw1\nntp server 10.0.0.1\n", "rtr1": "hostname rtr1\n"})
    git(work, "pull", "-q")
    assert git(work, "rev-parse", "HEAD").strip() == second
    assert git(work, "log", "-1", "--format=%s%n%b").splitlines()[:4] == [
        "nettui backup: 3 device(s) changed: rtr1, sw1, sw2",
        "added: rtr1",
        "changed: sw1",
        "removed: sw2",
    ]
    assert sorted(p.name for p in work.iterdir() if p.name != ".git") == ["README.md", "rtr1.cfg", "sw1.cfg"]

    # Through a repository nettui knows: its folder, and the export recorded.
    add_repo(store, url, "--provides", "backups", name="configs")
    third = export_backups_to(store, "configs", {"sw1": "hostname sw1\n"})
    git(work, "pull", "-q")
    assert (work / FOLDER / "sw1.cfg").read_text() == "hostname sw1\n"
    (record,) = syncs(store)
    assert (record.direction, record.status, record.commit_sha) == (GitDirection.EXPORT, GitSyncStatus.SUCCEEDED, third)
    assert record.message.endswith("1 added, 0 changed, 0 removed")
    refused = run_cli(store, "catalog", "pull", "configs")
    assert refused.exit_code == 1 and "provides no catalog content" in refused.stderr


def test_push_catalog_of_an_unknown_repository_is_a_clear_error(sqlite_store: Store) -> None:
    from catalog.errors import NotFoundError

    with pytest.raises(NotFoundError, match="nettui catalog repo list"):
        push_catalog(sqlite_store, "nowhere")
