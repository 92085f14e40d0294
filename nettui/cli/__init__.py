"""The ``nettui`` command: every noun and verb, JSON on request, non-zero exit on failure."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from catalog.errors import NettuiError

if TYPE_CHECKING:
    from catalog.store import Store

ENV_DATABASE_URL = "NETTUI_DATABASE_URL"  # catalog.store reads the same variable

# Subcommands load on first use, so `nettui --help` and shell completion stay fast.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("nettui.cli.db", "The store: schema migrations and status."),
    "device": (
        "nettui.cli.device",
        "Talk to one device: run a command, read its facts or configuration, trust its host key.",
    ),
    "inventory": ("nettui.cli.inventory", "Devices and what they connect to: import, list, show."),
    "users": ("nettui.cli.users", "Users: roles, SSH keys for the bastion, and which devices each one may touch."),
    "schedules": ("nettui.cli.schedules", "Workflows that run by themselves: once, every interval, or on a cron line."),
    "secrets": ("nettui.cli.secrets", "Secrets groups: where each credential lives (env:, file: or keyring:)."),
    "approvals": ("nettui.cli.approvals", "Executions waiting for an approver."),
    "approve": ("nettui.cli.approve", "Approve (or --reject) execution EXECUTION_ID, then run it unless --no-run."),
    "catalog": (
        "nettui.cli.catalog",
        "Tasks, implementations, workflows, forms, checks and providers, kept as YAML files.",
    ),
    "lab": ("nettui.cli.lab", "Simulated multi-vendor devices for tests, demos and benchmarks."),
    "demo": (
        "nettui.cli.demo",
        "A simulated network, a seeded store and the TUI: try nettui with nothing else installed.",
    ),
    "run": ("nettui.cli.run", "Run WORKFLOW on devices."),
    "engine": (
        "nettui.cli.engine",
        "Run pending executions and fire schedules; first fail the executions a stopped engine left running.",
    ),
    "executions": ("nettui.cli.executions", "What ran, when, for whom, and what each step did."),
    "render": ("nettui.cli.render", "Preview what a task would send to a device, without touching it."),
    "backup": ("nettui.cli.backup", "Configuration backups: collect, history, diff and restore."),
    "compliance": ("nettui.cli.compliance", "Compliance checks: run them, report scores, remediate failures."),
    "bastion": ("nettui.cli.bastion", "Serve recorded device sessions over SSH: ssh -p PORT USER%DEVICE@HOST."),
    "sessions": ("nettui.cli.sessions", "Bastion device sessions: list, show, terminate, play back, export."),
    "discover": ("nettui.cli.discover", "Find devices (CIDR, range, CSV, controller, LLDP crawl) and record them."),
    "upgrade": ("nettui.cli.upgrade", "OS upgrades: plan, run in batches with pre/post checks and rollback, schedule."),
}


class AppContext:
    """Shared state of one CLI invocation: the store is opened (and migrated) on first use."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._store: Store | None = None

    def store(self, *, upgrade: bool = True) -> Store:
        if self._store is None:
            from catalog.store import open_store

            self._store = open_store(self.database_url, upgrade=upgrade)
        return self._store


pass_app = click.make_pass_decorator(AppContext)


class NettuiGroup(click.Group):
    """Loads subcommands lazily, and turns NettuiError into a clear message and exit status 1
    instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module = importlib.import_module(LAZY_COMMANDS[cmd_name][0])
            self.add_command(module.group, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][1]))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=80)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NettuiError as exc:
            click.echo(f"error: {exc.render()}", err=True)
            sys.exit(1)


@click.group(cls=NettuiGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    "database_url",
    envvar=ENV_DATABASE_URL,
    metavar="URL",
    help=f"Store URL (default: ${ENV_DATABASE_URL}, else SQLite in the user data directory).",
)
@click.option("--as", "as_user", metavar="USER", help="Open the terminal UI as USER (admins only).")
@click.version_option(package_name="nettui")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, as_user: str | None) -> None:
    """nettui: a network-automation workbench.

    Run without a command to open the terminal UI on the store, as your login name.
    """
    ctx.obj = AppContext(database_url)
    if ctx.invoked_subcommand is None:
        from nettui.cli.run import acting_user
        from nettui.tui import run_tui  # Textual is imported only when the UI opens

        user = acting_user(ctx.obj, as_user) if as_user else None
        run_tui(ctx.obj.store(), user=user)
    elif as_user:
        raise click.UsageError("--as before a command applies to the terminal UI; give it after the command")
