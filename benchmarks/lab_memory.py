"""Peak memory of one lab process carrying 1,000 devices (target: under 500 MB).

Starts the lab, opens an SSH session on a sample of devices (which creates their state),
then prints the peak resident set size from ``resource.getrusage``.

    python benchmarks/lab_memory.py [--devices 1000] [--sessions 100]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time

import asyncssh

from nettui.lab import Lab
from nettui.lab.platforms import PLATFORM_NAMES

TARGET_MB = 500


async def _session(lab: Lab, index: int) -> None:
    device = lab.devices[index]
    async with asyncssh.connect(
        device.host, device.port, username=device.username, password=device.password, known_hosts=None
    ) as conn:
        command = "show configuration" if device.platform_name == "juniper_junos" else "show running-config"
        result = await conn.run(command)
        assert result.stdout


async def main(devices: int, sessions: int) -> int:
    started = time.perf_counter()
    async with Lab(devices=devices, platforms=list(PLATFORM_NAMES)) as lab:
        ready = time.perf_counter() - started
        step = max(1, devices // max(sessions, 1))
        sample = list(range(0, devices, step))[:sessions]
        semaphore = asyncio.Semaphore(50)

        async def bounded(index: int) -> None:
            async with semaphore:
                await _session(lab, index)

        await asyncio.gather(*(bounded(i) for i in sample))
        # Every device's state exists after this: the worst case for memory.
        for device in lab.devices:
            _ = device.state
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"lab: {devices} devices listening in {ready:.1f} s; {len(sample)} sessions; all states created")
    print(f"peak RSS: {peak_mb:.0f} MB (target < {TARGET_MB} MB): {'OK' if peak_mb < TARGET_MB else 'OVER'}")
    return 0 if peak_mb < TARGET_MB else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.devices, args.sessions)))
