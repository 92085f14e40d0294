"""Faults that a lab device can be told to show, one set per device, changeable at any time.

Each fault reproduces what a client meets on a real network: a password that the device
refuses, output that trickles in, a connection that dies in the middle of a command, a
command that the device's authorisation rejects, and a device that refuses connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Faults"]


@dataclass
class Faults:
    """The faults of one device; all off by default."""

    wrong_password: bool = False  # every password is refused, the right one too
    slow_output: float = 0.0  # seconds to wait before each command's output
    drop_after_bytes: int | None = None  # abort the connection once this many bytes were sent
    reject_commands: list[str] = field(default_factory=list)  # commands (prefixes) refused
    refuse_connections: bool = False  # the listening port is closed
    corrupt_transfers: bool = False  # files written over SCP/SFTP are stored with one byte changed

    def rejects(self, command: str) -> bool:
        """Whether ``command`` is one that this device refuses."""
        text = " ".join(command.split()).lower()
        return any(text == r.lower() or text.startswith(r.lower() + " ") for r in self.reject_commands)

    def update(self, **changes: Any) -> None:
        """Change some faults by name; an unknown name is an error, not silently ignored."""
        names = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown fault {key!r}; known faults: {', '.join(sorted(names))}")
            setattr(self, key, value)

    def clear(self) -> None:
        """Turn every fault off."""
        self.wrong_password = False
        self.slow_output = 0.0
        self.drop_after_bytes = None
        self.reject_commands = []
        self.refuse_connections = False
        self.corrupt_transfers = False
