"""How the bastion behaves: where it listens, where recordings go, and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bastion.recording import DEFAULT_PATTERNS
from catalog.store import data_dir


def default_recordings_dir() -> Path:
    """Recordings live with nettui's other files unless ``--recordings`` says otherwise."""
    return data_dir() / "recordings"


def default_host_key_path() -> Path:
    return data_dir() / "bastion" / "ssh_host_ed25519_key"


@dataclass(frozen=True)
class BastionPolicy:
    """The bastion's settings. Forwarding of ports, agents and X11 is refused unless enabled."""

    host: str = "127.0.0.1"
    port: int = 2222
    host_key_path: Path = field(default_factory=default_host_key_path)
    recordings_dir: Path = field(default_factory=default_recordings_dir)
    idle_timeout: float = 900.0  # seconds without a byte either way
    max_duration: float = 8 * 3600.0  # seconds a session may last at all
    login_grace: float = 30.0  # seconds from connecting to being authenticated
    max_auth_failures: int = 5  # refused logins per source address within failure_window ...
    failure_window: float = 300.0  # ... after which that address is refused for this long
    allow_port_forwarding: bool = False
    allow_agent_forwarding: bool = False
    allow_x11_forwarding: bool = False
    secret_patterns: tuple[str, ...] = DEFAULT_PATTERNS
    poll_interval: float = 1.0  # how often new commands are saved and the store is asked for terminations
    log_save_interval: float = 5.0  # how often a session's growing transcript alone is saved to the store
    device_timeout: float = 15.0  # connecting and logging in to a device
