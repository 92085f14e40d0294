"""Recording a device session as it goes: an asciicast v2 file, the commands typed and a
redacted transcript, with secrets kept out of all three.

Secrets are kept out in two ways. Input typed after a password prompt (the device echoes
nothing, and ``Password:`` ends its last line) is never recorded. Everything else, output and
input alike, goes through :class:`Redactor`: the device's own credentials and values matching
the secret patterns (enable secrets, SNMP communities, key strings...) become ``********``.
Redaction works on whole lines, so a secret split across two SSH packets is still found: a
partial line is recorded at once only while it cannot hold the start of a secret, otherwise it
waits for its end of line.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

MASK = "********"
RESULT_LIMIT = 4000  # characters of a command's output kept in commands_executed

# A keyword, then the secret: ``enable secret 5 $1$x``, ``snmp-server community public RO``,
# ``key-string 7 0822``, ``username bob password 0 pw``, ``set snmp community c``,
# ``authentication-key "$9$..."``. The secret is the last word before an optional trailing
# access word (RO/RW) and the end of the line.
DEFAULT_PATTERNS: tuple[str, ...] = (
    r"(?i)\b(?:enable[ \t]+(?:secret|password)|secret|password)(?:[ \t]+[0-9])?[ \t]+(?P<secret>\S+)",
    r"(?i)\bcommunity[ \t]+(?P<secret>\S+)",
    r"(?i)\b(?:key-string|key|authentication-key|pre-shared-key|encrypted-password)"
    r"(?:[ \t]+[0-9])?[ \t]+(?P<secret>\S+)",
)
# Words after which a secret may follow on the same line: a partial line holding one waits
# for its end before it is recorded.
_KEYWORDS = re.compile(r"(?i)secret|password|community|key|encrypted|pre-shared")
PASSWORD_PROMPT = re.compile(r"(?i)(?:password|passcode|secret|passphrase)[^\n:]{0,40}:\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


class Redactor:
    """Masks known secret values and whatever the secret patterns capture, line by line."""

    def __init__(self, secrets: Iterable[str | None] = (), patterns: Iterable[str] = DEFAULT_PATTERNS) -> None:
        # Values shorter than 3 characters would mask ordinary words (drivers.redaction agrees).
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self.patterns = [re.compile(p) for p in patterns]
        for pattern in self.patterns:
            if "secret" not in pattern.groupindex:
                raise ValueError(f"secret pattern {pattern.pattern!r} has no (?P<secret>...) group")

    def redact(self, text: str) -> str:
        """``text`` with every secret masked."""
        for value in self.secrets:
            if value in text:
                text = text.replace(value, MASK)
        for pattern in self.patterns:
            text = pattern.sub(_mask_group, text)
        return text

    def safe_prefix(self, partial: str) -> bool:
        """Whether ``partial`` (a line not yet ended) can be recorded now: it has no secret
        keyword, and does not end with the beginning of a known secret."""
        if _KEYWORDS.search(partial):
            return False
        for secret in self.secrets:
            tail = partial[-len(secret) :]
            start = tail.find(secret[0])
            while start >= 0:
                if secret.startswith(tail[start:]):
                    return False
                start = tail.find(secret[0], start + 1)
        return True


def _mask_group(match: re.Match[str]) -> str:
    start, end = match.span("secret")
    if match.group("secret") == MASK:
        return match.group(0)
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + MASK + whole[end - offset :]


@dataclass
class _LineStream:
    """One direction of the session, recorded line by line through the redactor."""

    redactor: Redactor
    ends: str  # the characters that end a line: "\n" for output, "\r\n" for input
    line: str = ""  # the current line, as received
    emitted: int = 0  # how much of the current (redacted) line is recorded already

    def feed(self, text: str) -> str:
        """What of ``text`` can be recorded now, redacted."""
        out: list[str] = []
        last_end = max(text.rfind(c) for c in self.ends) + 1
        if last_end:
            # Every complete line at once: the patterns never reach across a line end.
            out.append(self._take(self.redactor.redact(self.line + text[:last_end])))
            self.line, self.emitted = "", 0
        self.line += text[last_end:]
        if self.line and self.redactor.safe_prefix(self.line):
            redacted = self.redactor.redact(self.line)
            if redacted == self.line:
                out.append(self._take(redacted))
        return "".join(out)

    def _take(self, redacted: str) -> str:
        piece = redacted[self.emitted :]
        self.emitted = len(redacted)
        return piece

    def drain(self) -> str:
        """The rest of the current line, redacted (at the end of the session)."""
        piece = self._take(self.redactor.redact(self.line)) if self.line else ""
        self.line, self.emitted = "", 0
        return piece


@dataclass
class _InputLine:
    """The line being typed, as a terminal's line discipline would see it."""

    chars: list[str] = field(default_factory=list)
    escape: int = 0

    def feed(self, char: str) -> str | None:
        """Take one typed character; the complete line at Enter, else None."""
        if self.escape == 1:
            self.escape = 2 if char in "[O" else 0
            return None
        if self.escape == 2:
            if "@" <= char <= "~":
                self.escape = 0
            return None
        if char in "\r\n":
            line, self.chars = "".join(self.chars), []
            return line
        if char in "\x08\x7f":
            if self.chars:
                self.chars.pop()
        elif char == "\x1b":
            self.escape = 1
        elif char in "\x03\x15\x1a":  # Ctrl-C, Ctrl-U, Ctrl-Z: the line is abandoned
            self.chars = []
        elif char >= " " or char == "\t":
            self.chars.append(char)
        return None


class SessionRecorder:
    """Records one session: asciicast events written (and flushed at least every second) as
    they happen, commands as they are typed, and the redacted transcript."""

    def __init__(
        self,
        path: Path,
        redactor: Redactor,
        *,
        width: int,
        height: int,
        term_type: str,
        title: str,
        flush_interval: float = 1.0,
    ) -> None:
        self.path = path
        self.redactor = redactor
        self.started = time.monotonic()
        self.start_wall = datetime.now(UTC)
        self.flush_interval = flush_interval
        self.interactive = True  # False for an exec request: no echo, no prompt
        self.commands: list[dict[str, Any]] = []
        self._log: list[str] = []  # recorded output not yet in _transcript
        self._transcript = ""
        self._output = _LineStream(redactor, "\n")
        self._input = _LineStream(redactor, "\r\n\x03\x15")  # Ctrl-C and Ctrl-U abandon a line too
        self._typed = _InputLine()
        self._secret_input = False
        self._last_output_line = ""
        self._result: list[str] | None = None
        self._last_flush = self.started
        # What the store has not seen yet: new commands are saved within a second, the growing
        # transcript alone only every few seconds (the asciicast file has every byte anyway).
        self.dirty = True
        self.log_dirty = False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        header = {
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": int(self.start_wall.timestamp()),
            "env": {"TERM": term_type or "vt100", "SHELL": ""},
            "title": title,
        }
        self._file.write(json.dumps(header) + "\n")
        self._file.flush()

    # -- events --------------------------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _event(self, kind: str, data: str) -> None:
        if data and self._file is not None:
            self._file.write(json.dumps([round(self._now(), 6), kind, data]) + "\n")
            self.log_dirty = True
            self.maybe_flush()

    def output(self, data: str) -> None:
        """Output from the device (already relayed to the user)."""
        tail = (self._last_output_line + data).rsplit("\n", 1)[-1]
        self._last_output_line = _ANSI.sub("", tail)[-200:]
        recorded = self._output.feed(data)
        self._event("o", recorded)
        if recorded:
            self._log.append(recorded)
            if self._result is not None:
                self._result.append(recorded)

    def input(self, data: str) -> None:
        """Keystrokes from the user (already relayed to the device)."""
        for char in data:
            if not self._secret_input and not self._typed.chars and PASSWORD_PROMPT.search(self._last_output_line):
                # Typing at a password prompt: nothing of it is recorded, not even its length.
                self._secret_input = True
            line = self._typed.feed(char)
            if self._secret_input:
                if line is not None:
                    self._secret_input = False
                    self._last_output_line = ""
                    self._event("i", "\r")
                continue
            self._event("i", self._input.feed(char))
            if line is not None:
                self._command(line)

    def _command(self, line: str) -> None:
        command = self.redactor.redact(line.strip())
        if not command:
            return
        self._close_result()
        self._result = []
        self.commands.append(
            {"command": command, "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"), "result": ""}
        )
        self.dirty = True

    def marker(self, label: str) -> None:
        """A marker event (asciicast v2 ``m``): something the user sent that is not bytes, such
        as a break or a signal; players list markers and skip to them, and show nothing."""
        self._event("m", label)

    def exec_command(self, command: str) -> None:
        """An exec request: the command is the whole session."""
        self.interactive = False
        self._command(command)

    def resize(self, width: int, height: int) -> None:
        self._event("r", f"{width}x{height}")

    def _close_result(self) -> None:
        if self._result is None or not self.commands:
            return
        self.commands[-1]["result"] = self._result_text(final=True)
        self._result = None

    def _result_text(self, *, final: bool) -> str:
        text = "".join(self._result or ()).replace("\r", "")
        if self.interactive:
            # The echo of Enter comes first, the next prompt last: neither is the command's output.
            text = text.removeprefix("\n")
            head, newline, _prompt = text.rpartition("\n")
            text = head if newline or final else ""
        if len(text) > RESULT_LIMIT:
            text = text[:RESULT_LIMIT] + f"\n... ({len(text) - RESULT_LIMIT} more characters)"
        return text

    # -- persistence ---------------------------------------------------------------------------

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()

    def flush(self) -> None:
        """Push what was written to the operating system (a killed bastion loses nothing more)."""
        self._last_flush = time.monotonic()
        if self._file is not None:
            self._file.flush()

    def transcript(self) -> str:
        """The redacted session log so far, line ends as in a text file."""
        if self._log:
            # Only what is new is joined and cleaned: a long session's log is not rebuilt each time.
            new = "".join(self._log).replace("\r\n", "\n").replace("\r", "")
            self._log.clear()
            self._transcript += new
        return self._transcript

    def snapshot(self) -> tuple[list[dict[str, Any]], str]:
        """Commands (the current one's result so far included) and transcript, for the store."""
        commands = [dict(c) for c in self.commands]
        if self._result is not None and commands:
            commands[-1]["result"] = self._result_text(final=False)
        self.dirty = self.log_dirty = False
        return commands, self.transcript()

    def close(self) -> None:
        """Record what is left of partial lines, the last command's result, and close the file."""
        rest = self._output.drain()
        self._event("o", rest)
        if rest:
            self._log.append(rest)
            if self._result is not None:
                self._result.append(rest)
        self._close_result()
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None
        self.dirty = True


def read_asciicast(path: Path) -> tuple[dict[str, Any], list[tuple[float, str, str]]]:
    """Header and events of an asciicast v2 file; a clear error for anything else."""
    from catalog.errors import NettuiError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NettuiError(f"cannot read the recording: {exc.strerror}", where=str(path)) from None
    if not lines:
        raise NettuiError("the recording is empty", where=str(path))
    try:
        header = json.loads(lines[0])
        if not isinstance(header, dict) or header.get("version") != 2:
            raise ValueError("not an asciicast v2 header")
        events = []
        for line in lines[1:]:
            if line.strip():
                t, kind, data = json.loads(line)
                events.append((float(t), str(kind), str(data)))
    except (ValueError, TypeError) as exc:
        # A bastion killed mid-write leaves at most one cut line at the end: tolerate exactly that.
        if lines and not lines[-1].endswith("]"):
            return read_asciicast_lenient(lines)
        raise NettuiError(f"not an asciicast v2 recording: {exc}", where=str(path)) from None
    return header, events


def read_asciicast_lenient(lines: list[str]) -> tuple[dict[str, Any], list[tuple[float, str, str]]]:
    header = json.loads(lines[0])
    events = []
    for line in lines[1:-1]:
        t, kind, data = json.loads(line)
        events.append((float(t), str(kind), str(data)))
    return header, events
