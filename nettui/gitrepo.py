"""Content kept in Git: catalog pull and push, and the backups' export, on one piece of machinery.

:class:`Workdir` is a throw-away clone of one branch of one remote, driven by plain ``git`` in a
subprocess (no extra dependency; the operator's own git configuration applies): fetch, check out
a commit, read and write files under the mapped folder, commit, push *without force*. A push the
remote refuses because it moved on raises :class:`PushRejected`; callers start again from the new
tip, and never force.

On top of it:

- :func:`pull_catalog` imports exactly one commit's catalog files, all or nothing, through the
  catalog importer (``catalog.sync.import_catalog``); problems are reported as ``file:line``
  relative to the repository root.
- :func:`push_catalog` exports the store's content of the kinds a repository provides and
  commits it. Each file is merged three ways at file level against the commit of the last
  successful pull or push (the *base*): a file only the store changed is written, a file only
  the repository changed is kept, a file both changed differently is a conflict: reported
  (status ``conflict``), nothing pushed.
- the backups' Git export (``nettui.lifecycle.backup.export_to_git``) writes one file per device
  and pushes one commit per run.

Every pull and push of a :class:`~catalog.models.GitRepository` leaves a
:class:`~catalog.models.GitSyncRecord` (direction, commit, times, status, message, errors).

Credentials come from the repository's secrets group: ``token`` (or ``password``) with an
optional ``username`` for https, handed to git through ``GIT_ASKPASS`` in the child's
environment only; or ``ssh_key`` (the private key) for ssh, written to a private temporary file
for ``GIT_SSH_COMMAND``. Secret values never reach the command line, the store, commit messages or
error messages: git's own output is scrubbed of them before it is shown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.files import FOLDERS, KINDS, CatalogFile, key_of
from catalog.loader import CatalogInvalid, Problem
from catalog.models.choices import GitDirection, GitSyncStatus
from catalog.naming import slugify
from catalog.secrets import MASK, Secret, resolve_group
from catalog.store import Store

GIT = "git"
PUSH_ATTEMPTS = 3  # a remote that keeps moving under us is reported, not raced forever
MAX_ERRORS_RECORDED = 200

# What a repository may provide, and the catalog file kinds each one covers.
PROVIDES: dict[str, tuple[str, ...]] = {
    "tasks": ("task",),
    "implementations": ("task",),  # implementations live in their task's file
    "workflows": ("workflow",),
    "forms": ("request_form",),
    "checks": ("compliance_check",),
    "providers": ("provider", "provider_config"),
    "backups": (),
}
CATALOG_PROVIDES = ["tasks", "workflows", "forms", "checks", "providers"]
TOKEN_ENTRIES = ("token", "password")
SSH_KEY_ENTRY = "ssh_key"


class GitError(NettuiError):
    """A Git operation that failed: what git said (secrets masked), where, and what to do."""


class PushRejected(GitError):
    """The remote refused a push because its branch moved on since the fetch (never forced)."""


# -- remotes and credentials ----------------------------------------------------------------------


def display_url(url: str) -> str:
    """``url`` without any user information (``https://user:pw@host`` -> ``https://host``)."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def check_url(url: str) -> str:
    """A remote URL nettui accepts: file://, https://, http://, ssh://, git:// or ``user@host:path``;
    never one that carries a password."""
    url = url.strip()
    if not url:
        raise GitError("the repository URL is empty", hint="give --url, e.g. https://git.example.net/net/catalog.git")
    parts = urlsplit(url)
    if parts.scheme in ("https", "http", "ssh", "git", "file"):
        if parts.scheme != "file" and not parts.hostname:
            raise GitError(f"no host in the repository URL {display_url(url)!r}")
        if parts.password is not None:
            raise GitError(
                "the repository URL carries a password or token; it would be stored and shown in clear",
                hint="remove it from the URL and give --credentials GROUP: a secrets group with a 'token' entry",
            )
        return url
    if re.fullmatch(r"[\w.-]+@[\w.-]+:\S+", url):  # scp-like ssh: git@host:net/catalog.git
        return url
    if url.startswith("/") and "://" not in url:  # a repository on this machine
        return url
    raise GitError(
        f"unsupported repository URL {display_url(url)!r}",
        hint="use file:///path/to/repo.git, https://host/repo.git, ssh://host/repo.git, git@host:repo.git "
        "or an absolute path",
    )


def check_path(path: str) -> str:
    """A folder inside a repository: relative, normalised, no ``..``; ``""`` is the root."""
    text = path.strip().replace("\\", "/").strip("/")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")] if text else []
    if text.startswith("/") or ".." in parts or any(p.startswith(".git") for p in parts):
        raise GitError(f"bad path {path!r} inside the repository", hint="give a relative folder such as 'catalog'")
    return "/".join(parts)


@dataclass(frozen=True)
class Remote:
    """Where content lives: a URL, a branch, a folder in it, and fetched credentials (if any)."""

    url: str
    branch: str = "main"
    path: str = ""
    secrets: Mapping[str, Secret] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{display_url(self.url)} ({self.branch})"


def remote_of(repo: m.GitRepository) -> Remote:
    """The remote of a stored repository, its credentials fetched now (never stored)."""
    secrets: dict[str, Secret] = {}
    if repo.credentials is not None:
        secrets = resolve_group(repo.credentials)
        if not any(name in secrets for name in (*TOKEN_ENTRIES, SSH_KEY_ENTRY)):
            raise GitError(
                f"secrets group {repo.credentials.name!r} has no 'token', 'password' or 'ssh_key' entry",
                where=f"repository {repo.name!r}",
                hint=f"`nettui secrets set {repo.credentials.name} token=env:GIT_TOKEN` (https) "
                f"or ssh_key=file:~/.ssh/id_ed25519 (ssh)",
            )
    return Remote(repo.remote_url, repo.branch, repo.path, secrets)


# -- the working copy -------------------------------------------------------------------------------


def _run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False, input=input)
    except FileNotFoundError:
        if shutil.which(args[0]) is not None:
            raise
        raise GitError(
            "the git command is not installed", hint="install git (e.g. `apt-get install git`) and try again"
        ) from None


_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$NETTUI_GIT_USERNAME" ;;
  *) printf '%s\\n' "$NETTUI_GIT_PASSWORD" ;;
esac
"""


class Workdir:
    """A temporary clone of ``remote``'s branch; removed (with any credential files) on exit."""

    def __init__(self, remote: Remote, *, depth: int | None = None) -> None:
        self.remote = remote
        self.depth = depth
        self._temp = Path(tempfile.mkdtemp(prefix="nettui-git-"))
        self.work = self._temp / "work"
        self.tip: str | None = None
        try:
            self.work.mkdir()
            self._env = self._environment()
        except BaseException:
            self.close()
            raise

    # context manager
    def __enter__(self) -> Workdir:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self._temp, ignore_errors=True)

    @property
    def root(self) -> Path:
        """The mapped folder in the working tree."""
        return self.work / self.remote.path if self.remote.path else self.work

    def repo_path(self, relative: str) -> str:
        """A path under the mapped folder as a path from the repository root."""
        return f"{self.remote.path}/{relative}" if self.remote.path else relative

    def _environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "nettui",
            "GIT_AUTHOR_EMAIL": "nettui@localhost",
            "GIT_COMMITTER_NAME": "nettui",
            "GIT_COMMITTER_EMAIL": "nettui@localhost",
            "LC_ALL": "C",
        }
        secrets = self.remote.secrets
        token = next((secrets[n] for n in TOKEN_ENTRIES if n in secrets), None)
        if token is not None:
            askpass = self._temp / "askpass.sh"
            askpass.write_text(_ASKPASS, encoding="utf-8")
            askpass.chmod(0o700)
            user = secrets.get("username")
            env |= {
                # Only this token: no credential helper may answer instead, nor keep it on disk.
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "credential.helper",
                "GIT_CONFIG_VALUE_0": "",
                "GIT_ASKPASS": str(askpass),
                "NETTUI_GIT_USERNAME": user.reveal() if user else "git",
                "NETTUI_GIT_PASSWORD": token.reveal(),
            }
        key = secrets.get(SSH_KEY_ENTRY)
        if key is not None:
            key_file = self._temp / "ssh_key"
            key_file.touch(mode=0o600)
            key_file.write_text(key.reveal().rstrip("\n") + "\n", encoding="utf-8")
            env["GIT_SSH_COMMAND"] = f"ssh -i '{key_file}' -o IdentitiesOnly=yes -o BatchMode=yes"
        return env

    def _scrub(self, text: str) -> str:
        for secret in self.remote.secrets.values():
            value = secret.reveal()
            if value:
                text = text.replace(value, MASK)
        return text.replace(self.remote.url, display_url(self.remote.url))

    def git(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = _run([GIT, *args], cwd=self.work, env=self._env, input=input)
        if check and done.returncode != 0:
            raise GitError(
                f"git {args[0]} failed: {self._scrub(done.stderr.strip())[:500]}",
                where=self.remote.label,
                hint="check the URL, the branch and the credentials, and that the repository accepts pushes",
            )
        return done

    def out(self, *args: str) -> str:
        return self.git(*args).stdout

    # fetching

    def fetch(self) -> str | None:
        """Fetch the branch; its tip, or None when the remote has no such branch (yet)."""
        if self.tip is None and not (self.work / ".git").exists():
            self.out("init", "-q", "-b", self.remote.branch)
            self.out("remote", "add", "origin", self.remote.url)
        heads = self.out("ls-remote", "--heads", "origin", f"refs/heads/{self.remote.branch}").split()
        if not heads:
            self.tip = None
            return None
        depth = ["--depth", str(self.depth)] if self.depth else []
        self.out("fetch", "-q", *depth, "origin", f"+refs/heads/{self.remote.branch}:refs/remotes/origin/branch")
        self.tip = self.out("rev-parse", "refs/remotes/origin/branch").strip()
        return self.tip

    def checkout(self, commit: str | None) -> None:
        """The working tree at ``commit`` on the local branch; an empty tree when ``commit`` is None."""
        if commit is None:
            self.git("checkout", "-q", "--orphan", "nettui-new", check=False)
            self.git("rm", "-rq", "--cached", "--ignore-unmatch", ".", check=False)
            for child in self.work.iterdir():
                if child.name != ".git":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            return
        self.out("checkout", "-q", "-f", "-B", "nettui-work", commit)
        self.out("clean", "-qfdx")

    def resolve(self, commit: str) -> str:
        """The full hash of ``commit`` (a hash or a prefix) if it is on the fetched branch."""
        if not re.fullmatch(r"[0-9a-fA-F]{4,64}", commit):
            raise GitError(f"{commit!r} is not a commit hash", hint="give a hash from `git log`, e.g. 3f2a9c1")
        done = self.git("rev-parse", "--verify", "-q", f"{commit}^{{commit}}", check=False)
        full = done.stdout.strip()
        if done.returncode != 0 or not self.contains(full):
            raise GitError(
                f"commit {commit} is not on branch {self.remote.branch}",
                where=self.remote.label,
                hint="`git log` on the branch lists its commits; pushes to other branches are not read",
            )
        return full

    def contains(self, commit: str) -> bool:
        """Whether ``commit`` is the fetched tip or one of its ancestors."""
        if not commit or self.tip is None:
            return False
        return self.git("merge-base", "--is-ancestor", commit, self.tip, check=False).returncode == 0

    # reading

    def files(self, commit: str | None) -> list[str]:
        """Files under the mapped folder at ``commit``, as paths relative to that folder."""
        if commit is None:
            return []
        prefix = f"{self.remote.path}/" if self.remote.path else ""
        listed = self.out("ls-tree", "-r", "-z", "--name-only", commit, "--", prefix or ".").split("\0")
        return sorted(p[len(prefix) :] for p in listed if p and p.startswith(prefix))

    def read(self, commit: str | None, relative: str) -> str | None:
        """A file's text at ``commit`` (None when it does not exist there)."""
        if commit is None:
            return None
        done = self.git("show", f"{commit}:{self.repo_path(relative)}", check=False)
        return done.stdout if done.returncode == 0 else None

    def snapshot(self, commit: str) -> Path:
        """The mapped folder at ``commit`` in a separate, read-only-by-convention worktree."""
        where = self._temp / f"at-{commit[:12]}"
        if not where.exists():
            self.out("worktree", "add", "-q", "--detach", str(where), commit)
        folder = where / self.remote.path if self.remote.path else where
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def changed_files(self, base: str | None, commit: str) -> set[str]:
        """Files under the mapped folder that differ between ``base`` and ``commit``."""
        if base is None:
            return set(self.files(commit))
        prefix = f"{self.remote.path}/" if self.remote.path else ""
        listed = self.out("diff", "--name-only", "-z", base, commit, "--", prefix or ".").split("\0")
        return {p[len(prefix) :] for p in listed if p and p.startswith(prefix)}

    # writing

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def delete(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)

    def status(self) -> list[tuple[str, str]]:
        """(A|M|D, path relative to the mapped folder) for every staged change."""
        self.out("add", "-A", "--", self.remote.path or ".")
        prefix = f"{self.remote.path}/" if self.remote.path else ""
        out = []
        fields = self.out("diff", "--cached", "--name-status", "-z", "--no-renames").split("\0")
        for code, name in zip(fields[0::2], fields[1::2], strict=False):
            if name.startswith(prefix):
                out.append((code[:1], name[len(prefix) :]))
        return out

    def commit(self, title: str, body: str = "") -> str:
        args = ["commit", "-q", "--no-verify", "-m", title]
        if body:
            args += ["-m", body]
        self.out(*args)
        return self.out("rev-parse", "HEAD").strip()

    def push(self) -> None:
        """Push HEAD to the branch, never forced; :class:`PushRejected` when the remote moved."""
        done = self.git("push", "-q", "--porcelain", "origin", f"HEAD:refs/heads/{self.remote.branch}", check=False)
        if done.returncode == 0:
            return
        said = self._scrub((done.stdout + "\n" + done.stderr).strip())
        if re.search(r"non-fast-forward|fetch first|\[rejected\]|stale info", said):
            raise PushRejected(
                f"the remote branch {self.remote.branch} moved on since it was fetched",
                where=self.remote.label,
                hint="run the push again: it starts from the new commits (it never forces)",
            )
        raise GitError(
            f"git push failed: {said[:500]}",
            where=self.remote.label,
            hint="check the credentials and that the branch accepts pushes (protected branches refuse them)",
        )

    def commit_and_push(self, title: str, body: str, *, last_attempt: bool) -> str | None:
        """Commit and push; the commit, or None when the remote moved on and this is not the
        ``last_attempt`` (fetch and build the commit again; on the last one :class:`PushRejected`)."""
        sha = self.commit(title, body)
        try:
            self.push()
        except PushRejected:
            if last_attempt:
                raise
            return None
        return sha


# -- the store's repositories ---------------------------------------------------------------------


def check_provides(items: list[str]) -> list[str]:
    out = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        if item not in PROVIDES:
            raise GitError(f"unknown content kind {item!r}", hint=f"one or more of: {', '.join(PROVIDES)}")
        if item not in out:
            out.append(item)
    return out


def check_branch(branch: str) -> str:
    done = _run([GIT, "check-ref-format", "--branch", branch])
    if done.returncode != 0 or not branch:
        raise GitError(f"bad branch name {branch!r}", hint="give --branch main, or another branch's name")
    return branch


def get_repository(session: Session, name: str) -> m.GitRepository:
    repo = session.scalars(
        select(m.GitRepository)
        .where((m.GitRepository.name == name) | (m.GitRepository.slug == name))
        .options(
            selectinload(m.GitRepository.credentials)
            .selectinload(m.SecretsGroup.entries)
            .selectinload(m.SecretsGroupEntry.group)
        )
    ).first()
    if repo is None:
        raise NotFoundError(f"no repository {name!r}", hint="`nettui catalog repo list` lists them")
    return repo


def detached_repository(store: Store, name: str) -> m.GitRepository:
    """The repository with its credentials' references, usable after the session ends."""
    with store.read_session() as session:
        repo = get_repository(session, name)
        session.expunge_all()  # detached as loaded: nothing expires when the session closes
    return repo


def add_repository(
    store: Store,
    name: str,
    url: str,
    *,
    branch: str = "main",
    path: str = "",
    provides: list[str] | None = None,
    credentials: str | None = None,
) -> dict[str, Any]:
    """Record a repository; every value is checked first (nothing is fetched)."""
    name = name.strip()
    slug = slugify(name)
    if not slug:
        raise GitError(f"bad repository name {name!r}", hint="use letters, digits, '-' and '_', e.g. 'net-catalog'")
    url, branch, path = check_url(url), check_branch(branch), check_path(path)
    kinds = check_provides(provides if provides is not None else CATALOG_PROVIDES)
    if not kinds:
        raise GitError("a repository provides at least one kind of content", hint=f"--provides {','.join(PROVIDES)}")
    with store.session() as session:
        if session.scalars(
            select(m.GitRepository).where((m.GitRepository.name == name) | (m.GitRepository.slug == slug))
        ).first():
            raise GitError(f"a repository named {name!r} already exists", hint="remove it first, or pick another name")
        group = None
        if credentials:
            group = session.scalars(select(m.SecretsGroup).where(m.SecretsGroup.name == credentials)).one_or_none()
            if group is None:
                raise NotFoundError(
                    f"no secrets group {credentials!r}",
                    hint=f"`nettui secrets set {credentials} token=env:GIT_TOKEN` creates one",
                )
            names = {e.name for e in group.entries}
            if not names & {*TOKEN_ENTRIES, SSH_KEY_ENTRY}:
                raise GitError(
                    f"secrets group {credentials!r} has no 'token', 'password' or 'ssh_key' entry",
                    hint=f"`nettui secrets set {credentials} token=env:GIT_TOKEN` (https) "
                    "or ssh_key=file:~/.ssh/id_ed25519 (ssh)",
                )
        repo = m.GitRepository(
            name=name, slug=slug, remote_url=url, branch=branch, path=path, provides=kinds, credentials=group
        )
        session.add(repo)
        session.flush()
        return repository_record(repo)


def remove_repository(store: Store, name: str) -> None:
    """Forget a repository and its sync records (the remote and the store's catalog are untouched)."""
    with store.session() as session:
        session.delete(get_repository(session, name))


def sync_record(record: m.GitSyncRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "direction": record.direction.value,
        "commit": record.commit_sha,
        "status": record.status.value,
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "message": record.message,
        "errors": record.errors,
    }


def repository_record(repo: m.GitRepository, *, syncs: int = 0) -> dict[str, Any]:
    last = repo.syncs[0] if syncs and repo.syncs else None
    record: dict[str, Any] = {
        "name": repo.name,
        "slug": repo.slug,
        "url": display_url(repo.remote_url),
        "branch": repo.branch,
        "path": repo.path,
        "provides": list(repo.provides),
        "credentials": repo.credentials.name if repo.credentials else None,
    }
    if syncs:
        record["last_status"] = last.status.value if last else None
        record["last_commit"] = last.commit_sha if last else None
        record["syncs"] = [sync_record(s) for s in repo.syncs[:syncs]]
    return record


def list_repositories(store: Store) -> list[dict[str, Any]]:
    with store.read_session() as session:
        repos = session.scalars(
            select(m.GitRepository)
            .order_by(m.GitRepository.name)
            .options(selectinload(m.GitRepository.credentials), selectinload(m.GitRepository.syncs))
        ).all()
        return [repository_record(r, syncs=1) for r in repos]


def show_repository(store: Store, name: str, *, syncs: int = 20) -> dict[str, Any]:
    with store.read_session() as session:
        return repository_record(get_repository(session, name), syncs=syncs)


# -- sync records ---------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """How a pull or push ended (what its GitSyncRecord says)."""

    repository: str
    direction: str
    status: str
    commit: str = ""
    message: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == GitSyncStatus.SUCCEEDED.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "direction": self.direction,
            "status": self.status,
            "commit": self.commit,
            "message": self.message,
            "errors": self.errors,
            **({"report": self.report} if self.report else {}),
            "record": self.record_id,
        }


def _start_record(store: Store, repo_id: int, direction: GitDirection) -> int:
    with store.session() as session:
        record = m.GitSyncRecord(repository_id=repo_id, direction=direction, status=GitSyncStatus.RUNNING)
        session.add(record)
        session.flush()
        return int(record.id)


def _finish_record(store: Store, record_id: int, result: SyncResult) -> None:
    with store.session() as session:
        record = session.get(m.GitSyncRecord, record_id)
        if record is None:  # the repository was removed meanwhile
            return
        record.status = GitSyncStatus(result.status)
        record.commit_sha = result.commit
        record.message = result.message[:4000]
        record.errors = result.errors[:MAX_ERRORS_RECORDED]
        record.completed_at = datetime.now(UTC)
    result.record_id = record_id


def _base_commit(store: Store, repo_id: int) -> str | None:
    """The commit of the last successful pull or push: what the store last agreed with."""
    with store.read_session() as session:
        return session.scalars(
            select(m.GitSyncRecord.commit_sha)
            .where(
                m.GitSyncRecord.repository_id == repo_id,
                m.GitSyncRecord.status == GitSyncStatus.SUCCEEDED,
                m.GitSyncRecord.commit_sha != "",
            )
            .order_by(m.GitSyncRecord.started_at.desc(), m.GitSyncRecord.id.desc())
        ).first()


@contextmanager
def _recorded(store: Store, name: str, direction: GitDirection) -> Iterator[tuple[m.GitRepository, SyncResult]]:
    """The repository (detached, credentials loaded) and a result that is recorded however the
    work ends: an unexpected error is recorded as failed with its message, then raised."""
    repo = detached_repository(store, name)
    result = SyncResult(repo.name, direction.value, GitSyncStatus.RUNNING.value)
    record_id = _start_record(store, repo.id, direction)
    try:
        yield repo, result
    except NettuiError as exc:
        result.status = GitSyncStatus.FAILED.value
        result.message = exc.render()
        _finish_record(store, record_id, result)
        raise
    except BaseException:
        result.status = GitSyncStatus.FAILED.value
        result.message = result.message or "interrupted"
        _finish_record(store, record_id, result)
        raise
    _finish_record(store, record_id, result)


def _catalog_kinds(repo: m.GitRepository) -> set[str]:
    kinds = {kind for item in repo.provides for kind in PROVIDES.get(str(item), ())}
    if not kinds:
        raise GitError(
            f"repository {repo.name!r} provides no catalog content "
            f"(it provides: {', '.join(repo.provides) or 'nothing'})",
            hint="add it again with --provides tasks,workflows,forms,checks,providers",
        )
    return kinds


# -- pull ------------------------------------------------------------------------------------------


def _relative_problems(problems: list[Problem], work: Workdir) -> list[Problem]:
    """Problems with their file named from the repository root (``catalog/tasks/x.yaml``)."""
    roots = [work.work, work.work.resolve()]
    out = []
    for p in problems:
        path = Path(p.path) if Path(p.path).is_absolute() else Path.cwd() / p.path
        shown = p.path
        for root in roots:
            try:
                shown = path.relative_to(root).as_posix()
                break
            except ValueError:
                continue
        message = p.message
        for root in roots:  # a message naming another file of the checkout ("also used by ...")
            message = message.replace(f"{root}/", "")
        out.append(Problem(shown, p.line, message))
    return out


def _problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"path": p.path, "line": p.line, "message": p.message} for p in problems]


def _kind_problems(root: Path, kinds: set[str], repo: m.GitRepository) -> list[Problem]:
    """A file of a kind the repository does not provide is refused, at its ``kind:`` line."""
    from catalog.loader import catalog_paths, parse_file

    out = []
    for path in catalog_paths(root):
        loaded, _ = parse_file(path, str(path))
        if loaded is not None and loaded.item.kind not in kinds:
            out.append(
                Problem(
                    str(path),
                    loaded.line("kind"),
                    f"kind '{loaded.item.kind}' is not content repository '{repo.name}' provides "
                    f"(it provides: {', '.join(repo.provides)})",
                )
            )
    return out


def pull_catalog(
    store: Store, name: str, *, commit: str | None = None, dry_run: bool = False, discard_local: bool = False
) -> SyncResult:
    """Import the catalog files of one commit (the branch's tip by default), all or nothing.

    Objects changed in the store since the last pull or push that the import would replace are
    a conflict (nothing imported) unless ``discard_local`` takes the repository's version.

    A dry run reports what would change and records nothing. Problems come back in the
    result (status failed, errors with path and line) and nothing is imported."""
    from catalog.sync import import_catalog

    if dry_run:
        repo = detached_repository(store, name)
        result = SyncResult(repo.name, GitDirection.IMPORT.value, GitSyncStatus.RUNNING.value)
        _pull(store, repo, result, commit, dry_run=True, discard_local=discard_local, importer=import_catalog)
        return result
    with _recorded(store, name, GitDirection.IMPORT) as (repo, result):
        _pull(store, repo, result, commit, dry_run=False, discard_local=discard_local, importer=import_catalog)
    return result


def _local_changes_in_the_way(
    store: Store, work: Workdir, base: str | None, importer: Callable[..., Any]
) -> list[dict[str, Any]]:
    """Objects the import would change that the store also changed since ``base`` (the last
    successful pull or push): importing would silently discard those changes.

    Both sides are compared the way the importer compares (its dry runs), so a file written
    with other spellings (``cisco`` for ``Cisco``) is not a change. Without a usable base (the
    first pull) there is nothing to protect."""
    if base is None or not work.contains(base):
        return []
    incoming = importer(store, [work.root], dry_run=True)
    changing = {*incoming.created, *incoming.updated}
    if not changing:
        return []
    try:
        since = importer(store, [work.snapshot(base)], dry_run=True)
    except CatalogInvalid:
        return []  # the base no longer imports against this store: nothing to compare with
    clashes = sorted(changing & {*since.created, *since.updated})
    if not clashes:
        return []
    files = {f"{kind}/{key}": path for (kind, key), (path, _) in _repo_objects(work, "HEAD").items()}
    return [
        {
            "path": work.repo_path(files.get(label, "?")),
            "object": label,
            "message": ("deleted from" if label in since.created else "changed in")
            + f" the store since commit {base[:12]}",
        }
        for label in clashes
    ]


def _pull(
    store: Store,
    repo: m.GitRepository,
    result: SyncResult,
    commit: str | None,
    *,
    dry_run: bool,
    discard_local: bool,
    importer: Callable[..., Any],
) -> None:
    kinds = _catalog_kinds(repo)
    with Workdir(remote_of(repo)) as work:
        tip = work.fetch()
        if tip is None:
            raise GitError(
                f"the repository has no branch {repo.branch}",
                where=work.remote.label,
                hint="push to it first (`nettui catalog push`), or give the right --branch",
            )
        target = work.resolve(commit) if commit else tip
        result.commit = target
        work.checkout(target)
        if not work.root.is_dir():
            raise GitError(
                f"commit {target[:12]} has no folder {repo.path!r}",
                where=work.remote.label,
                hint="check the repository's path (`nettui catalog repo show`)",
            )
        problems = [] if kinds >= set(KINDS) else _kind_problems(work.root, kinds, repo)
        try:
            if problems:
                raise CatalogInvalid(problems)
            if not discard_local:
                clashes = _local_changes_in_the_way(store, work, _base_commit(store, repo.id), importer)
                if clashes:
                    result.status = GitSyncStatus.CONFLICT.value
                    result.errors = clashes
                    result.message = (
                        f"{len(clashes)} object(s) changed in the store since the last pull or push would be "
                        f"replaced by commit {target[:12]}; nothing was imported:\n"
                        + "\n".join(f"{c['path']}: {c['object']}: {c['message']}" for c in clashes[:20])
                        + f"\nhint: push them first (`nettui catalog push {repo.name}`), or take the "
                        "repository's version with --discard-local"
                    )
                    return
            report = importer(store, [work.root], dry_run=dry_run)
        except CatalogInvalid as exc:
            relative = _relative_problems(exc.problems, work)
            result.status = GitSyncStatus.FAILED.value
            result.errors = _problem_dicts(sorted(relative))
            count = len(relative)
            result.message = (
                f"{count} problem{'s' if count != 1 else ''} in commit {target[:12]}; nothing was imported:\n"
                + "\n".join(str(p) for p in sorted(relative)[:20])
            )
            return
    result.status = GitSyncStatus.SUCCEEDED.value
    result.report = report.as_dict()
    result.message = f"commit {target[:12]}: {report.summary()}"


# -- push ------------------------------------------------------------------------------------------


def _meaning(item: CatalogFile) -> dict[str, Any]:
    """What a catalog object means, for comparing: every field, children in a stable order."""
    data = item.model_dump(mode="json")
    if data.get("kind") == "task":
        data["implementations"] = sorted(data["implementations"], key=lambda i: i["slug"])
        data["tags"] = sorted(data["tags"])
    return data


def _semantic(text: str | None) -> Any:
    """What a catalog file means (formatting and key order aside); its text when it does not
    parse as a catalog file; None when there is no file."""
    from catalog.yamlfile import parse_yaml

    if text is None:
        return None
    try:
        raw = parse_yaml(text)
        return _meaning(KINDS[raw["kind"]].model_validate(raw))
    except Exception:  # anything unreadable compares as its text
        return ("text", text)


def _store_items(store: Store, kinds: set[str]) -> dict[tuple[str, str], CatalogFile]:
    """The store's content of ``kinds`` as catalog file objects: (kind, key) -> object."""
    from catalog.sync import SPECS

    eager: dict[str, Any] = {
        "task": (
            selectinload(m.TaskDefinition.tags),
            selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.manufacturer),
            selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.platform),
            selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.provider),
        ),
        "workflow": (selectinload(m.Workflow.steps).selectinload(m.WorkflowStep.task),),
    }
    out: dict[tuple[str, str], CatalogFile] = {}
    with store.read_session() as session:
        for spec in SPECS:
            if spec.kind not in kinds:
                continue
            for obj in session.scalars(select(spec.model).order_by(spec.key).options(*eager.get(spec.kind, ()))):
                item: CatalogFile = spec.to_file(obj)
                out[(item.kind, key_of(item))] = item
    return out


def _repo_objects(work: Workdir, commit: str | None) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(kind, key) -> (file, meaning) for every readable catalog file at ``commit`` (checked out)."""
    from catalog.loader import catalog_paths, parse_file

    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    if commit is None or not work.root.is_dir():
        return out
    for path in catalog_paths(work.root):
        loaded, problems = parse_file(path, str(path))
        if loaded is not None and not problems:
            key = (loaded.item.kind, key_of(loaded.item))
            out.setdefault(key, (path.relative_to(work.root).as_posix(), _meaning(loaded.item)))
    return out


@dataclass
class _Plan:
    writes: dict[str, str] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _plan_push(
    work: Workdir,
    kinds: set[str],
    ours_by_key: dict[tuple[str, str], CatalogFile],
    base: str | None,
    changed_in_store: Callable[[str], bool],
) -> _Plan:
    """A file-level three-way merge of the store (ours) onto the fetched tip (theirs) from ``base``.

    Objects are compared by meaning, not text: a file formatted by hand that says what the
    store says is left as it is. ``changed_in_store(label)`` says whether the store changed an
    object (``task/create-vlan``) since ``base``."""
    from catalog.sync import dump_yaml, file_data

    tip = work.tip
    theirs_by_key = {k: v for k, v in _repo_objects(work, tip).items() if k[0] in kinds}
    # path -> (label, ours: object or None to delete, theirs' meaning or None when absent)
    targets: dict[str, tuple[str, CatalogFile | None, Any]] = {}
    for key, item in ours_by_key.items():
        found = theirs_by_key.get(key)
        if found is not None and found[1] == _meaning(item):
            continue  # the repository already says this
        path = found[0] if found else f"{FOLDERS[key[0]]}/{slugify(key[1])}.yaml"
        theirs = found[1] if found else _semantic(work.read(tip, path))
        targets[path] = (f"{key[0]}/{key[1]}", item, theirs)
    for key, (path, meaning) in theirs_by_key.items():
        if key not in ours_by_key:
            targets.setdefault(path, (f"{key[0]}/{key[1]}", None, meaning))  # gone from the store
    plan = _Plan()
    remote_changes = work.changed_files(base, tip) if tip else set()
    for path, (label, wanted, theirs) in sorted(targets.items()):
        ours = _meaning(wanted) if wanted is not None else None
        if ours == theirs:
            continue
        base_meaning = _semantic(work.read(base, path)) if base else None
        if path not in remote_changes or theirs == base_meaning:
            if wanted is None:
                plan.deletes.append(path)
            else:
                plan.writes[path] = dump_yaml(file_data(wanted))
        elif base is not None and (ours == base_meaning or not changed_in_store(label)):
            continue  # only the repository changed it: keep its version
        else:
            plan.conflicts.append(
                {
                    "path": work.repo_path(path),
                    "object": label,
                    "message": (
                        "changed in the repository (now "
                        + ("deleted" if theirs is None else "edited")
                        + f" at {tip[:12] if tip else '-'}) and in the store"
                        + (f" since commit {base[:12]}" if base else " (nettui never pulled this repository)")
                    ),
                }
            )
    return plan


def _store_changes(store: Store, work: Workdir, base: str | None) -> Callable[[str], bool]:
    """Whether the store changed an object since ``base``, as the importer sees it (its dry run of
    the base commit: other spellings of the same thing are no change). Computed on first use."""
    from catalog.sync import import_catalog

    found: list[set[str] | None] = []

    def changed(label: str) -> bool:
        if base is None:
            return True
        if not found:
            try:
                report = import_catalog(store, [work.snapshot(base)], dry_run=True)
                found.append({*report.created, *report.updated})
            except CatalogInvalid:
                found.append(None)  # the base no longer imports: count it as changed
        labels = found[0]
        return labels is None or label in labels

    return changed


def push_catalog(store: Store, name: str, *, message: str | None = None) -> SyncResult:
    """Export the store's content of the kinds ``name`` provides, commit and push it (never forced).

    Conflicts (a file changed both in the repository and in the store since the last pull or
    push) are reported with status ``conflict`` and nothing is pushed."""
    with _recorded(store, name, GitDirection.EXPORT) as (repo, result):
        kinds = _catalog_kinds(repo)
        ours = _store_items(store, kinds)
        base = _base_commit(store, repo.id)
        with Workdir(remote_of(repo)) as work:
            for attempt in range(1, PUSH_ATTEMPTS + 1):
                tip = work.fetch()
                work.checkout(tip)
                usable_base = base if base and work.contains(base) else None
                plan = _plan_push(work, kinds, ours, usable_base, _store_changes(store, work, usable_base))
                if plan.conflicts:
                    result.status = GitSyncStatus.CONFLICT.value
                    result.commit = tip or ""
                    result.errors = plan.conflicts
                    result.message = (
                        f"{len(plan.conflicts)} file(s) changed both in the repository and in the store; "
                        "nothing was pushed:\n"
                        + "\n".join(f"{c['path']}: {c['message']}" for c in plan.conflicts[:20])
                        + "\nhint: pull the repository (`nettui catalog pull "
                        + repo.name
                        + "`) to take its version, or change those files in the repository; a push never forces"
                    )
                    break
                if not plan.writes and not plan.deletes:
                    result.status = GitSyncStatus.SUCCEEDED.value
                    result.commit = tip or ""
                    result.message = "nothing to push: the repository already holds the store's content"
                    break
                for path, text in plan.writes.items():
                    work.write(path, text)
                for path in plan.deletes:
                    work.delete(path)
                changes = work.status()
                title, body = _catalog_message(changes, work, message)
                sha = work.commit_and_push(title, body, last_attempt=attempt == PUSH_ATTEMPTS)
                if sha is None:
                    continue
                result.status = GitSyncStatus.SUCCEEDED.value
                result.commit = sha
                result.message = f"pushed {sha[:12]}: {title}"
                result.report = {
                    "added": [work.repo_path(p) for c, p in changes if c == "A"],
                    "modified": [work.repo_path(p) for c, p in changes if c == "M"],
                    "deleted": [work.repo_path(p) for c, p in changes if c == "D"],
                }
                break
    return result


def _catalog_message(changes: list[tuple[str, str]], work: Workdir, message: str | None) -> tuple[str, str]:
    counts = {code: sum(1 for c, _ in changes if c == code) for code in "AMD"}
    parts = [
        f"{n} {word}" for code, word in (("M", "changed"), ("A", "added"), ("D", "removed")) if (n := counts[code])
    ]
    title = message.strip() if message and message.strip() else f"nettui catalog: {', '.join(parts)}"
    words = {"M": "changed", "A": "added", "D": "removed"}
    ordered = sorted(changes, key=lambda change: ("MAD".index(change[0]), change[1]))
    lines = [f"{words[c]}: {work.repo_path(p)}" for c, p in ordered]
    return title.splitlines()[0][:200], "\n".join(lines)


# -- backups ---------------------------------------------------------------------------------------

_DEVICE_FILE = re.compile(r"[^\w.@+-]")


def device_file(device: str) -> str:
    """The one file of a device's configuration: ``<device>.cfg`` (unsafe characters as ``_``)."""
    name = _DEVICE_FILE.sub("_", device).lstrip(".") or "_"
    return f"{name}.cfg"


@dataclass
class BackupCommit:
    commit: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def backup_message(
    added: list[str], changed: list[str], removed: list[str], run_summary: str | None, when: datetime
) -> tuple[str, str]:
    """The commit of a backup run: the title names the devices whose configuration changed (one
    file each), the body says which were added, changed and removed, and the run."""

    def shown(names: list[str]) -> str:
        return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")

    every = sorted({*added, *changed, *removed})
    title = f"nettui backup: {len(every)} device(s) changed: {shown(every)}"
    body = [
        f"{word}: {', '.join(names)}"
        for word, names in (("added", added), ("changed", changed), ("removed", removed))
        if names
    ]
    body.append("")
    body.append(f"run at {when.strftime('%Y-%m-%d %H:%M:%S')} UTC" + (f": {run_summary}" if run_summary else ""))
    return title, "\n".join(body)


def export_backups(remote: Remote, configs: Mapping[str, str], run_summary: str | None = None) -> BackupCommit:
    """One file per device (``configs``: device -> configuration) under the remote's folder, one
    commit for the lot, pushed without force; devices whose file is there but are not in
    ``configs`` any more are removed. ``commit`` is None when nothing changed."""
    wanted = {device_file(device): device for device in configs}
    with Workdir(remote, depth=1) as work:
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            tip = work.fetch()
            work.checkout(tip)
            for path in work.files(tip):
                if "/" not in path and path.endswith(".cfg") and path not in wanted:
                    work.delete(path)
            for path, device in wanted.items():
                work.write(path, configs[device])
            changes = [(code, path) for code, path in work.status() if "/" not in path and path.endswith(".cfg")]
            if not changes:
                return BackupCommit(None)
            names = {code: sorted(wanted.get(p, p[: -len(".cfg")]) for c, p in changes if c == code) for code in "AMD"}
            title, body = backup_message(names["A"], names["M"], names["D"], run_summary, datetime.now(UTC))
            sha = work.commit_and_push(title, body, last_attempt=attempt == PUSH_ATTEMPTS)
            if sha is None:
                continue
            return BackupCommit(sha, names["A"], names["M"], names["D"])
    raise AssertionError("unreachable")  # pragma: no cover


def export_backups_to(
    store: Store, target: str, configs: Mapping[str, str], run_summary: str | None = None, *, branch: str = "main"
) -> str | None:
    """The backups' export to ``target``: a repository nettui knows by that name (its URL,
    branch, folder and credentials; the export is recorded) or a URL. The commit, or None."""
    with store.read_session() as session:
        known = session.scalars(
            select(m.GitRepository.name).where((m.GitRepository.name == target) | (m.GitRepository.slug == target))
        ).first()
    if known is None:
        return export_backups(Remote(check_url(target), check_branch(branch)), configs, run_summary).commit
    with _recorded(store, known, GitDirection.EXPORT) as (repo, result):
        if "backups" not in repo.provides:
            raise GitError(
                f"repository {repo.name!r} does not provide backups (it provides: {', '.join(repo.provides)})",
                hint="add a repository with --provides backups for the configurations",
            )
        done = export_backups(remote_of(repo), configs, run_summary)
        result.status = GitSyncStatus.SUCCEEDED.value
        result.commit = done.commit or ""
        result.message = (
            f"pushed {done.commit[:12]}: {len(done.added)} added, {len(done.changed)} changed, "
            f"{len(done.removed)} removed"
            if done.commit
            else "nothing changed since the last export"
        )
        result.report = {"added": done.added, "changed": done.changed, "removed": done.removed}
    return done.commit
