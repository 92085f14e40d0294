"""Engine overhead: many executions of a 5-step workflow that does nothing, on SQLite and on
PostgreSQL, run through the same engine service as production (`nettui engine --once`).

    python benchmarks/engine.py [--executions 1000] [--concurrency 8] [--postgres URL]
                                [--fanout-devices 500 | --fanout-devices 0]

Part (b), the fan-out (Change VLAN on 500 lab devices against nornir+netmiko, needs the `bench`
extra), runs benchmarks/engine_fanout.py after part (a) in the same invocation.

Each step writes its ExecutionStep row when it starts and when it ends, and every state
change of the execution is an ExecutionEvent: what is measured is that bookkeeping.
Target: under 20 ms of engine overhead per step.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from catalog import models as m  # noqa: E402
from catalog.store import Store, open_store  # noqa: E402
from catalog.sync import import_catalog  # noqa: E402
from nettui.engine.runner import submit  # noqa: E402
from nettui.engine.service import serve  # noqa: E402

STEPS = 5
WORKFLOW = "kind: workflow\nslug: noop\nname: No-op\nsteps:\n" + "".join(
    f"  - name: Step {i}\n    step_type: validation\n    config: {{expression: 'true'}}\n" for i in range(1, STEPS + 1)
)


def measure(store: Store, label: str, executions: int, concurrency: int, tmp: Path) -> tuple[str, float, float]:
    """Throughput at ``concurrency``, and per-step time of executions run one at a time (the
    engine's own overhead, without waiting for other executions)."""
    (tmp / "noop.yaml").write_text(WORKFLOW)
    import_catalog(store, [tmp / "noop.yaml"])
    with store.session() as session:
        session.add(m.User(username="bench", role="operator"))
    sequential = max(1, executions // 10)
    for _ in range(sequential):
        submit(store, "noop", [], {}, requested_by="bench")
    t = time.perf_counter()
    asyncio.run(serve(store, once=True, concurrency=1, poll_s=0.05))
    per_step_ms = (time.perf_counter() - t) / (sequential * STEPS) * 1000
    t0 = time.perf_counter()
    for _ in range(executions):
        submit(store, "noop", [], {}, requested_by="bench")
    submit_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    asyncio.run(serve(store, once=True, concurrency=concurrency, poll_s=0.05))
    run_s = time.perf_counter() - t1
    with store.read_session() as session:
        done = session.scalar(text("SELECT count(*) FROM execution WHERE status = 'completed'"))
    assert done == executions + sequential, f"{done} of {executions + sequential} completed"
    print(f"  {label}: submit {executions / submit_s:,.0f}/s; run {executions / run_s:,.1f} executions/s")
    return label, executions / run_s, per_step_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--fanout-devices", type=int, default=500, help="part (b); 0 skips it")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        store = open_store(f"sqlite:///{tmp}/bench.db")
        rows.append(measure(store, "SQLite", args.executions, args.concurrency, tmp))
        store.dispose()
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(
            args.postgres.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            store = open_store(f"{args.postgres}?options=-csearch_path%3D{schema}")
            rows.append(measure(store, "PostgreSQL", args.executions, args.concurrency, tmp))
            store.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    print(f"\n{args.executions} executions x {STEPS} no-op steps, {args.concurrency} at a time")
    print(f"{'store':<12}{'executions/s':>14}{'ms per step, one at a time':>28}")
    for label, rate, per_step in rows:
        print(f"{label:<12}{rate:>14.1f}{per_step:>28.2f}")
    worst = max(r[2] for r in rows)
    print(f"\nengine overhead per step: at most {worst:.2f} ms (target < 20 ms: {'met' if worst < 20 else 'NOT met'})")
    if args.fanout_devices:
        import subprocess

        print("\n(b) the fan-out: benchmarks/engine_fanout.py", flush=True)
        fanout = Path(__file__).with_name("engine_fanout.py")
        subprocess.run([sys.executable, str(fanout), "--devices", str(args.fanout_devices)], check=True)


if __name__ == "__main__":
    main()
