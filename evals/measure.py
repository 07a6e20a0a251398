"""What a benchmark reads of a process and of the machine: memory, CPU time, how busy the machine was."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

MIB = 1024 * 1024


def read_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process in MiB (from /proc/PID/status)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024 / MIB
    return {"rss_mib": round(fields["VmRSS"], 1), "hwm_mib": round(fields["VmHWM"], 1)}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores have spent on anything but idling and waiting, so far (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


class Meter:
    """The ingest's progress callback: done/total chunks, rate and ETA on stderr."""

    def __init__(self, label: str, stop_at: float | None) -> None:
        self.label, self.stop_at = label, stop_at
        self.first: tuple[float, int] | None = None  # (when, done) at the first batch: the rate counts from there
        self.done = self.total = 0
        self.shown = 0.0
        self.every = 1.0 if sys.stderr.isatty() else 15.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        self.done, self.total = done, total
        if self.first is None:  # the first batch also paid for loading the model: no rate from it
            self.first = (now, done)
        if now - self.shown >= self.every or done == total:
            self.shown = now
            rate = (done - self.first[1]) / (now - self.first[0]) if now > self.first[0] else 0.0
            left = f"{int((total - done) / rate) // 60}:{int((total - done) / rate) % 60:02d}" if rate else "…"
            end = "\n" if done == total or not sys.stderr.isatty() else ""
            print(f"\r  {self.label}: {done:,}/{total:,} chunks, {rate:,.0f} chunks/s, ETA {left}  ",
                  end=end, file=sys.stderr, flush=True)
        if self.stop_at is not None and done >= self.stop_at * total:
            self.stop_at = None
            print(f"\n  {self.label}: interrupting (SIGINT) after {done:,} of {total:,} chunks", file=sys.stderr)
            os.kill(os.getpid(), signal.SIGINT)
