"""The pieces of `make observe` and `hotelctl canary` that need no running mesh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hotelctl import observe
from hotelctl.cli import main
from hotelctl.mesh import load_mesh
from posada_common.testing import free_port


def test_local_prometheus_scrapes_every_service_as_stable_and_envoy(tmp_path: Path) -> None:
    mesh = load_mesh(offset=300)
    cfg = observe.config(mesh, tmp_path, scrape_interval="2s")
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    for name, spec in mesh.services.items():
        static = jobs[name]["static_configs"][0]
        assert static["targets"] == [f"127.0.0.1:{spec.metrics_port}"]
        assert static["labels"] == {"rollouts_pod_template_hash": "stable"}
        assert jobs[name]["file_sd_configs"][0]["files"] == [
            str(observe.canary_targets_file(tmp_path, name))
        ]
    assert jobs["envoy"]["static_configs"][0]["targets"] == [f"127.0.0.1:{mesh.stats_port}"]
    assert cfg["global"]["scrape_interval"] == "2s"
    assert cfg["rule_files"] == [str(observe.RULES_DIR / "*.yml")]
    assert observe.prometheus_url(mesh) == f"http://127.0.0.1:{9090 + 300}"


def test_canary_targets_come_and_go_atomically(tmp_path: Path) -> None:
    observe.write_canary_target(tmp_path, "nlp", 9552)
    path = observe.canary_targets_file(tmp_path, "nlp")
    assert json.loads(path.read_text()) == [
        {"targets": ["127.0.0.1:9552"], "labels": {"rollouts_pod_template_hash": "canary"}}
    ]
    observe.write_canary_target(tmp_path, "nlp", None)
    assert json.loads(path.read_text()) == []
    assert not list(path.parent.glob("*.tmp"))


def test_metric_names_skip_functions_keywords_labels_and_durations() -> None:
    expr = (
        '(sum(rate(a_total{x="y"}[2m])) or vector(0)) / sum by (le) (rate(b_bucket[5m]))'
        " and on() sum(increase(c_count[1d] offset 1d)) >= 20 unless posada:x:rate5m"
    )
    assert observe.metric_names(expr) == {"a_total", "b_bucket", "c_count", "posada:x:rate5m"}


def test_canary_without_a_local_prometheus_says_so_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an offset where nothing listens: no Prometheus, no Envoy, no canary started
    offset = free_port() - 9090
    monkeypatch.setenv("POSADA_RUN_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        main(["--port-offset", str(offset), "canary", "nlp", "--report", str(tmp_path / "r.json")])
    assert exit_.value.code == 3
    assert "no Prometheus" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["outcome"] == "setup_failed"
    assert not (tmp_path / "logs").exists()


def test_canary_rejects_a_fault_share_outside_0_to_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["canary", "nlp", "--inject-fault", "2"])
    assert exit_.value.code == 3
    assert "between 0 and 1" in capsys.readouterr().err
