"""`nettui demo`: a simulated network, a seeded store and the TUI, with nothing else installed.

The demo starts a lab (devices of all four platforms over real SSH on 127.0.0.1) in a thread,
creates a fresh store in a directory of its own under ``<data dir>/demo/`` (never the user's
store), imports the built-in catalog and the lab's inventory (three sites, their VLANs, the
switches' ports), points a secrets group at credential files it writes with mode 0600 (the
store holds only the references), adds users (the OS login as admin, alice the operator, bob
the approver), trusts the lab's host keys and opens the TUI with an embedded engine.

Leaving the TUI (or Ctrl-C) stops the lab and the engine, and deletes the demo directory
unless ``--keep``. With ``--no-tui`` the demo runs the engine itself and waits for Ctrl-C, so
that other terminals can use the store as other users.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from catalog.errors import NettuiError

__all__ = ["group"]

SECRETS_GROUP = "demo-lab"
SITES = [("London", "lon"), ("Paris", "par"), ("Frankfurt", "fra")]
ROLES = [("Core switch", "core-switch"), ("Access switch", "access-switch")]
# The VLANs every site has, in the inventory and on its switches.
VLANS = [(10, "USERS"), (20, "VOICE"), (30, "PRINTERS"), (99, "MANAGEMENT")]
PORTS_IN_INVENTORY = 12
OTHER_USERS = [("alice", "operator", "Alice Operator"), ("bob", "approver", "Bob Approver")]


@dataclass(frozen=True)
class DemoDevice:
    """A lab device as the demo names and places it."""

    name: str
    platform: str
    site: str
    role: str


def plan_devices(count: int, platforms: Sequence[str]) -> list[DemoDevice]:
    """``count`` devices over the sites in turn, the platforms in turn; each site's first
    device is its core switch, the others are access switches (``lon-acc2``...)."""
    devices = []
    per_site: dict[str, int] = {}
    for index in range(count):
        site, code = SITES[index % len(SITES)]
        number = per_site.get(site, 0) + 1
        per_site[site] = number
        core = number == 1
        role = ROLES[0][0] if core else ROLES[1][0]
        name = f"{code}-core1" if core else f"{code}-acc{number - 1}"
        devices.append(DemoDevice(name, platforms[index % len(platforms)], site, role))
    return devices


def _write_secret(path: Path, value: str) -> None:
    """A one-line secret file, created with mode 0600 (never wider, even for a moment)."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def _configure_vlans(lab_devices: Any) -> None:
    """The sites' VLANs on every switch before it boots, as the network's design has them."""
    for device in lab_devices:
        state = device.state
        if state.junos is not None:
            for vid, name in VLANS:
                state.junos.add(f"set vlans {name} vlan-id {vid}")
        else:
            for vid, name in VLANS:
                state.config.vlans[vid] = name


def inventory_document(lab_devices: Any, plan: dict[str, DemoDevice]) -> dict[str, Any]:
    """The lab's own inventory (``nettui.lab.inventory``), placed in the demo's sites and roles,
    with the sites' VLANs and the switches' first ports."""
    from nettui.lab.inventory import inventory_data

    devices = inventory_data(lab_devices, secrets_group=SECRETS_GROUP)["devices"]
    by_name = {device.name: device for device in lab_devices}
    for item in devices:
        placed = plan[item["name"]]
        item["location"] = placed.site
        item["role"] = placed.role
        item["tags"] = ["demo", item["platform"]]
        ports = by_name[item["name"]].platform.port_names()[:PORTS_IN_INVENTORY]
        item["interfaces"] = [{"name": port, "type": "1000base-t", "enabled": True} for port in ports]
    return {
        "roles": [{"name": name, "slug": slug} for name, slug in ROLES],
        "locations": [{"name": site, "slug": code} for site, code in SITES],
        "vlans": [{"vid": vid, "name": name, "location": site} for site, _ in SITES for vid, name in VLANS],
        "devices": devices,
    }


class Demo:
    """Everything one demo run starts and creates, and how to take it all down again."""

    def __init__(self, directory: Path, count: int, *, keep: bool) -> None:
        self.directory = directory
        self.count = count
        self.keep = keep
        self.login = getpass.getuser()
        self.lab: Any = None
        self.store: Any = None
        self.planned: list[DemoDevice] = []

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.directory / 'nettui.db'}"

    def set_up(self, say: Any) -> None:
        """Lab, store, catalog, inventory, credentials, users, host keys."""
        from catalog.inventory_io import import_inventory_file
        from catalog.secrets import set_group_entries
        from catalog.store import open_store
        from catalog.sync import LIBRARY_DIR, import_catalog
        from catalog.users import add_user
        from nettui.lab import Lab, LabThread
        from nettui.lab.platforms import PLATFORM_NAMES
        from nettui.lab.topology import Topology, TopologyDevice

        username, password, enable = "admin", secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        credentials = self.directory / "credentials"
        credentials.mkdir(mode=0o700)
        for entry, value in (("username", username), ("password", password), ("enable_secret", enable)):
            _write_secret(credentials / entry, value)

        self.planned = planned = plan_devices(self.count, PLATFORM_NAMES)
        topology = Topology(devices=[TopologyDevice(d.name, d.platform) for d in planned], chain=True)
        lab = Lab(
            len(planned),
            PLATFORM_NAMES,
            username=username,
            password=password,
            enable_secret=enable,
            state_dir=self.directory / "lab",
            topology=topology,
        )
        _configure_vlans(lab.devices)
        self.lab = LabThread(lab)
        self.lab.start()
        ports = [device.port for device in lab.devices]
        say(f"lab: {len(ports)} devices ({', '.join(PLATFORM_NAMES)}) on 127.0.0.1 ports {min(ports)}-{max(ports)}")

        self.store = open_store(self.database_url)
        import_catalog(self.store, [LIBRARY_DIR])
        inventory = self.directory / "inventory.yaml"
        document = inventory_document(lab.devices, {d.name: d for d in planned})
        inventory.write_text(yaml.safe_dump(document, sort_keys=False))
        with self.store.session() as session:
            refs = {entry: f"file:{credentials / entry}" for entry in ("username", "password", "enable_secret")}
            set_group_entries(session, SECRETS_GROUP, refs, description="The demo lab's login (files, mode 0600)")
            import_inventory_file(session, inventory)
            add_user(session, self.login, "admin", full_name="You")
            for name, role, full_name in OTHER_USERS:
                if name != self.login:
                    add_user(session, name, role, full_name=full_name)
        say(f"store: {self.database_url} (catalog, {len(planned)} devices, users {self._user_list()})")
        asyncio.run(self._trust_host_keys([d.name for d in planned]))

    def _user_list(self) -> str:
        others = ", ".join(f"{name} ({role})" for name, role, _ in OTHER_USERS if name != self.login)
        return f"{self.login} (admin), {others}"

    async def _trust_host_keys(self, names: list[str]) -> None:
        from drivers.connect import trust_current_key

        await asyncio.gather(*(trust_current_key(self.store, name) for name in names))

    def usage(self) -> str:
        """How to use the running demo from another terminal."""
        url = shlex.quote(self.database_url)
        access = [d for d in self.planned if d.role == ROLES[1][0]] or self.planned
        switch = self.lab.device(access[0].name)
        port = switch.platform.port_names()[2]
        return "\n".join(
            [
                "In another terminal:",
                f"  export NETTUI_DATABASE_URL={url}",
                f"  nettui                      # the TUI, as {self.login} (admin)",
                "  nettui inventory list",
                f"  nettui run backup-config --device {switch.name} --input device={switch.name}",
                f"  nettui run provision-access-port --device {switch.name} --input device={switch.name} \\",
                f"      --input interface={port} --input vlan=20 --as alice",
                "  nettui approvals list",
                '  nettui approve EXECUTION_ID --as bob --comment "looks right"',
            ]
        )

    def tear_down(self) -> None:
        """Stop the lab, close the store, and delete the demo directory unless --keep."""
        if self.lab is not None:
            self.lab.stop()
            self.lab = None
        if self.store is not None:
            self.store.dispose()
            self.store = None
        if not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)


def _serve_until_interrupted(store: Any, say: Any) -> None:
    """The engine, in this process, until SIGINT or SIGTERM."""
    from nettui.engine.service import serve

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        say("demo ready: the engine runs what is submitted; Ctrl-C stops everything")
        await serve(store, stop=stop, on_event=lambda text: say(f"engine: {text}"))

    asyncio.run(main())


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C does: through KeyboardInterrupt, so cleanup runs."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command(name="demo")
@click.option(
    "--devices",
    "count",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Lab devices, over three sites and the four platforms.",
)
@click.option("--keep", is_flag=True, help="Keep the demo store (and its credential files) after the demo ends.")
@click.option(
    "--no-tui",
    is_flag=True,
    help="Set up, run the engine and wait for Ctrl-C instead of opening the TUI (use it from other terminals).",
)
def group(count: int, keep: bool, no_tui: bool) -> None:
    """A simulated network, a seeded store and the TUI: try nettui with nothing else installed.

    Starts a lab of --devices devices on 127.0.0.1, creates a fresh demo store under the data
    directory's demo/ folder (never your own store), imports the built-in catalog and the lab's
    inventory, and opens the TUI as you (admin). Users alice (operator) and bob (approver)
    exist too. Leaving the TUI stops everything it started.
    """
    from catalog.store import data_dir

    def say(text: str) -> None:
        click.echo(text, err=True)

    root = data_dir() / "demo"
    root.mkdir(parents=True, exist_ok=True)
    demo = Demo(Path(tempfile.mkdtemp(prefix="run-", dir=root)), count, keep=keep)
    try:
        with _terminate_on_sigterm():
            try:
                demo.set_up(say)
            except OSError as exc:
                raise NettuiError(f"the demo could not start: {exc}", hint="is the data directory writable?") from exc
            if no_tui:
                click.echo(demo.usage(), err=True)
                sys.stderr.flush()
                _serve_until_interrupted(demo.store, say)
            else:
                from nettui.tui.app import NettuiApp

                NettuiApp(demo.store, user=demo.login, engine=True).run()
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        demo.tear_down()
        say(f"demo stopped; the store is kept at {demo.database_url}" if keep else "demo stopped")
