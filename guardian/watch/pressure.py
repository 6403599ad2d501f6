"""Is the machine short of CPU? Linux's pressure stall information (the share of time
runnable tasks waited for a CPU), else the load average per CPU. Under pressure the
watcher polls less often and reads programs' files less often, and slowness is never
taken for a frozen server."""

from __future__ import annotations

import os
from dataclasses import dataclass

SOME_AVG10_HIGH = 40.0
"""Percent of the last 10 s some runnable task waited for a CPU: pressure from here."""
LOAD_PER_CPU_HIGH = 1.5
"""Without PSI: the 1-minute load average per CPU from which it is pressure."""
WIDEN = 3.0
"""Under pressure, the poll interval is this many times the configured one."""
SLOWER = 6.0
"""Under pressure, programs' own files (agents' conversations) are read this many times
less often."""


@dataclass(frozen=True)
class CpuPressure:
    high: bool
    why: str
    """Said to a person: the figure and where it comes from."""


def read_pressure(psi_path: str = "/proc/pressure/cpu") -> CpuPressure:
    try:
        with open(psi_path, encoding="ascii") as f:
            first = f.readline()
        some = float(first.split("avg10=", 1)[1].split()[0])
    except (OSError, IndexError, ValueError):
        return _from_load()
    return CpuPressure(some >= SOME_AVG10_HIGH, f"CPU pressure {some:.0f}% (PSI some avg10)")


def _from_load() -> CpuPressure:
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        return CpuPressure(False, "CPU pressure unknown")
    return CpuPressure(load >= LOAD_PER_CPU_HIGH, f"load {load:.2f} per CPU")
