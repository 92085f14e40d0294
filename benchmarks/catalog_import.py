"""How fast is `nettui catalog import` (and so `nettui catalog pull`)? Files per second.

    python benchmarks/catalog_import.py [--copies 9] [--postgres postgresql://...] [--profile FILE]

Copies the built-in library COPIES times into a temporary folder, each copy's slugs and names
(tasks, implementations, workflows, forms, checks, providers, provider configs) and every
reference between them suffixed with the copy's number, so that all copies import side by side
(9 copies: 342 files). Then imports the folder into a fresh SQLite store (and PostgreSQL with
--postgres, in a throw-away schema): the first import (everything created), then the same
files again (everything unchanged), in this process and as a new process would (the checks
the loader remembers forgotten). --profile writes a cProfile of the first SQLite import.
"""

from __future__ import annotations

import argparse
import cProfile
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text

from catalog import loader
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, ImportReport, dump_yaml, import_catalog


def _renamed(data: dict[str, Any], n: int) -> dict[str, Any]:
    """One library file as copy ``n``: its own keys and names, its references to copy ``n``."""

    def suffix(value: str, sep: str = "-") -> str:
        return f"{value}{sep}{n}"

    kind = data["kind"]
    if "slug" in data:
        data["slug"] = suffix(data["slug"])
    if kind in ("provider", "provider_config"):
        data["name"] = suffix(data["name"])
    else:
        data["name"] = suffix(data["name"], " #")
    if kind == "provider_config":
        data["provider"] = suffix(data["provider"])
    for impl in data.get("implementations", []):
        impl["slug"] = suffix(impl["slug"])
        if impl.get("provider"):
            impl["provider"] = suffix(impl["provider"])
    if kind == "workflow":
        for step in data.get("steps", []):
            if step.get("task"):
                step["task"] = suffix(step["task"])
    if kind == "request_form":
        data["workflow"] = suffix(data["workflow"])
    if kind == "compliance_check" and data.get("remediation_workflow"):
        data["remediation_workflow"] = suffix(data["remediation_workflow"])
    return data


def write_copies(root: Path, copies: int) -> int:
    """``copies`` renamed copies of the library under ``root``; returns the number of files."""
    count = 0
    for n in range(1, copies + 1):
        for path in sorted(LIBRARY_DIR.rglob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            target = root / f"copy{n:02d}" / path.relative_to(LIBRARY_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump_yaml(_renamed(data, n)), encoding="utf-8")
            count += 1
    return count


def forget_checks() -> None:
    """Forget the schemas, templates and expressions this process has seen pass (as a new
    `nettui` process would)."""
    for name in ("_passed_schemas", "_passed_templates", "_passed_expressions"):
        getattr(loader, name, set()).clear()


def show(label: str, what: str, files: int, seconds: float) -> None:
    print(f"{label:<11} {what:<28} {files} files {seconds:6.2f} s {files / seconds:7.1f} files/s", flush=True)


def timed(action: Callable[[], ImportReport]) -> tuple[float, ImportReport]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def run(label: str, url: str, folder: Path, files: int, profile: str | None) -> None:
    store = Store(url)
    store.upgrade()
    try:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        seconds, report = timed(lambda: import_catalog(store, [folder]))
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        assert len(report.created) == files, report.summary()
        show(label, "first import", files, seconds)
        seconds, report = timed(lambda: import_catalog(store, [folder]))
        assert len(report.unchanged) == files, report.summary()
        show(label, "re-import", files, seconds)
        forget_checks()
        seconds, report = timed(lambda: import_catalog(store, [folder]))
        assert len(report.unchanged) == files, report.summary()
        show(label, "re-import, as a new process", files, seconds)
    finally:
        store.dispose()


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A throw-away schema on the PostgreSQL server, dropped at the end."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"nettui_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options=-csearch_path%3D{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=9, help="copies of the built-in library (default 9)")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first SQLite import")
    args = parser.parse_args()
    if args.copies < 1:
        sys.exit("--copies: give at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="nettui-bench-"))
    try:
        folder = workdir / "catalog"
        files = write_copies(folder, args.copies)
        run("SQLite", f"sqlite:///{workdir / 'store.db'}", folder, files, args.profile)
        if args.postgres:
            with postgres_schema(args.postgres) as url:
                run("PostgreSQL", url, folder, files, None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
