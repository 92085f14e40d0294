"""What the terminal UI remembers per nettui user between runs: for now, the theme.

One small JSON file per user under the user configuration directory
(``$XDG_CONFIG_HOME/nettui/tui/USER.json`` on Linux, ``~/.config/nettui/tui/`` by default),
so that several users of one machine (the TUI served over SSH by the bastion runs every
user's TUI as one system account) never overwrite each other's choices. Nothing secret is
kept here. A file that cannot be read is reported and ignored; nettui then starts with its
defaults and writes a good file at the next change.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["SettingsError", "TuiSettings", "load_settings", "save_settings", "settings_path"]


class SettingsError(Exception):
    """The settings file exists but cannot be used; the message says where and what to do."""


@dataclass(frozen=True)
class TuiSettings:
    """One user's TUI settings."""

    theme: str | None = None
    """The Textual theme chosen last (command palette, "Change theme"); None: the default."""


def settings_dir() -> Path:
    """Where the per-user files live (created on first save)."""
    from platformdirs import user_config_path

    return user_config_path("nettui") / "tui"


def settings_path(user: str) -> Path:
    """The file holding ``user``'s settings (the name quoted, so any username is one safe file name)."""
    return settings_dir() / f"{quote(user, safe='') or '_'}.json"


def load_settings(user: str) -> TuiSettings:
    """``user``'s settings; the defaults when there is no file. SettingsError when the file
    is there but unreadable or not a settings file."""
    path = settings_path(user)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return TuiSettings()
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the TUI settings ({exc.strerror}); using the defaults") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(
            f"{path}: not JSON ({exc}); using the defaults. Fix the file or delete it (nettui writes it again)"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a JSON object; using the defaults. Delete the file to start afresh")
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise SettingsError(f"{path}: 'theme' must be a theme name, not {theme!r}; using the default theme")
    return TuiSettings(theme=theme or None)


def save_settings(user: str, settings: TuiSettings) -> Path:
    """Write ``user``'s settings at once (a reader never sees half a file); the file's path.
    OSError when the directory cannot be written."""
    path = settings_path(user)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(settings), out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
