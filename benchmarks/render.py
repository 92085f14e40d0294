"""Render 10,000 (task, device) pairs from the built-in library and print renders per second.

    python benchmarks/render.py [--pairs 10000] [--interfaces 24]

Three ways in the same run, on one core (the script is single-threaded):

- nettui: what the engine does for a workflow over many devices: the inventory contexts of
  all devices are built in a few batched queries, then for each task the implementation is matched, the intended inputs
  validated against the task's JSON Schema, and the template rendered in the sandbox with its
  budget. Target: at least 2,000 renders/s.
- plain jinja2: the same compiled templates and contexts in an unsandboxed jinja2.Environment,
  with no matching and no validation: the floor that safety is paid against.
- per pair: catalog.context.render_for_device for every pair, each loading the device and its
  context from the store again (what a naive caller would do), on a sample of pairs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jinja2
import yaml
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog import models as m  # noqa: E402
from catalog.context import inventory_contexts, render_for_device, validate_inputs  # noqa: E402
from catalog.matching import select_implementation  # noqa: E402
from catalog.rendering import render_template  # noqa: E402
from catalog.store import open_store  # noqa: E402
from catalog.sync import LIBRARY_DIR, import_catalog  # noqa: E402

PLATFORMS = [
    ("cisco_ios", "Cisco", "17.9.4a"),
    ("cisco_nxos", "Cisco", "9.3(8)"),
    ("arista_eos", "Arista", "4.30.1F"),
    ("juniper_junos", "Juniper", "21.4R3-S2"),
]


def golden_contexts() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, list[str]]]]:
    """From the golden test contexts: a realistic intent payload per (task, network driver), and
    per driver the interfaces (with addresses) those payloads refer to."""
    intended: dict[tuple[str, str], dict[str, Any]] = {}
    interfaces: dict[str, dict[str, list[str]]] = {}
    for path in sorted((ROOT / "tests" / "golden").glob("*/context.yaml")):
        context = yaml.safe_load(path.read_text())
        driver = context["device"]["platform"]["network_driver"]
        task = path.parent.name.removesuffix("-" + driver.replace("_", "-"))
        intended.setdefault((task, driver), context.get("intended", {}))
        for interface in context.get("interfaces", []):
            addresses = [a["address"] for a in interface.get("ip_addresses", [])]
            interfaces.setdefault(driver, {}).setdefault(interface["name"], addresses)
    return intended, interfaces


def seed(store: Any, devices: int, interfaces: int, known: dict[str, dict[str, list[str]]]) -> None:
    with store.session() as session:
        makers = {name: m.Manufacturer(name=name, slug=name.lower()) for name in ("Cisco", "Arista", "Juniper")}
        for maker in makers.values():
            existing = session.scalars(select(m.Manufacturer).where(m.Manufacturer.name == maker.name)).first()
            if existing is not None:
                makers[maker.name] = existing
            else:
                session.add(maker)
        platforms = {}
        for driver, maker, _ in PLATFORMS:
            platform = session.scalars(select(m.Platform).where(m.Platform.network_driver == driver)).first()
            platforms[driver] = platform or m.Platform(
                name=driver, slug=driver, network_driver=driver, manufacturer=makers[maker]
            )
            session.add(platforms[driver])
        sites = [m.Location(name=f"Site {i}", slug=f"site-{i}") for i in range(20)]
        session.add_all(sites)
        session.flush()
        session.execute(
            insert(m.VLAN),
            [
                {"vid": vid, "name": f"vlan{vid}", "location_id": site.id}
                for site in sites
                for vid in range(10, 210, 10)
            ],
        )
        rows = []
        for i in range(devices):
            driver, maker, version = PLATFORMS[i % len(PLATFORMS)]
            rows.append(
                {
                    "name": f"sw{i:05d}",
                    "host": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                    "platform_id": platforms[driver].id,
                    "manufacturer_id": makers[maker].id,
                    "software_version": version,
                    "location_id": sites[i % len(sites)].id,
                }
            )
        session.execute(insert(m.Device), rows)
        by_driver = {p.id: p.network_driver for p in platforms.values()}
        rows = []
        for device_id, platform_id in session.execute(select(m.Device.id, m.Device.platform_id)).all():
            named = known.get(by_driver[platform_id], {})
            names = list(named) + [f"Ethernet9/{n}" for n in range(1, max(0, interfaces - len(named)) + 1)]
            rows += [{"device_id": device_id, "name": name, "description": name} for name in names]
        session.execute(insert(m.Interface), rows)
        addresses = []
        for interface_id, name, platform_id in session.execute(
            select(m.Interface.id, m.Interface.name, m.Device.platform_id).join(m.Device)
        ).all():
            for address in known.get(by_driver[platform_id], {}).get(name, []):
                addresses.append({"address": address, "interface_id": interface_id})
        session.execute(insert(m.IPAddress), addresses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--interfaces", type=int, default=24, help="interfaces per device (context size)")
    parser.add_argument("--sample", type=int, default=500, help="pairs rendered the per-pair way")
    args = parser.parse_args()

    intended, known_interfaces = golden_contexts()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        import_catalog(store, [LIBRARY_DIR])
        with store.read_session() as session:
            n_tasks = len(
                session.scalars(
                    select(m.TaskDefinition.slug).where(m.TaskDefinition.slug.in_({t for t, _ in intended}))
                ).all()
            )
        n_devices = -(-args.pairs // n_tasks)
        t0 = time.perf_counter()
        seed(store, n_devices, args.interfaces, known_interfaces)
        print(
            f"seeded {n_devices} devices x {args.interfaces} interfaces in {time.perf_counter() - t0:.1f} s; "
            f"{n_tasks} tasks"
        )

        # nettui: context once per device, then match + validate + sandboxed render per task.
        work: list[tuple[str, dict[str, Any]]] = []
        t0, c0 = time.perf_counter(), time.process_time()
        context_time = 0.0
        with store.read_session() as session:
            tasks = session.scalars(
                select(m.TaskDefinition)
                .where(m.TaskDefinition.slug.in_({t for t, _ in intended}))
                .options(
                    selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.platform),
                    selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.manufacturer),
                )
                .order_by(m.TaskDefinition.slug)
            ).all()
            devices = session.scalars(
                select(m.Device)
                .options(
                    selectinload(m.Device.platform),
                    selectinload(m.Device.manufacturer),
                    selectinload(m.Device.location),
                    selectinload(m.Device.tags),
                    selectinload(m.Device.role),
                    selectinload(m.Device.tenant),
                )
                .order_by(m.Device.name)
                .limit(n_devices)
            ).all()
            names = [(d.name, d.platform.network_driver) for d in devices]
            slugs = [t.slug for t in tasks]
            rendered = 0
            c_start = time.perf_counter()
            contexts = inventory_contexts(session, list(devices))
            context_time += time.perf_counter() - c_start
            for device in devices:
                base = {**contexts[device.id], "facts": {}, "meta": {}}
                for task in tasks:
                    if rendered == args.pairs:
                        break
                    impl = select_implementation(task, device)
                    payload = intended[(task.slug, device.platform.network_driver)]
                    validate_inputs(task.input_schema, payload, where=task.slug)
                    context = {**base, "intended": payload}
                    render_template(impl.template_content, context, where=impl.slug)
                    work.append((impl.template_content, context))
                    rendered += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        nettui_rate = rendered / wall

        # plain jinja2, unsandboxed, same templates and contexts, no matching or validation.
        env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        from catalog.rendering import ENVIRONMENT

        env.filters.update(ENVIRONMENT.filters)
        compiled = {source: env.from_string(source) for source, _ in work}
        t1 = time.perf_counter()
        for source, context in work:
            compiled[source].render(**context)
        plain_wall = time.perf_counter() - t1
        plain_rate = len(work) / plain_wall

        # per pair: everything loaded again for each pair.
        sample = work[: args.sample]
        t2 = time.perf_counter()
        done = 0
        with store.read_session() as session:
            for i in range(len(sample)):
                slug = slugs[i % len(slugs)]
                name, driver = names[i // len(slugs)]
                render_for_device(session, slug, name, intended[(slug, driver)])
                done += 1
        per_pair_rate = done / (time.perf_counter() - t2)
        store.dispose()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"{'path':<34}{'pairs':>8}{'seconds':>10}{'renders/s':>12}")
    print(f"{'nettui (sandbox, match, validate)':<34}{rendered:>8}{wall:>10.2f}{nettui_rate:>12.0f}")
    print(f"{'  of which context building':<34}{len(devices):>8}{context_time:>10.2f}")
    print(f"{'plain jinja2 (unsandboxed)':<34}{len(work):>8}{plain_wall:>10.2f}{plain_rate:>12.0f}")
    print(f"{'per pair (render_for_device)':<34}{done:>8}{done / per_pair_rate:>10.2f}{per_pair_rate:>12.0f}")
    print()
    print(
        f"nettui: {nettui_rate:.0f} renders/s on one core (CPU {cpu:.2f} s; target >= 2000/s: "
        f"{'met' if nettui_rate >= 2000 else 'NOT met'}); {nettui_rate / plain_rate:.2f}x plain jinja2's speed; "
        f"{nettui_rate / per_pair_rate:.1f}x the per-pair way; peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
