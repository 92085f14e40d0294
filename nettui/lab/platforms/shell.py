"""The Unix shell under a device's CLI (EOS ``bash``, Junos ``start shell sh``), as far as file
transfer tools use it: netmiko checks space with ``/bin/df -k``, looks for a file with
``/bin/ls``, reads its size from ``/bin/ls -l``, and people check images with ``md5sum``.

Paths are the shell's view of the device's file systems (``/mnt/flash/x.swi`` on EOS is
``flash:x.swi`` in the CLI); they are resolved by the platform, so both views see the same files.
"""

from __future__ import annotations

import math
import shlex
from typing import TYPE_CHECKING

from nettui.lab.platforms.base import NO_SUCH_FILE, FileProblem, FileSystem, Response

if TYPE_CHECKING:
    from nettui.lab.device import CliSession
    from nettui.lab.platforms.base import Platform

__all__ = ["enter_shell", "run_shell_line"]

_DIGESTS = {"md5sum": "md5", "sha1sum": "sha1", "sha256sum": "sha256", "sha512sum": "sha512"}


def enter_shell(session: CliSession) -> None:
    """Switch the session to the shell; ``exit`` comes back to the mode it was in."""
    session.data["shell_return"] = session.mode
    session.mode = "shell"


def run_shell_line(platform: Platform, session: CliSession, line: str, *, program: str = "sh") -> Response:
    """Run one shell command line; ``exit`` returns to the CLI."""
    try:
        words = shlex.split(line)
    except ValueError:
        return Response(f"{program}: syntax error: unterminated quoted string")
    if not words:
        return Response()
    quiet = False  # stderr sent to /dev/null
    kept: list[str] = []
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        if word in ("2>", ">", "1>", "2>>", ">>"):
            quiet = quiet or (word.startswith("2") and index + 1 < len(words) and words[index + 1] == "/dev/null")
            skip = True
            continue
        if word.startswith(("2>", ">", "1>")):
            quiet = quiet or word in ("2>/dev/null", "2>>/dev/null")
            continue
        kept.append(word)
    if not kept:
        return Response()
    command, args = kept[0].rsplit("/", 1)[-1], kept[1:]
    if command in ("exit", "logout"):
        session.mode = session.data.pop("shell_return", platform.start_mode(session))
        return Response()
    out: list[str] = []
    err: list[str] = []
    flags = {a for a in args if a.startswith("-") and a != "-"}
    paths = [a for a in args if not (a.startswith("-") and a != "-")]
    if command == "ls":
        _ls(platform, session, paths or ["."], "-l" in flags or any("l" in f for f in flags), out, err)
    elif command == "df":
        _df(platform, session, paths, out, err)
    elif command in _DIGESTS:
        for path in paths:
            try:
                key = platform.existing_file(session.state, path)
            except FileProblem as exc:
                err.append(f"{command}: {path}: {exc.reason}")
                continue
            out.append(f"{session.state.file_digest(key, _DIGESTS[command])}  {path}")
    elif command == "rm":
        for path in paths:
            try:
                session.state.delete_file(platform.existing_file(session.state, path))
            except FileProblem as exc:
                if "-f" not in flags:
                    err.append(f"rm: cannot remove '{path}': {exc.reason}")
    elif command == "pwd":
        out.append(platform.file_systems[0].mount or "/")
    elif command in ("cd", "true", ":", "sync"):
        pass
    elif command == "echo":
        out.append(" ".join(args))
    else:
        err.append(f"{program}: {command}: command not found")
    lines = out + ([] if quiet else err)
    return Response("\n".join(lines))


def _ls(platform: Platform, session: CliSession, paths: list[str], long: bool, out: list[str], err: list[str]) -> None:
    state = session.state
    for path in paths:
        try:
            fs, name = platform.resolve_file(path)
        except FileProblem as exc:
            err.append(f"ls: cannot access '{path}': {exc.reason}")
            continue
        if not name:
            for file_name, file_size in platform.files_on(state, fs):
                out.append(_long_line(file_name, file_size) if long else file_name)
            continue
        size = state.files.get(fs.prefix + name)
        if size is None:
            err.append(f"ls: cannot access '{path}': {NO_SUCH_FILE}")
            continue
        out.append(_long_line(path, size) if long else path)


def _long_line(name: str, size: int) -> str:
    return f"-rwxrwx--- 1 admin eosadmin {size} Dec 19 06:51 {name}"


def _df(platform: Platform, session: CliSession, paths: list[str], out: list[str], err: list[str]) -> None:
    chosen: list[FileSystem] = []
    for path in paths:
        try:
            chosen.append(platform.resolve_file(path)[0])
        except FileProblem as exc:
            err.append(f"df: {path}: {exc.reason}")
    if not paths:
        chosen = list(platform.file_systems)
    if not chosen:
        return
    out.append("Filesystem     1K-blocks    Used Available Use% Mounted on")
    for fs in chosen:
        used = platform.used_bytes(session.state, fs)
        free = platform.free_bytes(session.state, fs)
        percent = math.ceil(used * 100 / fs.total) if fs.total else 0
        out.append(
            f"{fs.device:<14}{fs.total // 1024:>10} {used // 1024:>7} {free // 1024:>9} {percent:>3}% "
            f"{fs.mount or fs.prefix}"
        )
