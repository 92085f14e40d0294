"""What the SSH CLI providers (netmiko, scrapli) share: configuration and facts are show
commands whose text depends only on the platform."""

from __future__ import annotations

from typing import Any

from drivers.base import CommandResult, DeviceTarget
from drivers.errors import DeviceError
from drivers.facts import facts_from_show_version, hostname_from_prompt
from drivers.platforms import PlatformProfile
from drivers.transfer import ScpFileTransfer


class CliProviderBase(ScpFileTransfer):
    """get_config and get_facts on top of a subclass's send_command and prompt; file transfer
    over SCP, checked with the device's hash command (drivers.transfer)."""

    target: DeviceTarget
    profile: PlatformProfile

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult:
        raise NotImplementedError

    async def current_prompt(self) -> str:
        """The device's prompt as it is now."""
        raise NotImplementedError

    async def get_config(self, source: str = "running") -> str:
        command = self.profile.running_config if source == "running" else self.profile.startup_config
        if command is None:
            raise DeviceError(self.target.name, f"{self.profile.network_driver} has no {source} configuration")
        return (await self.send_command(command)).output

    async def get_facts(self) -> dict[str, Any]:
        result = await self.send_command(self.profile.version_command, parse=True)
        facts = facts_from_show_version(self.profile.network_driver, result.output, result.parsed)
        if not facts["hostname"]:  # EOS does not say it in show version; its prompt does
            facts["hostname"] = hostname_from_prompt(await self.current_prompt())
        return facts
