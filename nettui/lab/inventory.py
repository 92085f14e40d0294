"""The inventory a lab writes for ``nettui inventory import``, and the env file with its credentials.

The inventory names a SecretsGroup (``lab``) instead of carrying credentials: the store
holds references only. The credentials go to an env file beside the inventory, readable by
its owner only, and the user is told the two commands that connect the two.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from nettui.lab.device import LabDevice

__all__ = ["ENV_VARIABLES", "SECRETS_GROUP", "inventory_data", "secrets_command", "write_env_file", "write_inventory"]

SECRETS_GROUP = "lab"
ENV_VARIABLES = {
    "username": "NETTUI_LAB_USERNAME",
    "password": "NETTUI_LAB_PASSWORD",
    "enable_secret": "NETTUI_LAB_ENABLE",
}


def inventory_data(devices: Sequence[LabDevice], *, secrets_group: str = SECRETS_GROUP) -> dict[str, Any]:
    """The inventory mapping (``devices:`` list) for the lab's devices."""
    items = []
    for device in devices:
        platform = device.platform
        facts = platform.inventory_facts(device.index)
        if device.has_state:
            state = device.state
            facts = {"serial": state.serial, "model": state.model, "software_version": state.version}
        items.append(
            {
                "name": device.name,
                "host": device.host,
                "ssh_port": device.port,
                "platform": device.platform_name,
                "manufacturer": platform.manufacturer,
                "model": facts["model"],
                "software_version": facts["software_version"],
                "serial": facts["serial"],
                "location": "Lab",
                "role": "Lab Switch",
                "secrets_group": secrets_group,
                "tags": ["lab", device.platform_name],
            }
        )
    return {"devices": items}


def write_inventory(path: Path, devices: Sequence[LabDevice], *, secrets_group: str = SECRETS_GROUP) -> None:
    """Write the inventory YAML (atomically)."""
    header = "# Written by `nettui lab start`; import with `nettui inventory import`.\n"
    text = header + yaml.safe_dump(inventory_data(devices, secrets_group=secrets_group), sort_keys=False)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    temp.replace(path)


def write_env_file(path: Path, username: str, password: str, enable_secret: str) -> None:
    """Write ``export NETTUI_LAB_...=`` lines to ``path`` with mode 0600 (created so, never wider)."""
    values = {"username": username, "password": password, "enable_secret": enable_secret}
    lines = [f"export {ENV_VARIABLES[key]}={shlex.quote(value)}" for key, value in values.items()]
    if path.exists():
        path.unlink()
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Credentials of the nettui lab; keep this file private.\n" + "\n".join(lines) + "\n")


def secrets_command(secrets_group: str = SECRETS_GROUP) -> str:
    """The ``nettui secrets set`` command that points the group at the env variables."""
    refs = " ".join(f"{key}=env:{var}" for key, var in ENV_VARIABLES.items())
    return f"nettui secrets set {secrets_group} {refs}"
