"""`make bench`: run every benchmark module and write bench/RESULTS.md.

A benchmark is a module in this package with `main(argv) -> dict`; its dict holds this
system's figure, the ceiling measured in the same run, and their ratio, and under `rss`
the idle and under-load memory of each process it started (`bench.harness.MemoryWatch`).
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

from bench.harness import machine

_NOT_BENCHMARKS = {"harness", "__main__"}
RESULTS = Path(__file__).parent / "RESULTS.md"


def discover(only: list[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name not in _NOT_BENCHMARKS and not info.name.startswith("_")
    )
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
        "`python -m bench.<module>`; see bench/README.md.",
        "",
    ]
    for name, result in results.items():
        lines += [f"## {name}", ""]
        if "error" in result:
            lines += ["Failed:", "", "```", result["error"], "```", ""]
            continue
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in _rows(result)]
        lines += ["", *render_memory(result.get("rss"))]
    return "\n".join(lines)


def _rows(result: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A result as table rows: a dict of plain values on one row, deeper ones nested."""
    rows: list[tuple[str, str]] = []
    for key, value in result.items():
        if key == "rss":
            continue  # its own table, below
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


def main(argv: list[str]) -> int:
    results: dict[str, Any] = {}
    for name in discover(argv):
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr)
        try:
            module = importlib.import_module(f"bench.{name}")
            results[name] = module.main([])
            results[name]["wall_s"] = round(time.perf_counter() - started, 1)
        except Exception:
            results[name] = {"error": traceback.format_exc(limit=5)}
        print(json.dumps(results[name], ensure_ascii=False, default=str), file=sys.stderr)
    RESULTS.write_text(render(results), encoding="utf-8")
    print(f"wrote {RESULTS}", file=sys.stderr)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
