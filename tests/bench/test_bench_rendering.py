"""RESULTS.md rendering of the idle table, the growth table and the machine load line.

Only the rendering: the figures themselves come from `make bench`, never from tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main
from bench import growth, idle
from bench.__main__ import render, render_load

LOAD = {"loadavg": "1.50 0.80 0.40", "running": "3/200", "busy_processes": 2, "busy": "postgres"}


def _idle_result() -> dict[str, Any]:
    return {
        "benchmark": "idle",
        "seconds": 60.0,
        "targets": "CPU < 1.0 % of one CPU, RSS < 120 MB",
        "burst": "200 requests to each API after the window, 0 not answered 200",
        "processes": {
            "registry API": idle._report(0.4, 101.0, rss_after_burst_mb=104.0),
            "workflow worker": idle._report(2.3, 99.0),
            "ceiling: bare arq worker": {"cpu_percent_idle": 0.12, "rss_idle_mb": 41.5},
        },
        "load_before": LOAD,
        "load_after": LOAD,
    }


def test_idle_report_says_which_process_meets_both_targets() -> None:
    assert idle._report(0.99, 119.9)["target_met"] == "yes"
    assert idle._report(1.0, 50.0)["target_met"] == "no"
    assert idle._report(0.1, 120.0)["target_met"] == "no"


def test_idle_table_has_a_row_per_process_and_dashes_where_not_measured() -> None:
    lines = idle.render(_idle_result())
    assert "| registry API | 0.4 | 101.0 | 104.0 | yes |" in lines
    assert "| workflow worker | 2.3 | 99.0 | — | no |" in lines
    assert "| ceiling: bare arq worker | 0.12 | 41.5 | — | — |" in lines


def test_growth_table_has_one_row_per_figure_and_one_column_per_size() -> None:
    cells = {"GET req/s": {"10k": "900 (0.5)", "1M": "800 (0.4)"}}
    lines = growth.table(cells, ["10k", "100k", "1M"])
    assert lines[0] == "| figure | 10k | 100k | 1M |"
    assert lines[2] == "| GET req/s | 900 (0.5) | — | 800 (0.4) |"
    assert growth.table({}, ["10k"]) == []


def test_growth_labels_and_registry_cells() -> None:
    assert [growth._label(n) for n in (10_000, 1_000_000, 1_500)] == ["10k", "1M", "1500"]
    api = {"requests_per_s": 1000.0, "p95_ms": 12.5}
    result = {
        "get_by_id": {"api": api, "ratio": 0.2},
        "search_name_two_filters": {"api": api, "ratio": 0.7},
        "search_one_in_flight": {"api": api, "ratio": 0.8},
        "stats": {"api": api, "ratio": 0.6},
        "bare_fastapi_get_floor": {"registry_get_vs_this": 0.55},
    }
    cells = growth.registry_api_figures(result)
    assert cells["registry GET by id, req/s (÷ asyncpg)"] == "1000.0 (0.2)"
    assert cells["registry GET by id ÷ bare FastAPI GET"] == "0.55"
    assert cells["search + 2 filters, 1 in flight, p95 ms (req/s ÷ asyncpg)"] == "12.5 (0.8)"


def test_results_say_the_machine_load_of_every_section() -> None:
    text = render({"idle": _idle_result(), "broken": {"error": "boom"}})
    assert "## idle" in text and "## broken" in text
    assert text.count("load average 1.50 0.80 0.40, 2 other processes busy (postgres)") == 2
    assert "| registry API | 0.4 |" in text  # the module's own table, not the generic one
    assert render_load({}) == ["Machine load: before, not recorded; after, not recorded."]


def test_a_failed_run_marks_its_modules_rows_in_its_column_only() -> None:
    csv = "CSV import, rows/s (÷ bare COPY)"
    get = "registry GET by id, req/s (÷ asyncpg)"
    cells = {
        get: {"10k": "900 (0.5)", "100k": "850 (0.5)"},
        csv: {"100k": "6000 (0.4)"},
        "failed:registry_import": {"10k": "failed"},
        "failed:workflow_throughput": {"1k cases": "failed"},
    }
    marked = growth.failed_rows(cells)
    assert marked[csv] == {"10k": "failed", "100k": "6000 (0.4)"}
    assert marked[get] == {"10k": "900 (0.5)", "100k": "850 (0.5)"}
    assert marked["workflow_throughput (every run failed)"] == {"1k cases": "failed"}
    assert not any(figure.startswith("failed:") for figure in marked)


def test_a_partial_run_replaces_only_its_own_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make bench BENCH=idle` keeps the other sections of RESULTS.md, each with its date."""
    monkeypatch.setattr(bench_main, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(bench_main, "RESULTS_JSON", tmp_path / "results.json")
    earlier = {"ran_at": "2026-12-01 10:00", "load_before": LOAD}
    bench_main.save(
        {"growth": {**earlier, "error": "stopped"}, "idle": {**_idle_result(), **earlier}}
    )
    assert list(bench_main.load_results()) == ["idle", "growth"]  # benchmark order

    monkeypatch.setattr(idle, "main", lambda argv: _idle_result())
    assert bench_main.main(["idle"]) == 0

    kept = bench_main.load_results()
    assert kept["growth"]["ran_at"] == "2026-12-01 10:00"  # untouched
    assert kept["idle"]["ran_at"] != "2026-12-01 10:00"  # this run's
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "Ran 2026-12-01 10:00 UTC." in text
    assert "| registry API | 0.4 | 101.0 | 104.0 | yes |" in text
    assert bench_main.main(["no_such_benchmark"]) == 2


def test_growth_reads_the_import_benchmarks_own_ratios() -> None:
    """The growth cells of registry_import come from the keys that benchmark writes."""
    run = {"seconds": 10.0, "rows_per_s": 1000}
    result = {
        "rows": 10_000,
        "ceiling_copy_s": 5.0,
        "csv_new": run,
        "csv_update": {**run, "seconds": 20.0},
        "xlsx_new": run,
        "ratio_csv_new_vs_bare_copy": 0.5,
        "rss": {"registry API (uvicorn)": {"idle_mb": 100.0, "under_load_mb": 210.0}},
    }
    cells = growth.registry_import_figures(result)
    assert cells["CSV import, rows/s (÷ bare COPY)"] == "1000 (0.5)"
    assert cells["CSV update, rows/s (÷ bare COPY)"] == "1000 (0.25)"
    assert cells["import: registry RSS peak, MB"] == "210.0"
