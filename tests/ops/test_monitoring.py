"""deploy/prometheus.yml, deploy/alerts.yml and the Grafana dashboard agree with the code.

Every replica is scraped where compose runs it (the APIs' port, the workers' metrics
port), every metric an alert or a panel names is one the services export, every alert is
explained in docs/operations.md, and promtool (Debian's prometheus package, where it is
installed) accepts the configuration and passes the rules' unit tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared import metrics
from shared.settings import PROJECT_ROOT
from tests.support.compose import (
    API_SERVICES,
    WORKER_SERVICES,
    app_services,
    compose_variables,
    container_port,
    environment_of,
    load_compose,
)

DEPLOY = PROJECT_ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus.yml"
ALERTS = DEPLOY / "alerts.yml"
ALERT_TESTS = DEPLOY / "alerts.test.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "sanshe.json"
DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
RUNBOOK = PROJECT_ROOT / "docs" / "operations.md"
METRIC = re.compile(r"\b(sanshe_[a-z0-9_]+|up)\b")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _exported() -> set[str]:
    """Every series name shared.metrics can export (counters' _total, histograms' parts)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names = {"up"}
    for family in metrics.registry.collect():
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in _yaml(ALERTS)["groups"] for rule in group["rules"]]


def test_every_replica_is_scraped_where_compose_runs_it(tmp_path: Path) -> None:
    compose = load_compose(compose_variables(tmp_path))
    apps = app_services(compose)
    config = _yaml(PROMETHEUS)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    def discovered(job: str) -> tuple[set[str], set[int]]:
        sd = jobs[job]["dns_sd_configs"]
        return {n for entry in sd for n in entry["names"]}, {entry["port"] for entry in sd}

    assert discovered("sanshe-api") == (API_SERVICES, {container_port(apps["registry"])})
    assert all(container_port(apps[name]) == 8000 for name in API_SERVICES)
    worker_ports = {
        int(environment_of(apps[name], {})["WORKER_METRICS_PORT"]) for name in WORKER_SERVICES
    }
    assert discovered("sanshe-worker") == (WORKER_SERVICES, worker_ports)
    # Prometheus in compose (monitoring profile) reads these files, on the backend network.
    prometheus = compose["services"]["prometheus"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in prometheus["volumes"]}
    assert mounts["./deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert config["rule_files"] == ["alerts.yml"]
    assert mounts["./deploy/alerts.yml"] == "/etc/prometheus/alerts.yml"
    assert set(prometheus["networks"]) == set(apps["registry"]["networks"])


def test_alerts_name_exported_metrics_and_are_documented() -> None:
    exported = _exported()
    runbook = RUNBOOK.read_text(encoding="utf-8")
    alerts = _alerts()
    assert len(alerts) >= 8
    for rule in alerts:
        name = rule["alert"]
        assert set(METRIC.findall(rule["expr"])) <= exported, name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert re.search(rf"^#+ .*`?{name}`?", runbook, re.M), f"{name}: no section in the runbook"


def test_the_dashboard_reads_exported_metrics_from_the_provisioned_source() -> None:
    exported = _exported()
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (source,) = _yaml(DATASOURCE)["datasources"]
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(METRIC.findall(target["expr"]))
            assert used and used <= exported, (panel["title"], used - exported)
    # Every metric the services export is on the dashboard or in an alert.
    shown = {
        m for p in dashboard["panels"] for t in p["targets"] for m in METRIC.findall(t["expr"])
    }
    alerted = {m for rule in _alerts() for m in METRIC.findall(rule["expr"])}
    families = {name.removesuffix("_total").removesuffix("_bucket") for name in shown | alerted}
    assert {f.name for f in metrics.registry.collect()} <= families | {"up"}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", str(PROMETHEUS)],
        ["check", "rules", str(ALERTS)],
        ["test", "rules", str(ALERT_TESTS)],
    ],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool_accepts_them(args: list[str]) -> None:
    result = subprocess.run(
        ["promtool", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
