"""The Prometheus alert rules in deploy/prometheus: valid, unit-tested with `promtool test rules`
(Debian's prometheus package, which scripts/test.sh installs), and built only on metrics the
app really exposes on /metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AppFactory, WalletApp

PROMETHEUS = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"
RULES = PROMETHEUS / "wallet-alerts.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is missing: install Debian's prometheus package (scripts/test.sh does)",
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )


@needs_promtool
def test_the_rules_are_valid() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_the_rules_pass_their_unit_tests() -> None:
    tested = promtool("test", "rules", "wallet-alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


@needs_promtool
def test_the_example_configuration_is_valid() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def test_the_rules_cover_what_operators_need() -> None:
    alerts = set(rule_expressions())
    assert {
        "WalletNotReady",
        "WalletHighErrorRate",
        "WalletDatabasePoolSaturated",
        "WalletDiskFull",
        "WalletSweeperLagging",
    } <= alerts


def scrape(app: WalletApp) -> dict[str, float]:
    """Every sample of /metrics without labels, and each labelled one as name{labels}."""
    response = app.client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_every_metric_in_the_rules_is_exposed(make_app: AppFactory) -> None:
    app = make_app()
    assert app.client.get("/readyz").status_code == 200  # so a request counter exists
    exposed = {name.split("{", 1)[0] for name in scrape(app)}
    used = {
        name
        for expr in rule_expressions().values()
        for name in re.findall(r"\bwallet_[a-z0-9_]+\b", expr)
    }
    assert used, "the rules name no wallet metric"
    assert used <= exposed, f"not on /metrics: {sorted(used - exposed)}"


def test_the_gauges_say_what_readyz_says(make_app: AppFactory) -> None:
    app = make_app(disk_reserve_bytes=64 * 1024 * 1024)
    samples = scrape(app)
    assert samples["wallet_ready"] == 1
    assert samples['wallet_ready_check{check="database"}'] == 1
    assert samples['wallet_ready_check{check="blob_store"}'] == 1
    assert samples["wallet_disk_full"] == 0
    assert samples["wallet_disk_reserve_bytes"] == 64 * 1024 * 1024
    assert samples["wallet_disk_free_bytes"] > 64 * 1024 * 1024
    assert samples["wallet_db_pool_connections_in_use"] >= 0
    assert samples["wallet_db_pool_connections_in_use"] <= samples["wallet_db_pool_connections_max"]
    # The first start set the sweep clock; the interval is the app's setting.
    assert samples["wallet_sweep_last_success_timestamp_seconds"] > 0
    assert samples["wallet_sweep_interval_seconds"] == app.settings.sweep_interval_seconds


def test_a_disk_under_its_reserve_is_full_but_ready(make_app: AppFactory) -> None:
    # No disk here has a pebibyte free: the reserve is never met.
    app = make_app(disk_reserve_bytes=2**50)
    samples = scrape(app)
    assert samples["wallet_disk_full"] == 1
    assert samples["wallet_ready"] == 1
    assert samples['wallet_ready_check{check="blob_store"}'] == 0
    ready = app.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["blob_store"] == "disk full"


def test_a_store_that_is_down_is_not_ready(make_app: AppFactory) -> None:
    app = make_app()
    # The data dir becomes a file: the store can neither write its probe nor make its folders.
    data_dir = app.settings.data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.write_text("not a folder")
    samples = scrape(app)
    assert samples["wallet_ready"] == 0
    assert samples['wallet_ready_check{check="blob_store"}'] == 0
    assert samples['wallet_ready_check{check="database"}'] == 1
