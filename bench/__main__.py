"""`make bench`: run every benchmark module and write bench/RESULTS.md.

A benchmark is a module in this package with `main(argv) -> dict`; its dict holds this
system's figure, the ceiling measured in the same run, and their ratio, and under `rss`
the idle and under-load memory of each process it started (`bench.harness.MemoryWatch`).
A module may also define `render(result) -> list[str]`, its own section of RESULTS.md
(bench/idle.py, bench/growth.py). Each section says the machine's load before and after
its benchmark (/proc/loadavg and the other busy processes, `bench.harness.machine_load`).

    python -m bench                      # every benchmark, the growth table last
    python -m bench idle growth          # some of them (`make bench BENCH="idle growth"`)
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import machine, machine_load

_NOT_BENCHMARKS = {"harness", "__main__"}
# Run after the others: the longest, and its figures read beside theirs.
_LAST = "growth"
RESULTS = Path(__file__).parent / "RESULTS.md"
RESULTS_JSON = Path(__file__).parent / "results.json"


def discover(only: list[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name not in _NOT_BENCHMARKS and not info.name.startswith("_")
    )
    names.sort(key=lambda name: name == _LAST)
    return [n for n in names if not only or n in only]


def render(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}.",
        "",
        "Each benchmark measures this system and, in the same run, a ceiling (the bare tool",
        "doing the least possible work); `ratio` = system ÷ ceiling. Reproduce one with",
        "`python -m bench.<module>`; see bench/README.md. Each section says when it ran:",
        "a partial `make bench BENCH=...` replaces only its own sections (bench/results.json).",
        "",
    ]
    for name, result in results.items():
        ran = f"Ran {result['ran_at']} UTC" if "ran_at" in result else "Run time not recorded"
        wall = f", {result['wall_s']} s" if "wall_s" in result else ""
        lines += [f"## {name}", "", f"{ran}{wall}.", "", *render_load(result), ""]
        if "error" in result:
            lines += ["Failed:", "", "```", result["error"], "```", ""]
            continue
        custom = getattr(importlib.import_module(f"bench.{name}"), "render", None)
        if custom is not None:
            lines += custom(result)
            continue
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in _rows(result)]
        lines += ["", *render_memory(result.get("rss"))]
    return "\n".join(lines)


def render_load(result: dict[str, Any]) -> list[str]:
    """The machine's load around one benchmark, so that its figures can be judged."""

    def one(load: dict[str, Any] | None) -> str:
        if not load:
            return "not recorded"
        busy = f" ({load['busy']})" if load.get("busy") else ""
        return (
            f"load average {load['loadavg']}, {load['busy_processes']} other processes busy{busy}"
        )

    return [
        f"Machine load: before, {one(result.get('load_before'))}; "
        f"after, {one(result.get('load_after'))}."
    ]


def _rows(result: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A result as table rows: a dict of plain values on one row, deeper ones nested."""
    rows: list[tuple[str, str]] = []
    for key, value in result.items():
        if key in ("rss", "load_before", "load_after", "ran_at", "wall_s"):
            continue  # their own lines
        name = f"{prefix}{key}"
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            rows += _rows(value, prefix=f"{name} · ")
        elif isinstance(value, dict):
            rows.append((name, ", ".join(f"{k} {v}" for k, v in value.items())))
        else:
            rows.append((name, str(value)))
    return rows


def render_memory(rss: dict[str, dict[str, float]] | None) -> list[str]:
    """The memory table of one benchmark: each process idle and at its peak under load."""
    if not rss:
        return ["Memory: this benchmark reports no idle / under-load `rss` table.", ""]
    lines = [
        "| process | RSS idle (MB) | RSS under load, peak (MB) |",
        "|---|---|---|",
    ]
    lines += [f"| {p} | {m['idle_mb']} | {m['under_load_mb']} |" for p, m in rss.items()]
    return [*lines, ""]


def load_results() -> dict[str, Any]:
    """The results kept from earlier runs, in benchmark order; none if unreadable."""
    try:
        kept = json.loads(RESULTS_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {name: kept[name] for name in discover([]) if isinstance(kept.get(name), dict)}


def save(results: dict[str, Any]) -> None:
    """Keep every result and render RESULTS.md from them, in benchmark order."""
    ordered = {name: results[name] for name in discover([]) if name in results}
    RESULTS_JSON.write_text(
        json.dumps(ordered, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    RESULTS.write_text(render(ordered), encoding="utf-8")


def main(argv: list[str]) -> int:
    unknown = set(argv) - set(discover([]))
    if unknown:
        print(f"no such benchmark: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    results = load_results()
    failed = False
    for name in discover(argv):
        print(f"== {name}", file=sys.stderr)
        ran_at = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
        load_before = machine_load()
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            results[name] = module.main([])
            results[name]["wall_s"] = round(time.perf_counter() - started, 1)
        except Exception:
            results[name] = {"error": traceback.format_exc(limit=5)}
            failed = True
        results[name]["ran_at"] = ran_at
        results[name]["load_before"] = load_before
        results[name]["load_after"] = machine_load()
        print(json.dumps(results[name], ensure_ascii=False, default=str), file=sys.stderr)
        save(results)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
