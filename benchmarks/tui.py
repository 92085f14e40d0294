"""How fast is the TUI? Time to first paint, and time to filter 50,000 devices.

    python benchmarks/tui.py [--devices 50000] [--runs 5]

First paint: a fresh Python process per run (imports included) opens ``NettuiApp`` headless
with Textual's pilot on a small store and reports when its first screen has painted; also when
the Inventory of the big store shows its rows. Filtering: the Inventory on a store of
``--devices`` devices (bulk-inserted, SQLite), a query typed into the filter box (after "/"), timed until
the table shows the result (filter worker done, screen refreshed). Medians of ``--runs``.
Targets (issue 6): first paint under 1.5 s, filtering 50,000 devices under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.store import Store  # noqa: E402
from nettui.tui.device_index import DeviceFilter, filter_devices, load_device_rows  # noqa: E402
from tests.bulk_inventory import add_bulk_devices, bulk_name, site_name  # noqa: E402

SIZE = (120, 40)
FIRST_PAINT_TARGET_S = 1.5
FILTER_TARGET_S = 0.2

# Runs in a fresh interpreter: the clock starts before nettui or Textual is imported.
FIRST_PAINT_CHILD = """
import asyncio, json, sys, time
started = time.perf_counter()
from catalog.store import Store
from nettui.tui.app import NettuiApp
from textual.screen import Screen

# The first frame: when the compositor first draws the start screen, as the terminal gets it
# (waiting for the app to go idle would also wait for a loading indicator to stop).
frames = []
draw = Screen._compositor_refresh

def drawn(self):
    draw(self)
    if not frames and self is self.app.screen and self.is_current:
        frames.append(time.perf_counter())

Screen._compositor_refresh = drawn

async def main():
    app = NettuiApp(Store(sys.argv[1]), user="bench", engine=False, start=sys.argv[2])
    async with app.run_test(size=(120, 40)) as pilot:
        while not frames:
            await asyncio.sleep(0.005)
        painted = frames[0] - started
        screen = app.screen
        while sys.argv[2] == "inventory" and not getattr(screen, "loaded", True):
            await asyncio.sleep(0.01)
        await pilot.pause()
        shown = time.perf_counter() - started
    print(json.dumps({"painted": painted, "shown": shown}))

asyncio.run(main())
"""


def first_paint(url: str, start: str) -> tuple[float, float]:
    """(first paint, rows shown) in seconds, from interpreter start."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT_CHILD, url, start],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    timings = json.loads(result.stdout.strip().splitlines()[-1])
    return timings["painted"], timings["shown"]


async def filter_timings(store: Store, queries: list[tuple[str, DeviceFilter]], runs: int) -> dict[str, list[float]]:
    """Each query typed into the Inventory's filter box (facets set through their selects),
    timed until the table shows the result."""
    from textual.widgets import Input

    from nettui.tui.app import NettuiApp
    from nettui.tui.screens.devices import DevicesScreen, DeviceTable

    timings: dict[str, list[float]] = {label: [] for label, _ in queries}
    app = NettuiApp(store, user="bench", engine=False, start="inventory")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        while not screen.loaded:
            await asyncio.sleep(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        box = screen.query_one("#device-filter", Input)
        table = screen.query_one(DeviceTable)
        await pilot.press("slash")  # as an operator does: "/" puts the cursor in the box, then type
        await pilot.pause()
        for _ in range(runs):
            for label, wanted in queries:
                # Back to everything, untimed.
                box.value = ""
                for facet in ("location", "role", "platform", "tag", "status"):
                    screen.set_facet(facet, None)
                await app.workers.wait_for_complete()
                await pilot.pause()
                started = time.perf_counter()
                for facet in ("location", "role", "platform", "tag", "status"):
                    if getattr(wanted, facet) is not None:
                        screen.set_facet(facet, getattr(wanted, facet))
                box.value = wanted.text
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
                timings[label].append(time.perf_counter() - started)
                expected = filter_devices(screen.all_devices, wanted)
                assert [d.id for d in table.rows] == [d.id for d in expected], label
    return timings


def verdict(seconds: float, target: float) -> str:
    return "ok" if seconds < target else f"OVER the {target * 1000:.0f} ms target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nettui-bench-tui-") as tmp:
        small_url = f"sqlite:///{Path(tmp) / 'small.db'}"
        big_url = f"sqlite:///{Path(tmp) / 'big.db'}"
        small, big = Store(small_url), Store(big_url)
        small.upgrade()
        big.upgrade()
        add_bulk_devices(small, 20)
        started = time.perf_counter()
        add_bulk_devices(big, args.devices)
        print(f"store: {args.devices:,} devices bulk-inserted in {time.perf_counter() - started:.1f} s (SQLite)")

        loads = []
        for _ in range(args.runs):
            started = time.perf_counter()
            rows = load_device_rows(big)
            loads.append(time.perf_counter() - started)
        print(f"reading {len(rows):,} devices for the Inventory: median {statistics.median(loads):.2f} s")

        for start, url, what in [
            ("home", small_url, "the start screen, 20 devices"),
            ("inventory", small_url, "Inventory, 20 devices"),
            ("inventory", big_url, f"Inventory, {args.devices:,} devices"),
        ]:
            samples = [first_paint(url, start) for _ in range(args.runs)]
            painted = statistics.median(s[0] for s in samples)
            shown = statistics.median(s[1] for s in samples)
            print(
                f"first paint ({what}): median {painted:.2f} s [{verdict(painted, FIRST_PAINT_TARGET_S)}];"
                f" rows shown {shown:.2f} s  (process start to paint, imports included)"
            )

        queries = [
            ("one name", DeviceFilter(text=bulk_name(12345))),
            ("fuzzy 'sw4512345'", DeviceFilter(text="sw4512345")),
            ("fuzzy 'arista' (a quarter)", DeviceFilter(text="arista")),
            ("two terms 'dc07 core'", DeviceFilter(text="dc07 core")),
            ("no match 'zzz'", DeviceFilter(text="zzz")),
            ("facets location+role+tag", DeviceFilter(location=site_name(7), role="core", tag="pci")),
            ("facet + text 'planned junos'", DeviceFilter(text="junos", status="planned")),
        ]
        pure = {label: [] for label, _ in queries}
        for _ in range(args.runs):
            for label, wanted in queries:
                started = time.perf_counter()
                filter_devices(rows, wanted)
                pure[label].append(time.perf_counter() - started)
        timings = asyncio.run(filter_timings(big, queries, args.runs))
        print(f"filtering {args.devices:,} devices, typed until the table shows it (median of {args.runs}):")
        for label, samples in timings.items():
            median = statistics.median(samples)
            print(
                f"  {label:<32} {median * 1000:7.1f} ms [{verdict(median, FILTER_TARGET_S)}]"
                f"   (the filter alone: {statistics.median(pure[label]) * 1000:.1f} ms)"
            )
        small.dispose()
        big.dispose()


if __name__ == "__main__":
    main()
