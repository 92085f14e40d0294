"""How fast is `nettui inventory import`? Bulk import against the naive one-object-per-row way.

    python benchmarks/inventory_import.py [--devices 10000] [--postgres postgresql://...]

Generates a realistic CSV (50 locations, a few tenants, tags, platforms and a secrets group)
in a temporary directory and imports it into a fresh SQLite store (and PostgreSQL with
--postgres, in a throw-away schema): the first import (all created), a re-import (all
unchanged), the real `nettui inventory import` command in a subprocess, a file with one bad
row (nothing may be imported), and the naive approach for comparison.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from catalog.inventory_io import InventoryImportError, import_inventory_file
from catalog.models import Device, DeviceRole, Location, Manufacturer, Platform, SecretsGroup, Tag, Tenant
from catalog.naming import network_driver_for, slugify
from catalog.store import Store

PLATFORMS = [("cisco_ios", "Cisco", "C9300-48P"), ("cisco_nxos", "Cisco", "N9K-C93180YC"),
             ("arista_eos", "Arista", "DCS-7050SX3"), ("juniper_junos", "Juniper", "EX4300-48T")]  # fmt: skip
ROLES = ["access", "distribution", "core", "firewall"]
TENANTS = ["acme", "globex", "initech"]
TAGS = ["pci", "critical", "lab", "monitored", "legacy"]
COLUMNS = ["name", "host", "ssh_port", "platform", "manufacturer", "model", "role", "status", "location",
           "tenant", "tags", "software_version", "serial", "secrets_group"]  # fmt: skip
SECRETS_GROUP = "lab-creds"


def write_csv(path: Path, devices: int, *, seed: int = 7) -> None:
    """A device CSV as an operator would export it from a spreadsheet."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(devices):
            platform, maker, model = PLATFORMS[n % len(PLATFORMS)]
            site = n % 50
            writer.writerow([
                f"sw-{site:02d}-{n:05d}", f"10.{site}.{n // 250 % 256}.{n % 250 + 1}",
                "" if n % 10 else "2222", platform, maker, model, ROLES[n % len(ROLES)],
                "planned" if n % 17 == 0 else "active", f"DC {site:02d}", TENANTS[n % len(TENANTS)],
                ";".join(rng.sample(TAGS, rng.randint(0, 3))), f"17.{n % 12}.{n % 5}", f"FOC{n:08d}",
                SECRETS_GROUP if n % 3 else "",
            ])  # fmt: skip


def fresh_store(url: str) -> Store:
    store = Store(url)
    store.upgrade()
    with store.session() as session:
        session.add(SecretsGroup(name=SECRETS_GROUP))
    return store


def device_count(store: Store) -> int:
    with store.read_session() as session:
        return session.scalar(select(func.count()).select_from(Device)) or 0


def bulk_import(store: Store, path: Path) -> Any:
    with store.session() as session:
        return import_inventory_file(session, path)


def naive_import(store: Store, path: Path) -> None:
    """What one would write first: look up or create everything per row, one ORM object each."""
    with store.session() as session, path.open(newline="") as handle:
        for row in csv.DictReader(handle):

            def get_or_create(model: Any, name: str, **extra: Any) -> Any:
                obj = session.scalar(select(model).where(model.name == name))
                if obj is None:
                    obj = model(name=name, slug=slugify(name), **extra)
                    session.add(obj)
                return obj

            maker = get_or_create(Manufacturer, row["manufacturer"])
            driver = network_driver_for(row["platform"]) or row["platform"]
            device = session.scalar(select(Device).where(Device.name == row["name"])) or Device(name=row["name"])
            device.host = row["host"]
            device.ssh_port = int(row["ssh_port"] or 22)
            device.platform = get_or_create(Platform, row["platform"], network_driver=driver, manufacturer=maker)
            device.manufacturer = maker
            device.model = row["model"]
            device.role = get_or_create(DeviceRole, row["role"])
            device.status = row["status"]  # type: ignore[assignment]
            device.location = get_or_create(Location, row["location"])
            device.tenant = get_or_create(Tenant, row["tenant"])
            device.tags = [get_or_create(Tag, t) for t in row["tags"].split(";") if t]
            device.software_version = row["software_version"]
            device.serial = row["serial"]
            if row["secrets_group"]:
                device.secrets_group = session.scalar(
                    select(SecretsGroup).where(SecretsGroup.name == row["secrets_group"])
                )
            session.add(device)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def report(label: str, seconds: float, devices: int) -> None:
    print(f"  {label:<44} {seconds:7.2f} s  {devices / seconds:9.0f} devices/s", flush=True)


def cli_import(url: str, path: Path) -> float:
    script = Path(sys.executable).with_name("nettui")  # the installed command, as an operator runs it
    nettui = [str(script)] if script.exists() else [sys.executable, "-c", "from nettui.cli import main; main()"]
    command = [*nettui, "--database", url, "inventory", "import", str(path), "--json"]
    seconds, result = timed(lambda: subprocess.run(command, capture_output=True, text=True, check=False))
    if result.returncode != 0:
        raise SystemExit(f"nettui inventory import failed:\n{result.stderr}")
    return seconds


def run(label: str, new_store_url: Callable[[], str], workdir: Path, devices: int, naive_devices: int) -> None:
    csv_path = workdir / "devices.csv"
    print(f"\n{label}, {devices} devices:")

    store = fresh_store(new_store_url())
    seconds, summary = timed(lambda: bulk_import(store, csv_path))
    assert summary.counts["devices"].created == devices, summary.to_dict()
    report("bulk, first import (all created)", seconds, devices)
    seconds, summary = timed(lambda: bulk_import(store, csv_path))
    assert summary.counts["devices"].unchanged == devices, summary.to_dict()
    report("bulk, re-import (all unchanged)", seconds, devices)

    # One bad row late in the file, and one row changed before it: nothing may change.
    bad_path = workdir / "one-bad-row.csv"
    lines = csv_path.read_text().splitlines(keepends=True)
    bad_line = min(len(lines) - 1, devices * 7 // 10)
    changed = lines[2].replace("17.", "99.", 1)
    lines[2] = changed
    cells = lines[bad_line].split(",")
    cells[2] = "70000"
    lines[bad_line] = ",".join(cells)
    bad_path.write_text("".join(lines))
    before = device_count(store)
    started = time.perf_counter()
    try:
        bulk_import(store, bad_path)
    except InventoryImportError as exc:
        seconds = time.perf_counter() - started
        message = exc.render()
    else:
        raise SystemExit("the file with a bad row was imported")
    assert f":{bad_line + 1}: column 'ssh_port'" in message, message
    assert device_count(store) == before
    with store.read_session() as session:
        versions = session.scalars(select(Device.software_version).where(Device.software_version.like("99.%")))
        assert not versions.all(), "a row before the bad one was written"
    report(f"one bad row (line {bad_line + 1}), nothing written", seconds, devices)
    print("    " + message.replace("\n", "\n    "))
    store.dispose()

    url = new_store_url()
    fresh_store(url).dispose()
    report("`nettui inventory import` (subprocess), first", cli_import(url, csv_path), devices)
    report("`nettui inventory import` (subprocess), again", cli_import(url, csv_path), devices)

    naive_path = workdir / "naive.csv"
    naive_path.write_text("".join(csv_path.read_text().splitlines(keepends=True)[: naive_devices + 1]))
    store = fresh_store(new_store_url())
    seconds, _ = timed(lambda: naive_import(store, naive_path))
    assert device_count(store) == naive_devices
    report(f"naive ORM, session.add per row ({naive_devices} devices)", seconds, naive_devices)
    store = fresh_store(new_store_url())
    seconds, _ = timed(lambda: bulk_import(store, naive_path))
    report(f"bulk, same {naive_devices} devices", seconds, naive_devices)
    store.dispose()


@contextmanager
def postgres_schemas(server_url: str) -> Iterator[Callable[[], str]]:
    """Throw-away schemas on the PostgreSQL server, dropped at the end."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def new() -> str:
        name = f"nettui_bench_{uuid.uuid4().hex[:10]}"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        created.append(name)
        separator = "&" if "?" in server_url else "?"
        return f"{server_url}{separator}options=-csearch_path%3D{name}"

    try:
        yield new
    finally:
        with engine.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--naive-devices", type=int, default=2_000, help="rows for the naive import (it is slow)")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    args = parser.parse_args()
    naive_devices = min(args.naive_devices, args.devices)

    workdir = Path(tempfile.mkdtemp(prefix="nettui-bench-"))
    try:
        write_csv(workdir / "devices.csv", args.devices)
        counter = iter(range(1_000_000))
        run(
            "SQLite",
            lambda: f"sqlite:///{workdir / f'store-{next(counter)}.db'}",
            workdir,
            args.devices,
            naive_devices,
        )
        if args.postgres:
            with postgres_schemas(args.postgres) as new_schema:
                run("PostgreSQL", new_schema, workdir, args.devices, naive_devices)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
