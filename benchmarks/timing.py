"""What the speed benchmarks share: their command line, the header every table carries (CPU model as
``lscpu`` prints it, date, command), timed chunks interleaved between rivals, and speed ratios as a
median with a 95% bootstrap interval.

Each rival is timed in many short chunks, in this process's CPU time (``time.process_time``). A round
runs one chunk of every rival, in the listed order on even rounds and reversed on odd ones, so the
chunks of a round sit next to each other and no rival always goes first. A ratio is taken per round
(a rival's chunk against the reference's chunk of the same round; the scripts list the two sides of
each target next to each other, so those chunks are neighbours), so load that drifts over the run hits
both sides of each ratio alike; the table gives the median ratio over the rounds and its 95% bootstrap
interval. A target is met when the median reaches it and the interval's lower end is no more than
0.05 below it (issue 15).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sb3_marl.benchmark.stats import median_ci
from sb3_marl.buffers import tree_kernels

Ratio = tuple[float, float, float]  # median, low, high
SLACK = 0.05  # how far below a target the interval's lower end may reach


def make_parser(doc: str | None, quick: Mapping[str, Any]) -> argparse.ArgumentParser:
    """The benchmark's parser: its module docstring as the help text and ``--quick``, which sets ``quick``.

    :param doc: the script's docstring
    :param quick: the option values ``--quick`` sets, by destination (e.g. ``{"rounds": 10}``)
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in quick.items())
    parser.add_argument("--quick", action="store_true", help=f"{sizes} (a smoke test, not a measurement)")
    parser.set_defaults(quick_values=dict(quick))
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; with ``--quick``, the parser's quick sizes replace the given ones."""
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in args.quick_values.items():
            setattr(args, name, value)
    return args


def cpu_model() -> str:
    """The CPU's ``Model name`` as ``lscpu`` prints it (``platform.processor()`` where there is no lscpu)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        import platform

        return platform.processor() or "unknown CPU"
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            return value.strip()
    return "unknown CPU"


def print_header(argv: Sequence[str] | None = None) -> None:
    """Print the machine (CPU model, CPU count, load average), the date (UTC) and the command."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    script = os.path.relpath(sys.argv[0]) if sys.argv[0] else "?"
    command = shlex.join(["python", script, *(sys.argv[1:] if argv is None else argv)])
    print(f"machine: {cpu_model()} ({os.cpu_count()} CPUs; load average {load})")
    print(f"date:    {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"command: {command}")


def tree_path() -> str:
    """Which loops the priority tree runs: compiled (numba installed) or NumPy."""
    return f"compiled (numba {tree_kernels.numba.__version__})" if tree_kernels.AVAILABLE else "NumPy"


def cpu_seconds(fn: Callable[[], Any]) -> float:
    """The CPU time of this process that ``fn()`` takes."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def interleave(rivals: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run ``rounds`` rounds of one timed chunk per rival, alternating the order between rounds.

    :param rivals: by name, a function that runs one chunk and returns its rate (work per CPU second)
    :param rounds: rounds to run
    :return: each rival's rates, one per round
    """
    if rounds < 2:
        raise ValueError(f"rounds={rounds}: an interval needs at least 2 rounds")
    rates: dict[str, list[float]] = {name: [] for name in rivals}
    names = list(rivals)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            rates[name].append(rivals[name]())
    return rates


def ratio(rates: Mapping[str, Sequence[float]], name: str, reference: str) -> Ratio:
    """The median over rounds of ``name``'s rate over ``reference``'s, with its 95% bootstrap interval."""
    return median_ci([a / b for a, b in zip(rates[name], rates[reference], strict=True)])


def format_ratio(value: Ratio) -> str:
    """``"0.912 [0.895, 0.930]"``."""
    return f"{value[0]:.3f} [{value[1]:.3f}, {value[2]:.3f}]"


def judge(value: Ratio, target: float) -> str:
    """``"met"`` when the median reaches ``target`` and the lower end is at most ``SLACK`` below it."""
    return "met" if value[0] >= target and value[1] >= target - SLACK else "MISSED"


def target_line(what: str, value: Ratio, target: float) -> str:
    """``"target: ours/raw >= 0.95 -> 0.912 [0.895, 0.930] (MISSED)"``."""
    return f"target: {what} >= {target:.2f} -> {format_ratio(value)} ({judge(value, target)})"
