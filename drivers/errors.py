"""Failures talking to a device, one type per thing an operator does differently about it.

Every error names the device and, where there is one, the command. None ever carries a secret:
messages are built from names and device output only, and causes are not chained (a library's
exception may hold the password it was given).
"""

from __future__ import annotations

from catalog.errors import NettuiError


class DeviceError(NettuiError):
    """Something went wrong with ``device`` (while sending ``command``, if set)."""

    def __init__(self, device: str, what: str, *, command: str | None = None, hint: str | None = None) -> None:
        self.device = device
        self.command = command
        where = f"device {device}" + (f", command {command!r}" if command else "")
        super().__init__(what, where=where, hint=hint)


class DeviceUnreachable(DeviceError):
    """No SSH session: the connection timed out or was refused."""


class AuthenticationFailed(DeviceError):
    """The device refused the username or password."""


class EnableFailed(DeviceError):
    """Logged in, but privileged (enable) mode was refused."""


class CommandRejected(DeviceError):
    """The device did not accept a command (``% Invalid input`` and its equivalents)."""


class ConfigurationError(DeviceError):
    """A configuration line was refused; the lines before it may have been applied."""


class ConnectionDropped(DeviceError):
    """The session ended in the middle of a command."""


class HostKeyChanged(DeviceError):
    """The device's SSH host key is not the one trusted before: refuse, loudly."""


class CredentialsError(DeviceError):
    """The device's secrets group is missing, incomplete or unresolvable."""
