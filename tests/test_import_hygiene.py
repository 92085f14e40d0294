"""Only ``nettui.tui`` imports Textual: the core, the CLI and the bastion load without it.

Each check runs in a fresh interpreter, because this test process has long since imported
Textual for the UI tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click

# Imports every module of the non-UI packages (skipping the UI and the Alembic scripts, which
# only run inside Alembic), runs `nettui --help` in-process, and reports what got loaded.
CORE_IMPORT_PROBE = """
import importlib, json, pkgutil, sys

SKIP = ("catalog.migrations", "nettui.tui")


def skipped(name):
    return any(name == prefix or name.startswith(prefix + ".") for prefix in SKIP)


def import_tree(package_name, imported):
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for info in pkgutil.iter_modules(package.__path__, package_name + "."):
        if skipped(info.name):
            continue
        if info.ispkg:
            import_tree(info.name, imported)
        else:
            importlib.import_module(info.name)
            imported.append(info.name)


imported = []
for root in ("catalog", "drivers", "bastion", "nettui"):
    import_tree(root, imported)

from nettui.cli import main

try:
    main(["--help"], prog_name="nettui")
except SystemExit as exit:
    assert exit.code == 0, exit.code

print(json.dumps({
    "imported": imported,
    "textual_modules": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
}))
"""

UI_IMPORT_PROBE = """
import json, sys
import nettui.tui.app
print(json.dumps({"textual_loaded": "textual" in sys.modules}))
"""


def run_probe(source: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_core_packages_and_cli_never_import_textual() -> None:
    report = run_probe(CORE_IMPORT_PROBE)

    imported = report["imported"]
    assert isinstance(imported, list)
    # The walk really went everywhere it should, and nowhere it should not.
    for expected in ("catalog", "catalog.store", "catalog.models.inventory", "drivers", "bastion", "nettui.cli"):
        assert expected in imported
    assert not [name for name in imported if name.startswith(("nettui.tui", "catalog.migrations"))]
    assert report["textual_modules"] == [], f"imported Textual: {report['textual_modules'][:5]}"


def test_the_ui_does_import_textual() -> None:
    """The positive control: the probe above would notice Textual if it were imported."""
    assert run_probe(UI_IMPORT_PROBE) == {"textual_loaded": True}


def test_nettui_help_lists_the_command_groups() -> None:
    from nettui.cli import main

    command = Path(sys.executable).parent / "nettui"
    result = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: nettui")
    commands = result.stdout.split("Commands:", 1)[1]
    # A command starts a line indented by two; its wrapped description is indented further.
    listed = set(re.findall(r"^  (\S+)", commands, flags=re.MULTILINE))
    assert {"db", "inventory"} <= listed
    assert listed == set(main.list_commands(click.Context(main)))
