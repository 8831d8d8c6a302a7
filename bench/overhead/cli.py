"""The command line: start the fakes and the gateways, run the plan, stop everything."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.overhead import litellm_proxy
from bench.overhead.gateways import start_mamori
from bench.overhead.procs import BenchError, Processes, start_fake
from bench.overhead.runs import FULL, QUICK, SMOKE, Plan, Setup, bench
from bench.overhead.scenario import DELAY_MS


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(
        description="What mamori adds on top of the engine, next to LiteLLM's proxy."
    )
    parser.add_argument("--quick", action="store_true", help="one repetition per level")
    parser.add_argument("--smoke", action="store_true", help="a minute: does it work?")
    parser.add_argument("--no-litellm", action="store_true", help="direct vs mamori only")
    parser.add_argument(
        "--levels",
        help="comma-separated concurrencies instead of the plan's (empty: only the"
        " maximum-throughput run), e.g. --levels 200 to profile one level",
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="after the runs, keep everything up this many seconds (to attach a profiler)",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    if args.levels is not None:
        per_user, reps = plan.levels[0][1], plan.levels[0][2]
        wanted = [int(c) for c in args.levels.split(",") if c.strip()]
        plan = replace(plan, levels=tuple((c, per_user if c > 1 else 2, reps) for c in wanted))
    return args, plan


def main(argv: list[str] | None = None) -> int:
    args, plan = parse_args(argv)
    environment()
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
    procs = Processes(workdir)
    started = time.monotonic()
    try:
        with terminate_on_sigterm():
            setup = start_all(procs, workdir, with_litellm=not args.no_litellm)
            code = run_async(lambda: bench(plan, setup))
            procs.check_alive()
            if args.hold:
                print(f"holding for {args.hold:g}s", flush=True)
                time.sleep(args.hold)
    except BenchError as exc:
        print(f"\nBROKEN: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = 130
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return code


def start_all(procs: Processes, workdir: Path, with_litellm: bool) -> Setup:
    slow = start_fake(procs, "fake-20ms", DELAY_MS)
    fast = start_fake(procs, "fake-nodelay", 0.0)
    print(f"  fake engines on :{slow[1]} ({DELAY_MS:g} ms a token) and :{fast[1]} (no delay)")
    gateways = [start_mamori(procs, workdir, slow, fast)]
    print(f"  {gateways[0].describe}")
    if not with_litellm:
        print("  LiteLLM: skipped (--no-litellm)")
    else:
        try:
            venv = litellm_proxy.install()
            gateways.append(litellm_proxy.start(procs, workdir, venv, slow, fast))
            print(f"  {gateways[-1].describe}")
        except litellm_proxy.Skipped as exc:
            print(f"  LiteLLM: skipped, {exc}")
    return Setup(
        fakes={"slow": slow, "fast": fast},
        fake_pids={"slow": procs.pid("fake-20ms"), "fast": procs.pid("fake-nodelay")},
        gateways=gateways,
    )


def environment() -> None:
    load = os.getloadavg()
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print("gateway overhead benchmark: direct vs mamori vs LiteLLM")
    print(
        f"  python {platform.python_version()} ({platform.python_implementation()}),"
        f" {os.cpu_count()} cores{f' ({model})' if model else ''}, {platform.system()}"
        f" {platform.release()}"
    )
    print(f"  load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    try:
        loop = f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        loop = "the default asyncio loop"
    print(f"  client: raw asyncio streams (HTTP/1.1 keep-alive) on {loop}")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_async(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())
