"""Restart figures: seconds from the start of a second `make run`, nothing changed, to serving.

    python -m bench.restart [--starts 2]

Both starts run from one build directory outside the checkout (bench/app_server.py), on the same port and data
directory (a demo-seeded SQLite database of their own under bench/data/restart/), exactly as `make run` runs: the
first may build the front end and migrate and seed the database; every later one finds all of that done. "Serving"
is what the browser tests wait for: ``GET /api/health`` and ``GET /login`` both answer 200 (asked every 0.2 s).

Figures: ``restart_first_start_seconds`` (whatever the first start had to do), ``restart_stop_seconds`` (SIGTERM to
all processes gone), ``restart_second_start_seconds`` (the median over the later starts; target 10 s) and the kill
to serving total, and the CPU seconds the second start's processes used until serving (on a machine shared
with other work the wall-clock figure includes waiting for a core; on an idle one the two are close, the start being
one process after another). Each start's log, with the second at which each line appeared, is kept under
bench/data/restart/. Standalone it writes ``bench/restart_results.json``; `python -m bench` takes the same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.app_server import free_port, prepare_build_dir, start_app, stop

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "restart"
TARGET_SECONDS = 10.0


class LogStamper(threading.Thread):
    """Follows a start's log file and writes each new line, prefixed with the seconds since the start, to a copy."""

    def __init__(self, log_path: Path, out_path: Path, started: float) -> None:
        super().__init__(daemon=True)
        self.log_path, self.out_path, self.started = log_path, out_path, started
        self.done = threading.Event()

    def run(self) -> None:
        offset, pending = 0, ""
        with open(self.out_path, "w") as out:
            while True:
                finishing = self.done.is_set()
                if self.log_path.exists():
                    with open(self.log_path, errors="replace") as log:
                        log.seek(offset)
                        chunk = log.read()
                        offset = log.tell()
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    stamp = time.monotonic() - self.started
                    for line in lines:
                        out.write(f"[{stamp:6.1f} s] {line}\n")
                    out.flush()
                if finishing:
                    return
                time.sleep(0.1)


def session_cpu_seconds(sid: int) -> float:
    """CPU seconds (user and system) spent so far by every process of session ``sid``, including the children they
    have already waited for: what the start cost, apart from waiting for the CPU on a shared machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the name: state, ppid, pgrp, session, ... utime (14th field), stime, cutime, cstime
        if int(fields[3]) == sid:
            total += sum(int(f) for f in fields[11:15])
    return total / ticks


@dataclass
class Start:
    seconds: float
    stop_seconds: float
    stamped_log: Path
    cpu_seconds: float = 0.0


@dataclass
class RestartFigures:
    starts: list[Start] = field(default_factory=list)

    def values(self) -> list[tuple[str, float, str]]:
        first, later = self.starts[0], self.starts[1:]
        values = [("restart_first_start_seconds", round(first.seconds, 1), "s")]
        if later:
            second = statistics.median(s.seconds for s in later)
            stop_s = statistics.median(s.stop_seconds for s in self.starts[:-1])
            values += [
                ("restart_stop_seconds", round(stop_s, 1), "s"),
                ("restart_second_start_seconds", round(second, 1), "s"),
                ("restart_second_start_seconds_max", round(max(s.seconds for s in later), 1), "s"),
                ("restart_second_start_cpu_seconds", round(statistics.median(s.cpu_seconds for s in later), 1), "s"),
                ("restart_kill_to_serving_seconds", round(stop_s + second, 1), "s"),
            ]
        return values


def _one_start(build_dir: Path, data_dir: Path, port: int, number: int) -> Start:
    stamped = DATA / f"start-{number}.log"
    started = time.monotonic()
    stamper = LogStamper(data_dir / "make-run.log", stamped, started)
    stamper.start()
    try:
        app = start_app(data_dir, port=port, build_dir=build_dir, poll=0.2, timeout=900)
        seconds = time.monotonic() - started
        cpu = session_cpu_seconds(app.process.pid)  # `make run` leads a session of its own (start_new_session)
        stopping = time.monotonic()
        if not stop(app):
            raise RuntimeError(f"`make run` did not stop cleanly on SIGTERM:\n{app.log_tail()}")
        stop_seconds = time.monotonic() - stopping
    finally:
        stamper.done.set()
        stamper.join(5)
    print(f"start {number}: serving after {seconds:.1f} s ({cpu:.1f} CPU seconds), stopped in {stop_seconds:.1f} s "
          f"(log: {stamped})", flush=True)
    return Start(seconds, stop_seconds, stamped, cpu)


def measure_restart(starts: int = 2, fresh: bool = True) -> RestartFigures:
    """``starts`` starts of `make run` in a row from one build directory (the first may build; the rest should
    find everything done). ``fresh`` starts from an empty data directory (the first start migrates and seeds)."""
    if fresh and DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True, exist_ok=True)
    build_dir, lock = prepare_build_dir()
    figures = RestartFigures()
    try:
        port = free_port()
        for number in range(1, starts + 1):
            figures.starts.append(_one_start(build_dir, DATA / "app", port, number))
    finally:
        os.close(lock)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restart", description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=2, help="starts in a row (default 2; the first may build)")
    args = parser.parse_args(argv)
    figures = measure_restart(max(2, args.starts))
    results: list[dict[str, Any]] = [{"name": n, "value": v, "unit": u} for n, v, u in figures.values()]
    meta = {"starts": len(figures.starts), "target_seconds": TARGET_SECONDS, "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0],
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (HERE / "restart_results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    width = max(len(r["name"]) for r in results)
    for r in results:
        print(f"{r['name'].ljust(width)}  {r['value']:>8}  {r['unit']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
