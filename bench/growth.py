"""The growth table: each figure of the registry and workflow benchmarks at growing sizes.

    python -m bench.growth [--sizes 10000,100000,1000000] [--cases 1000,10000]
                           [--duration 5] [--import-rows-cap 100000] [--only registry_api,...]

It drives the benchmark modules through their own `main(argv)`, one run per size:
`registry_api` on a register of N organizations (shorter scenarios than its own run,
`--duration`), `registry_import` into a register of N organizations (the file imported
is min(N, `--import-rows-cap`) rows: a 1M-row file would cost minutes and gigabytes
per run and measure the file, not the register), and `workflow_throughput` at each
number of cases. Every cell is the figure and, in brackets, its ratio to the ceiling
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

Cells = dict[str, dict[str, str]]
_FAILED_PREFIX = "failed:"


def _label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def _cell(value: Any, ratio: Any, unit: str = "") -> str:
    return f"{value}{unit} ({ratio})"


def registry_api_figures(result: dict[str, Any]) -> dict[str, str]:
    """The growth cells of one registry_api run."""
    get = result["get_by_id"]
    search = result["search_name_two_filters"]
    alone = result["search_one_in_flight"]
    stats = result["stats"]
    fastapi_floor = result.get("bare_fastapi_get_floor", {})
    return {
        "registry GET by id, req/s (÷ asyncpg)": _cell(get["api"]["requests_per_s"], get["ratio"]),
        "registry GET by id ÷ bare FastAPI GET": str(
            fastapi_floor.get("registry_get_vs_this", "—")
        ),
        "search + 2 filters, 16 in flight, p95 ms (req/s ÷ asyncpg)": _cell(
            search["api"]["p95_ms"], search["ratio"]
        ),
        "search + 2 filters, 1 in flight, p95 ms (req/s ÷ asyncpg)": _cell(
            alone["api"]["p95_ms"], alone["ratio"]
        ),
        "stats, req/s (÷ asyncpg)": _cell(stats["api"]["requests_per_s"], stats["ratio"]),
    }


def registry_import_figures(result: dict[str, Any]) -> dict[str, str]:
    """The growth cells of one registry_import run."""
    ceiling = result["ceiling_copy_s"]
    rows = result["rows"]
    cells = {
        "import rows per run": str(rows),
        "CSV import, rows/s (÷ bare COPY)": _cell(
            result["csv_new"]["rows_per_s"], result["ratio_csv_new_vs_bare_copy"]
        ),
        "CSV update, rows/s (÷ bare COPY)": _cell(
            result["csv_update"]["rows_per_s"],
            round(ceiling / result["csv_update"]["seconds"], 3),
        ),
    }
    if "xlsx_new" in result:
        xlsx = result["xlsx_new"]
        cells["XLSX import, rows/s (÷ bare COPY)"] = _cell(
            xlsx["rows_per_s"], round(ceiling / xlsx["seconds"], 3)
        )
    else:
        cells["XLSX import, rows/s (÷ bare COPY)"] = "not run"
    peak = max((m["under_load_mb"] for m in result.get("rss", {}).values()), default=float("nan"))
    cells["import: registry RSS peak, MB"] = str(peak)
    return cells


def workflow_figures(result: dict[str, Any]) -> dict[str, str]:
    """The growth cells of one workflow_throughput run."""
    return {
        "workflow dispatch jobs/s (÷ no-op arq)": _cell(
            result["dispatch_jobs_per_s"], result["ratio"]
        ),
        "workflow submit → joint review p95 ms": str(result["submit_to_review"]["p95_ms"]),
    }


def _run(
    cells: Cells,
    column: str,
    module_name: str,
    argv: list[str],
    figures: Callable[[dict[str, Any]], dict[str, str]],
    runs: list[dict[str, Any]],
) -> None:
    """One benchmark run at one size: its figures into `cells[figure][column]`.

    A failed run marks its column "failed" in the rows its module has filled (or fills
    at another size): `failed_rows` runs after all of them, once the rows are known.
    """
    import importlib

    from bench.harness import machine_load

    print(f"-- growth: {module_name} {' '.join(argv)}", file=sys.stderr)
    load_before = machine_load()
    started = time.perf_counter()
    error: str | None = None
    values: dict[str, str] = {}
    try:
        module = importlib.import_module(f"bench.{module_name}")
        values = figures(module.main(argv))
    except Exception as exc:
        print(traceback.format_exc(limit=3), file=sys.stderr)
        error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    runs.append(
        {
            "run": f"{module_name} {' '.join(argv)}",
            "module": module_name,
            "column": column,
            "wall_s": round(time.perf_counter() - started, 1),
            "load_before": load_before,
            "load_after": machine_load(),
            **({"error": error} if error else {}),
        }
    )
    for figure, value in values.items():
        cells.setdefault(figure, {})[column] = value
    if error:
        cells.setdefault(f"{_FAILED_PREFIX}{module_name}", {})[column] = "failed"


def failed_rows(cells: Cells) -> Cells:
    """`cells` with each failed run's column marked "failed" in its module's rows."""
    failures = {
        k[len(_FAILED_PREFIX) :]: v for k, v in cells.items() if k.startswith(_FAILED_PREFIX)
    }
    marked: Cells = {}
    for figure, values in cells.items():
        if figure.startswith(_FAILED_PREFIX):
            continue
        module = _MODULE_OF.get(figure)
        marked[figure] = {**failures.get(module or "", {}), **values}
    # A module that failed at every size has no rows of its own: one row says so.
    for module, columns in failures.items():
        if not any(_MODULE_OF.get(f) == module for f in marked):
            marked[f"{module} (every run failed)"] = columns
    return marked


def run(
    sizes: list[int],
    cases: list[int],
    duration: float,
    import_rows_cap: int,
    only: set[str],
) -> dict[str, Any]:
    organizations: Cells = {}
    workflow: Cells = {}
    runs: list[dict[str, Any]] = []
    for size in sizes:
        if not only or "registry_api" in only:
            argv = ["--rows", str(size), "--duration", str(duration)]
            _run(organizations, _label(size), "registry_api", argv, registry_api_figures, runs)
        if not only or "registry_import" in only:
            rows = min(size, import_rows_cap)
            argv = ["--rows", str(rows), "--existing", str(size)]
            _run(
                organizations,
                _label(size),
                "registry_import",
                argv,
                registry_import_figures,
                runs,
            )
    for count in cases:
        if not only or "workflow_throughput" in only:
            argv = ["--cases", str(count)]
            _run(
                workflow,
                f"{_label(count)} cases",
                "workflow_throughput",
                argv,
                workflow_figures,
                runs,
            )
    return {
        "benchmark": "growth: each figure at growing register sizes and case counts",
        "organizations": [_label(s) for s in sizes],
        "cases": [f"{_label(c)} cases" for c in cases],
        "duration_s": duration,
        "import_rows_cap": import_rows_cap,
        "by_organizations": organizations,
        "by_cases": workflow,
        "runs": runs,
    }


# Which module fills which row, so that a failed run marks the right rows.
_MODULE_OF = {
    **dict.fromkeys(
        [
            "registry GET by id, req/s (÷ asyncpg)",
            "registry GET by id ÷ bare FastAPI GET",
            "search + 2 filters, 16 in flight, p95 ms (req/s ÷ asyncpg)",
            "search + 2 filters, 1 in flight, p95 ms (req/s ÷ asyncpg)",
            "stats, req/s (÷ asyncpg)",
        ],
        "registry_api",
    ),
    **dict.fromkeys(
        [
            "import rows per run",
            "CSV import, rows/s (÷ bare COPY)",
            "CSV update, rows/s (÷ bare COPY)",
            "XLSX import, rows/s (÷ bare COPY)",
            "import: registry RSS peak, MB",
        ],
        "registry_import",
    ),
    **dict.fromkeys(
        ["workflow dispatch jobs/s (÷ no-op arq)", "workflow submit → joint review p95 ms"],
        "workflow_throughput",
    ),
}


def table(cells: Cells, columns: list[str]) -> list[str]:
    """A markdown table: one row per figure, one column per size ('—' where not run)."""
    if not cells:
        return []
    lines = [
        "| figure | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for figure, values in cells.items():
        lines.append(f"| {figure} | " + " | ".join(values.get(c, "—") for c in columns) + " |")
    return [*lines, ""]


def render(result: dict[str, Any]) -> list[str]:
    """The growth section of RESULTS.md: two tables and the runs behind them."""
    lines = [
        "Each cell: the figure (in brackets its ratio to the ceiling of the same run). "
        f"registry_api scenarios {result['duration_s']} s each; the import file is "
        f"min(register size, {result['import_rows_cap']:,}) rows, so the larger columns "
        "measure importing into a larger register, not a larger file.",
        "",
        *table(failed_rows(result["by_organizations"]), result["organizations"]),
        *table(failed_rows(result["by_cases"]), result["cases"]),
        "| run | wall s | load before (1/5/15 min; other busy processes) | load after |",
        "|---|---|---|---|",
    ]
    for one in result["runs"]:
        before, after = one["load_before"], one["load_after"]
        failed = f" — failed: {one['error']}" if "error" in one else ""
        lines.append(
            f"| {one['run']}{failed} | {one['wall_s']} "
            f"| {before['loadavg']}; {before['busy_processes']} "
            f"| {after['loadavg']}; {after['busy_processes']} |"
        )
    return [*lines, ""]


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=_ints, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cases", type=_ints, default=[1_000, 10_000])
    parser.add_argument("--duration", type=float, default=5.0, help="registry_api, per scenario")
    parser.add_argument("--import-rows-cap", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated benchmark modules")
    args = parser.parse_args(argv)
    only = {name for name in args.only.split(",") if name}
    return run(args.sizes, args.cases, args.duration, args.import_rows_cap, only)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
