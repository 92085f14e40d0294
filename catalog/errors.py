"""Errors an operator can act on: what went wrong, where, and what to do about it."""

from __future__ import annotations


class NettuiError(Exception):
    """A failure to show to the user as-is (no traceback).

    ``what`` is the failure, ``where`` names the file, object or setting involved and
    ``hint`` says what to do next.
    """

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class NotFoundError(NettuiError):
    """A named object does not exist in the store."""


class StepSkipped(NettuiError):
    """Raised by a task's hook that did nothing to the device on purpose (an upgrade batch's
    stop rule, say): the engine records the device's step as skipped, with this reason, not
    as failed."""
