"""Slugs and platform names: the module's examples run as doctests, plus the inference an
inventory import relies on."""

from __future__ import annotations

import doctest
from pathlib import Path

import catalog.naming
from catalog.store import Store
from tests.conftest import run_cli


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(catalog.naming)
    assert tried >= 4 and failures == 0


def test_a_device_on_a_known_driver_gets_its_manufacturer(sqlite_store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "devices.csv"
    csv.write_text("name,host,platform\nsw1,192.0.2.1,cisco_ios\nsw2,192.0.2.2,eos\nsrv,192.0.2.3,linux\n")
    assert run_cli(sqlite_store, "inventory", "import", str(csv)).exit_code == 0
    shown = {name: run_cli(sqlite_store, "inventory", "show", name, "--json").stdout for name in ("sw1", "sw2", "srv")}
    assert '"manufacturer": "Cisco"' in shown["sw1"]
    assert '"manufacturer": "Arista"' in shown["sw2"]
    assert '"manufacturer": null' in shown["srv"]
