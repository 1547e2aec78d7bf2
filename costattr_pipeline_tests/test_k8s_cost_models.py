"""Kubernetes cost models (issue 17): cost_model.yaml, the usage exports, and the priced rows on DuckDB and fakesnow.

The worked examples are those of seed 003 (Koku's cost models); every expected figure is computed here from
the example's numbers, never copied from a run.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from costattr_pipeline.defs.cost_models.k8s_project_daily_cost import (TABLES_SQL, cost_mismatches, parts_work_table,
                                                                        price_window)
from costattr_pipeline.defs.ingest.kubernetes.kubernetes_usage import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.lib import kubernetes
from costattr_pipeline.lib.cost_model import CostModels, load_cost_models, parse_cost_models
from costattr_pipeline.lib.errors import ConfigError, SourceError
from costattr_pipeline.lib.money import round_cents
from costattr_pipeline.lib.yaml_loading import parse_yaml
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.sample.kubernetes import pod_usage_row, storage_usage_row

NANO = Decimal("0.000000001")
APRIL = dt.date(2026, 4, 15)   # a 30-day month
MARCH = dt.date(2026, 3, 10)   # a 31-day month


def models(text: str) -> CostModels:
    return parse_cost_models(parse_yaml(text, "cost_model.yaml"), "cost_model.yaml")


def pod(day: dt.date, namespace: str, pod_name: str, cpu: str, cpu_request: str = "0", memory: str = "0",
        memory_request: str = "0", *, node: str = "worker-1", role: str = "worker", cluster: str = "c1",
        labels: dict[str, str] | None = None, cpu_capacity: str = "100", memory_capacity: str = "400"
        ) -> dict[str, Any]:
    return pod_usage_row(day, cluster, node, role, namespace, pod_name, labels or {}, Decimal(cpu),
                         Decimal(cpu_request), Decimal(memory), Decimal(memory_request), Decimal(cpu_capacity),
                         Decimal(memory_capacity))


def claim(day: dt.date, namespace: str | None, pvc: str | None, storage_class: str, usage: str = "0",
          request: str = "0", *, cluster: str = "c1", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return storage_usage_row(day, cluster, namespace, pvc, storage_class, labels or {}, Decimal(usage),
                             Decimal(request))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(38, 6))"
    return "'" + str(value).replace("'", "''") + "'"


def land(session: WarehouseSession, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        values = ", ".join("(" + ", ".join(_literal(row[column]) for column in columns) + ")" for row in rows)
        session.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")


def price(session: WarehouseSession, cost_models: CostModels, pods: list[dict[str, Any]],
          claims: list[dict[str, Any]] = (), day: dt.date = APRIL) -> list[dict[str, Any]]:
    """Land the rows, price the day, check it reconciles; the rows as (lower-case) dicts."""
    session.execute(LANDING_TABLES_SQL)
    session.execute(TABLES_SQL)
    land(session, "metering.k8s_pod_usage", pods)
    land(session, "metering.k8s_storage_usage", list(claims))
    end = day + dt.timedelta(days=1)
    with parts_work_table(session, cost_models) as parts:
        price_window(session, cost_models, day, end, dt.datetime(2026, 5, 1), parts)
        assert cost_mismatches(session, cost_models, day, end, parts) == []
    if parts is not None:  # the same rows when each statement prices the parts itself
        rows = session.rows("SELECT * FROM metering.k8s_project_daily_cost ORDER BY ALL")
        price_window(session, cost_models, day, end, dt.datetime(2026, 5, 1))
        assert cost_mismatches(session, cost_models, day, end) == []
        assert session.rows("SELECT * FROM metering.k8s_project_daily_cost ORDER BY ALL") == rows
    return [{name.lower(): value for name, value in row.items()} for row in session.rows(
        "SELECT * FROM metering.k8s_project_daily_cost ORDER BY cluster_id, node, namespace, cost_type")]


@pytest.fixture(params=["duckdb", "snowflake"])
def session(request: pytest.FixtureRequest) -> WarehouseSession:
    if request.param == "duckdb":
        return DuckDBSession(duckdb.connect())
    return SnowflakeSession(request.getfixturevalue("fakesnow_connection"))


def by_namespace(rows: list[dict[str, Any]], column: str = "raw_cost", cost_type: str | None = None
                 ) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        if cost_type is None or row["cost_type"] == cost_type:
            totals[row["namespace"]] = totals.get(row["namespace"], Decimal(0)) + Decimal(str(row[column]))
    return totals


def within_a_unit(part: Decimal, exact: Decimal) -> bool:
    return abs(part - exact) < NANO


# --- seed 003, use case 1: simple on-prem ------------------------------------------------------------

SIMPLE_ON_PREM = """
name: Simple On-Prem
source_type: OCP
rates:
  - metric: {name: cpu_core_usage_per_hour}
    tiered_rates: [{unit: USD, value: 0.05}]
    cost_type: Supplementary
  - metric: {name: memory_gb_usage_per_hour}
    tiered_rates: [{unit: USD, value: 0.01}]
    cost_type: Supplementary
  - metric: {name: cluster_cost_per_month}
    tiered_rates: [{unit: USD, value: 10000}]
    cost_type: Supplementary
distribution: cpu
"""


def test_use_case_1_simple_on_prem_is_343_33_a_day_in_a_30_day_month(session: WarehouseSession) -> None:
    # 100 core-hours and 500 GB-hours used on a day of April (30 days), on a node of 200 core-hours.
    pods = [pod(APRIL, "shop", "a", "60", memory="300", cpu_capacity="200", memory_capacity="1000"),
            pod(APRIL, "blog", "b", "40", memory="200", cpu_capacity="200", memory_capacity="1000")]
    rows = price(session, models(SIMPLE_ON_PREM), pods)
    cpu = Decimal(100) * Decimal("0.05")
    memory = Decimal(500) * Decimal("0.01")
    cluster = Decimal(10000) / 30
    total = sum((Decimal(str(row["total_cost"])) for row in rows), Decimal(0))
    assert (cpu, memory, round_cents(cluster)) == (Decimal("5.00"), Decimal("5.00"), Decimal("333.33"))
    assert round_cents(total) == Decimal("343.33") == round_cents(cpu + memory + cluster)
    # The day's cluster cost is the exact amount rounded to 1e-9, spread by effective cpu over capacity.
    assert total == cpu + memory + cluster.quantize(NANO, ROUND_HALF_UP)
    namespaces = by_namespace(rows)
    assert within_a_unit(namespaces["shop"], Decimal(60) * Decimal("0.05") + Decimal(300) * Decimal("0.01")
                         + cluster * 60 / 200)
    assert within_a_unit(namespaces["Worker unallocated"], cluster * 100 / 200)
    assert {row["cost_type"] for row in rows} == {"Supplementary"}
    assert {row["cost_model_hash"] for row in rows} == {models(SIMPLE_ON_PREM).models[0].content_hash}


# --- use case 2: environment-based node rates (tag rates on pod labels) ------------------------------

ENVIRONMENT_TIERED = """
name: Environment Tiered
rates:
  - metric: {name: node_cost_per_month}
    tag_rates:
      tag_key: env
      tag_values:
        - {tag_value: prod, value: 1000, default: false}
        - {tag_value: dev, value: 300, default: false}
        - {tag_value: default, value: 500, default: true}
    cost_type: Supplementary
distribution: cpu
"""


def test_use_case_2_node_rates_by_env_label_with_qa_at_the_default(session: WarehouseSession) -> None:
    pods = [pod(APRIL, "prod-ns", "p", "20", labels={"env": "prod"}),
            pod(APRIL, "dev-ns", "d", "20", labels={"env": "dev"}),
            pod(APRIL, "qa-ns", "q", "20", labels={"env": "qa"}),
            pod(APRIL, "plain-ns", "n", "20", labels={"team": "x"})]
    namespaces = by_namespace(price(session, models(ENVIRONMENT_TIERED), pods))
    share = Decimal(20) / 100  # each pod: 20 of the node's 100 core-hours
    assert within_a_unit(namespaces["prod-ns"], share * 1000 / 30)
    assert within_a_unit(namespaces["dev-ns"], share * 300 / 30)
    assert within_a_unit(namespaces["qa-ns"], share * 500 / 30)           # qa: no entry -> the default
    assert namespaces["plain-ns"] == 0      # no env label, no tiered rate: no cost (it receives distributed cost)
    assert within_a_unit(namespaces["Worker unallocated"], share * 500 / 30)  # unused capacity: the default rate
    exact_whole = share * (1000 + 300 + 500 + 500) / 30
    assert sum(namespaces.values(), Decimal(0)) == exact_whole.quantize(NANO, ROUND_HALF_UP)


def test_a_missing_label_falls_back_to_the_tiered_rate_of_the_same_metric(session: WarehouseSession) -> None:
    text = ENVIRONMENT_TIERED.replace("distribution: cpu", """  - metric: {name: node_cost_per_month}
    tiered_rates: [{value: 150}]
    cost_type: Supplementary
distribution: cpu""")
    cost_models = models(text)
    assert len(cost_models.models[0].rates) == 2
    pods = [pod(APRIL, "prod-ns", "p", "40", labels={"env": "prod"}), pod(APRIL, "plain-ns", "n", "40")]
    namespaces = by_namespace(price(session, cost_models, pods))
    assert within_a_unit(namespaces["prod-ns"], Decimal(40) / 100 * 1000 / 30)
    assert within_a_unit(namespaces["plain-ns"], Decimal(40) / 100 * 150 / 30)         # tiered fallback
    assert within_a_unit(namespaces["Worker unallocated"], Decimal(20) / 100 * 150 / 30)  # tiered first


# --- use case 3: storage classes ---------------------------------------------------------------------

STORAGE_TIERS = """
name: Storage Tiers
rates:
  - metric: {name: pvc_cost_per_month}
    tag_rates:
      tag_key: storageclass
      tag_values:
        - {unit: USD, value: 93, tag_value: gold, default: false}
        - {unit: USD, value: 62, tag_value: silver, default: false}
        - {unit: USD, value: 31, tag_value: bronze, default: true}
    cost_type: Infrastructure
"""


def test_use_case_3_pvc_monthly_rates_by_storage_class(session: WarehouseSession) -> None:
    claims = [claim(MARCH, "shop", "db", "gold"), claim(MARCH, "shop", "cache", "silver"),
              claim(MARCH, "blog", "files", "bronze"), claim(MARCH, "blog", "scratch", "platinum"),
              claim(MARCH, None, None, "gold", usage="5")]  # storage no claim holds: no PVC rate
    rows = price(session, models(STORAGE_TIERS), [], claims, day=MARCH)
    volume = by_namespace(rows, "cost_model_volume_cost")
    assert volume == {"shop": Decimal(93) / 31 + Decimal(62) / 31, "blog": Decimal(31) / 31 + Decimal(31) / 31}
    assert {row["cost_type"] for row in rows} == {"Infrastructure"}
    assert {row["node"] for row in rows} == {None}


# --- tag rates on usage metrics: value, default, fallback ---------------------------------------------

USAGE_BY_TAG = """
rates:
  - metric: {name: cpu_core_usage_per_hour}
    tag_rates:
      tag_key: env
      tag_values:
        - {tag_value: prod, value: 0.10}
        - {tag_value: dev, value: 0.05}
        - {tag_value: default_rate, value: 0.07, default: true}
    cost_type: Supplementary
  - metric: {name: cpu_core_usage_per_hour}
    tiered_rates: [{value: 0.02}]
    cost_type: Supplementary
"""


def test_tag_rates_match_the_value_take_the_default_and_fall_back_to_tiered(session: WarehouseSession) -> None:
    pods = [pod(APRIL, "a", "p", "10", labels={"env": "prod"}), pod(APRIL, "b", "d", "10", labels={"env": "dev"}),
            pod(APRIL, "c", "q", "10", labels={"env": "qa"}), pod(APRIL, "d", "n", "10")]
    cpu = by_namespace(price(session, models(USAGE_BY_TAG), pods), "cost_model_cpu_cost")
    assert cpu == {"a": Decimal("1.0"), "b": Decimal("0.5"), "c": Decimal("0.7"), "d": Decimal("0.2")}


# --- Infrastructure and Supplementary side by side, markup ---------------------------------------------

BOTH_COST_TYPES = """
rates:
  - metric: {name: cpu_core_usage_per_hour}
    tiered_rates: [{unit: USD, value: 0.05}]
    cost_type: Infrastructure
  - metric: {name: cpu_core_usage_per_hour}
    tiered_rates: [{unit: USD, value: 0.02}]
    cost_type: Supplementary
  - metric: {name: memory_gb_effective_usage_per_hour}
    tiered_rates: [{unit: USD, value: 0.01}]
    cost_type: Supplementary
"""


def test_infrastructure_and_supplementary_are_kept_apart(session: WarehouseSession) -> None:
    pods = [pod(APRIL, "shop", "a", "100", memory="300", memory_request="500")]
    rows = price(session, models(BOTH_COST_TYPES), pods)
    assert [(row["cost_type"], Decimal(str(row["cost_model_cpu_cost"])), Decimal(str(row["cost_model_memory_cost"])))
            for row in rows] == [("Infrastructure", Decimal(100) * Decimal("0.05"), Decimal(0)),
                                 ("Supplementary", Decimal(100) * Decimal("0.02"), Decimal(500) * Decimal("0.01"))]


def test_use_case_5_markup_is_its_own_column(session: WarehouseSession) -> None:
    # A cluster costing 30,000 a month in a 30-day month is 1,000 a day; 10 % markup adds 100.
    text = """
rates:
  - metric: {name: cluster_cost_per_month}
    tiered_rates: [{value: 30000}]
    cost_type: Infrastructure
markup: {value: 10, unit: percent}
"""
    rows = price(session, models(text), [pod(APRIL, "shop", "a", "100")])
    assert [(row["namespace"], Decimal(str(row["raw_cost"])), Decimal(str(row["markup_cost"])),
             Decimal(str(row["total_cost"]))) for row in rows] == [
        ("shop", Decimal(30000) / 30, Decimal(30000) / 30 * Decimal("0.10"), Decimal(30000) / 30 * Decimal("1.10"))]
    assert [Decimal(str(row["distributed_cost"])) for row in rows] == [Decimal(0)]


def test_memory_distribution_spreads_node_cost_by_memory_and_platform_nodes_go_to_platform_unallocated(
        session: WarehouseSession) -> None:
    text = """
rates:
  - metric: {name: node_cost_per_month}
    tiered_rates: [{value: 300}]
    cost_type: Infrastructure
distribution: memory
"""
    pods = [pod(APRIL, "openshift-etcd", "e", "1", memory="100", node="master-1", role="master"),
            pod(APRIL, "shop", "s", "90", memory="100", memory_request="300")]
    rows = price(session, models(text), pods)
    memory = by_namespace(rows, "cost_model_memory_cost")
    daily = Decimal(300) / 30
    assert within_a_unit(memory["openshift-etcd"], daily * 100 / 400)
    assert within_a_unit(memory["Platform unallocated"], daily * 300 / 400)
    assert within_a_unit(memory["shop"], daily * 300 / 400)   # effective = max(100, 300 requested)
    assert within_a_unit(memory["Worker unallocated"], daily * 100 / 400)
    assert sum(by_namespace(rows, "cost_model_cpu_cost").values(), Decimal(0)) == 0
    assert sum(memory.values(), Decimal(0)) == 2 * daily.quantize(NANO, ROUND_HALF_UP)


def test_node_core_rates_and_graduated_tiers() -> None:
    session = DuckDBSession(duckdb.connect())
    text = """
rates:
  - metric: {name: node_core_cost_per_month}
    tiered_rates: [{value: 62}]
    cost_type: Infrastructure
  - metric: {name: cpu_core_request_per_hour}
    tiered_rates: [{value: 0.10, usage_start: 0, usage_end: 10}, {value: 0.05, usage_start: 10, usage_end: null}]
    cost_type: Supplementary
"""
    # A node of 96 core-hours (4 cores); the pod requests 30 core-hours.
    rows = price(session, models(text), [pod(MARCH, "shop", "s", "20", cpu_request="30", cpu_capacity="96")],
                 day=MARCH)
    infrastructure = by_namespace(rows, cost_type="Infrastructure")
    node_day = Decimal(62) * 4 / 31
    assert within_a_unit(infrastructure["shop"], node_day * 30 / 96)
    assert within_a_unit(infrastructure["Worker unallocated"], node_day * 66 / 96)
    assert by_namespace(rows, cost_type="Supplementary") == {"shop": 10 * Decimal("0.10") + 20 * Decimal("0.05")}


def test_a_cluster_named_by_a_model_gets_it_and_the_others_the_catch_all() -> None:
    session = DuckDBSession(duckdb.connect())
    cost_models = models("""
cost_models:
  - name: on-prem
    source_uuids: [c1]
    rates: [{metric: {name: cpu_core_usage_per_hour}, tiered_rates: [{value: 1}], cost_type: Infrastructure}]
  - name: everything else
    rates: [{metric: {name: cpu_core_usage_per_hour}, tiered_rates: [{value: 2}], cost_type: Supplementary}]
  - name: AWS markup
    source_type: AWS
    markup: {value: 5}
""")
    rows = price(session, cost_models, [pod(APRIL, "a", "p", "1", cluster="c1"), pod(APRIL, "a", "p", "1", cluster="c2")])
    assert [(row["cluster_id"], row["cost_type"], Decimal(str(row["raw_cost"])), row["cost_model_hash"]) for row in rows] == [
        ("c1", "Infrastructure", Decimal(1), cost_models.models[0].content_hash),
        ("c2", "Supplementary", Decimal(2), cost_models.models[1].content_hash)]


def test_model_versions_are_recorded_once_append_only() -> None:
    session = DuckDBSession(duckdb.connect())
    first = models(SIMPLE_ON_PREM)
    price(session, first, [pod(APRIL, "a", "p", "1")])
    price_window(session, first, APRIL, APRIL + dt.timedelta(days=1), dt.datetime(2026, 5, 2))
    second = models(SIMPLE_ON_PREM.replace("0.05", "0.06"))
    price_window(session, second, APRIL, APRIL + dt.timedelta(days=1), dt.datetime(2026, 5, 3))
    history = session.rows("SELECT cost_model_hash, first_seen_at FROM config.cost_model_history ORDER BY 2")
    assert [(row["cost_model_hash"], row["first_seen_at"]) for row in history] == [
        (first.models[0].content_hash, dt.datetime(2026, 5, 1)), (second.models[0].content_hash, dt.datetime(2026, 5, 3))]
    assert session.scalar("SELECT COUNT(*) FROM config.cost_model_rates") == 6
    assert {row["cost_model_hash"] for row in session.rows("SELECT cost_model_hash FROM metering.k8s_project_daily_cost")
            } == {second.models[0].content_hash}


# --- cost_model.yaml validation ------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("cpu_core_usage_per_hour", "cpu_core_usage_per_day"),
     "cost_model.yaml: rates[0].metric: 'name' is not a cost model metric: 'cpu_core_usage_per_day'"),
    (lambda t: t.replace("tiered_rates: [{unit: USD, value: 0.05}]",
                         "tiered_rates: [{unit: USD, value: 0.05}]\n    tag_rates: {tag_key: env, tag_values: "
                         "[{tag_value: a, value: 1}]}"),
     "cost_model.yaml: rates[0] (cpu_core_usage_per_hour): give exactly one of 'tiered_rates' or 'tag_rates'"),
    (lambda t: t.replace("0.01}]", "-0.01}]"),
     "cost_model.yaml: rates[1].tiered_rates[0]: 'value' must not be negative, got -0.01"),
    (lambda t: t.replace("cost_type: Supplementary", "cost_type: Licence", 1),
     "cost_model.yaml: rates[0]: cost_type must be one of Infrastructure, Supplementary, got 'Licence'"),
    (lambda t: t.replace("distribution: cpu", "distribution: network"),
     "cost_model.yaml: distribution must be one of cpu, memory, got 'network'"),
    (lambda t: t.replace("tiered_rates: [{unit: USD, value: 0.05}]",
                         "tiered_rates: [{value: 0.05, usage_start: 0, usage_end: 100}, "
                         "{value: 0.04, usage_start: 50, usage_end: null}]"),
     "cost_model.yaml: rates[0].tiered_rates[1]: tier range overlaps rates[0].tiered_rates[0]"),
])
def test_invalid_cost_models_are_refused_in_one_line(change, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        models(change(SIMPLE_ON_PREM))
    assert str(error.value).startswith(message)


def test_two_defaults_and_cloud_rates_and_shared_clusters_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"rates\[0\].tag_rates.tag_values\[2\]: more than one tag value has "
                                          r"default: true \(the first is rates\[0\].tag_rates.tag_values\[1\]\)"):
        models(USAGE_BY_TAG.replace("{tag_value: dev, value: 0.05}", "{tag_value: dev, value: 0.05, default: true}"))
    with pytest.raises(ConfigError, match=r"cost_models\[0\]\.rates\[0\]: a cost model of source_type SNOWFLAKE "
                                          "takes a markup only"):
        models("cost_models:\n  - {name: s, source_type: SNOWFLAKE, rates: [{metric: {name: cpu_core_usage_per_hour}, "
               "tiered_rates: [{value: 1}], cost_type: Supplementary}]}")
    with pytest.raises(ConfigError, match=r"cost_models\[1\]: cluster 'c1' already has a cost model: cost_models\[0\]"):
        models("cost_models:\n  - {name: a, source_uuids: [c1]}\n  - {name: b, source_uuids: [c2, c1]}")


def test_the_content_hash_ignores_spelling_and_follows_content() -> None:
    one = models(SIMPLE_ON_PREM).models[0]
    assert models(SIMPLE_ON_PREM.replace("unit: USD, value: 0.05", "value: 0.05, unit: USD")
                  ).models[0].content_hash == one.content_hash
    assert models(SIMPLE_ON_PREM.replace("10000", "12000")).models[0].content_hash != one.content_hash


def test_absent_file_means_no_models(tmp_path: Path) -> None:
    assert load_cost_models(tmp_path).models == ()


# --- the usage exports ---------------------------------------------------------------------------------

POD_HEADER = ("usage_date,cluster_id,node,node_role,namespace,pod,pod_labels,cpu_core_usage_hours,"
              "cpu_core_request_hours,memory_gb_usage_hours,memory_gb_request_hours,node_capacity_cpu_core_hours,"
              "node_capacity_memory_gb_hours\n")
GOOD_POD = '2026-04-15,c1,w1,worker,shop,a,"{""env"": ""prod""}",1,2,3,4,96,384\n'


@pytest.mark.parametrize("line, message", [
    (GOOD_POD.replace(",1,2,3", ",-1,2,3"), "kubernetes/pod_usage.csv: line 3: column 'cpu_core_usage_hours' must "
                                            "not be negative, got -1"),
    (GOOD_POD.replace('"{""env"": ""prod""}"', "env=prod"), "kubernetes/pod_usage.csv: line 3: column 'pod_labels' "
                                                            "must be a JSON object of labels"),
    (GOOD_POD.replace("worker", "gpu"), "kubernetes/pod_usage.csv: line 3: column 'node_role': 'gpu' is not one of "
                                        "worker, master, infra"),
    (GOOD_POD, "kubernetes/pod_usage.csv: line 3: pod 'a' of namespace 'shop' on node 'w1' of cluster 'c1' appears "
               "twice on 2026-04-15"),
    (GOOD_POD.replace("a,", "b,", 1).replace(",96,", ",95,"), "kubernetes/pod_usage.csv: line 2: node 'w1' of cluster "
                                                              "'c1' has rows with different node_role or capacity"),
    (GOOD_POD.replace(",96,", ",lots,"), "kubernetes/pod_usage.csv: line 3: column 'node_capacity_cpu_core_hours': "
                                         "'lots' is not a valid DECIMAL(38, 6)"),
])
def test_bad_pod_rows_are_refused_with_file_line_and_rule(tmp_path: Path, line: str, message: str) -> None:
    folder = tmp_path / "kubernetes"
    folder.mkdir()
    (folder / "pod_usage.csv").write_text(POD_HEADER + GOOD_POD + line, encoding="utf-8")
    with pytest.raises(SourceError) as error:
        kubernetes.validate_exports(tmp_path)
    assert str(error.value).startswith(message)


def test_storage_rows_need_both_namespace_and_pvc_or_neither(tmp_path: Path) -> None:
    folder = tmp_path / "kubernetes"
    folder.mkdir()
    (folder / "storage_usage.csv").write_text(
        "usage_date,cluster_id,namespace,pvc,storage_class,volume_labels,storage_gb_usage_months,"
        "storage_gb_request_months\n2026-04-15,c1,shop,,gold,{},1,1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="kubernetes/storage_usage.csv: line 2: namespace 'shop' and pvc None: give "
                                          "both"):
        kubernetes.validate_exports(tmp_path)


# --- the assets, through the real Definitions -------------------------------------------------------------

SELECTION = ["metering/k8s_pod_usage", "metering/k8s_storage_usage", "metering/k8s_vm_usage",
             "metering/k8s_project_daily_cost"]


def write_pods(source_dir: Path, lines: list[str]) -> None:
    folder = Path(source_dir) / "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pod_usage.csv").write_text(POD_HEADER + "".join(lines), encoding="utf-8")


def test_assets_price_the_seed_example_end_to_end_and_a_rerun_changes_nothing(target) -> None:
    from costattr_pipeline.runner import run_range
    from costattr_pipeline_tests.conftest import dump_tables, query

    write_pods(target.source_dir, ["2026-04-15,c1,w1,worker,shop,a,{},60,0,300,0,200,1000\n",
                                   "2026-04-15,c1,w1,worker,blog,b,{},40,0,200,0,200,1000\n",
                                   "2026-04-16,c2,w9,worker,shop,a,{},1,0,1,0,10,10\n"])
    (target.config_dir / "cost_model.yaml").write_text(
        "cost_models:\n  - " + SIMPLE_ON_PREM.strip().replace("\n", "\n    ") + "\n    source_uuids: [c1]\n",
        encoding="utf-8")
    summary = run_range(target, dt.date(2026, 4, 15), dt.date(2026, 4, 17), selection=SELECTION)
    failed = {check[1] for check in summary.checks if not check[2]}
    # No storage export; c2 has usage but no model.
    assert failed == {"k8s_storage_usage_source_present", "k8s_clusters_have_cost_model"}
    totals = query(target, "SELECT usage_date, cluster_id, SUM(total_cost) FROM metering.k8s_project_daily_cost "
                           "GROUP BY 1, 2 ORDER BY 1, 2")
    assert [(day, cluster, round_cents(total)) for day, cluster, total in totals] == [
        (APRIL, "c1", round_cents(Decimal(5) + Decimal(5) + Decimal(10000) / 30))]
    assert query(target, "SELECT COUNT(*) FROM config.cost_model_history")[0][0] == 1
    before = dump_tables(target)
    run_range(target, dt.date(2026, 4, 15), dt.date(2026, 4, 17), selection=SELECTION)
    assert dump_tables(target) == before  # the model version was seen before: its history row is not rewritten


def test_a_bad_row_stops_the_run_and_writes_nothing(target) -> None:
    from costattr_pipeline.runner import RunFailed, run_range
    from costattr_pipeline_tests.conftest import query

    write_pods(target.source_dir, ["2026-04-15,c1,w1,worker,shop,a,{},1,0,1,0,10,10\n"])
    (target.config_dir / "cost_model.yaml").write_text(SIMPLE_ON_PREM, encoding="utf-8")
    run_range(target, dt.date(2026, 4, 15), dt.date(2026, 4, 16), selection=SELECTION)
    write_pods(target.source_dir, ["2026-04-15,c1,w1,worker,shop,a,{},1,0,1,0,10,10\n",
                                   "2026-04-15,c1,w1,worker,shop,b,{},-1,0,1,0,10,10\n"])
    with pytest.raises(RunFailed, match="kubernetes/pod_usage.csv: line 3: column 'cpu_core_usage_hours' must not be "
                                        "negative, got -1"):
        run_range(target, dt.date(2026, 4, 15), dt.date(2026, 4, 16), selection=SELECTION)
    assert query(target, "SELECT COUNT(*) FROM metering.k8s_pod_usage")[0][0] == 1


def test_a_vm_rate_without_vm_usage_is_a_config_error(target) -> None:
    from costattr_pipeline.validation import validate_inputs

    write_pods(target.source_dir, ["2026-04-15,c1,w1,worker,shop,a,{},1,0,1,0,10,10\n"])
    (target.config_dir / "cost_model.yaml").write_text(SIMPLE_ON_PREM.replace(
        "distribution: cpu", "  - metric: {name: vm_cost_per_month}\n    tiered_rates: [{value: 30}]\n"
                             "    cost_type: Infrastructure\ndistribution: cpu"), encoding="utf-8")
    assert validate_inputs(target) == [
        f"{target.config_dir / 'cost_model.yaml'}: a rate prices vm_cost_per_month but there is no "
        "kubernetes/vm_usage.csv/.parquet to price"]


def test_core_hour_rates_storage_rates_and_virtual_machines(session: WarehouseSession) -> None:
    text = """
rates:
  - metric: {name: node_core_cost_per_hour}
    tiered_rates: [{value: 0.01}]
    cost_type: Infrastructure
  - metric: {name: cluster_core_cost_per_hour}
    tiered_rates: [{value: 0.002}]
    cost_type: Supplementary
  - metric: {name: storage_gb_usage_per_month}
    tag_rates:
      tag_key: tier
      tag_values: [{tag_value: fast, value: 0.20}]
    cost_type: Infrastructure
  - metric: {name: storage_gb_usage_per_month}
    tiered_rates: [{value: 0.10}]
    cost_type: Infrastructure
  - metric: {name: vm_cost_per_month}
    tag_rates:
      tag_key: size
      tag_values: [{tag_value: large, value: 310}, {tag_value: small, value: 62, default: true}]
    cost_type: Infrastructure
"""
    session.execute(LANDING_TABLES_SQL)
    land(session, "metering.k8s_vm_usage", [
        {"usage_date": MARCH, "cluster_id": "c1", "node": "worker-1", "namespace": "virt", "vm_name": "erp",
         "vm_labels": json.dumps({"size": "large"})},
        {"usage_date": MARCH, "cluster_id": "c1", "node": "worker-1", "namespace": "virt", "vm_name": "ci",
         "vm_labels": json.dumps({"size": "medium"})}])
    pods = [pod(MARCH, "shop", "a", "30", cpu_capacity="100"),
            pod(MARCH, "kube-system", "k", "10", node="master-1", role="master", cpu_capacity="50")]
    claims = [claim(MARCH, "shop", "db", "gold", usage="2", labels={"tier": "fast"}),
              claim(MARCH, None, None, "bronze", usage="3")]
    rows = price(session, models(text), pods, claims, day=MARCH)
    infrastructure = by_namespace(rows, "cost_model_cpu_cost", "Infrastructure")
    # node_core_cost_per_hour: the node's core-hours x rate, spread by effective cpu over capacity.
    assert within_a_unit(infrastructure["shop"], Decimal(100) * Decimal("0.01") * 30 / 100)
    assert within_a_unit(infrastructure["Worker unallocated"], Decimal(100) * Decimal("0.01") * 70 / 100)
    assert within_a_unit(infrastructure["Platform unallocated"], Decimal(50) * Decimal("0.01") * 40 / 50)
    # vm_cost_per_month: per machine and day, by label (medium: the default).
    assert infrastructure["virt"] == Decimal(310) / 31 + Decimal(62) / 31
    # cluster_core_cost_per_hour: the cluster's 150 core-hours x rate, spread over the cluster's capacity.
    supplementary = by_namespace(rows, "cost_model_cpu_cost", "Supplementary")
    cluster_day = Decimal(150) * Decimal("0.002")
    assert within_a_unit(supplementary["shop"], cluster_day * 30 / 150)
    assert within_a_unit(supplementary["kube-system"], cluster_day * 10 / 150)
    assert sum(supplementary.values(), Decimal(0)) == cluster_day
    # Storage: the tag rate where the label is, else the tiered rate; no claim: Storage unattributed.
    assert by_namespace(rows, "cost_model_volume_cost") == {
        "shop": 2 * Decimal("0.20"), "Storage unattributed": 3 * Decimal("0.10"), "Worker unallocated": 0,
        "Platform unallocated": 0, "kube-system": 0, "virt": 0}


# --- distribution (issue 18): platform, Worker unallocated and unattributed storage to user namespaces ---------

USE_CASE_4 = """
rates:
  - metric: {name: cpu_core_effective_usage_per_hour}
    tiered_rates: [{value: 1}]
    cost_type: Supplementary
  - metric: {name: node_cost_per_month}
    tiered_rates: [{value: 6000}]
    cost_type: Supplementary
distribution: cpu
"""


def _figures(rows: list[dict[str, Any]]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    raw, distributed, total = (by_namespace(rows, column) for column in ("raw_cost", "distributed_cost", "total_cost"))
    return {namespace: (raw[namespace], distributed[namespace], total[namespace]) for namespace in raw}


def test_use_case_4_worker_unallocated_is_distributed_by_cpu(session: WarehouseSession) -> None:
    # A node of 200 core-hours, Project A uses 25, B 75: 100 unused. 6,000 a month in April = 200 a day.
    pods = [pod(APRIL, "project-a", "a", "25", cpu_capacity="200"), pod(APRIL, "project-b", "b", "75", cpu_capacity="200")]
    figures = _figures(price(session, models(USE_CASE_4), pods))
    a_raw = 25 * Decimal(1) + Decimal(200) * 25 / 200
    b_raw = 75 * Decimal(1) + Decimal(200) * 75 / 200
    unallocated = Decimal(200) * 100 / 200
    assert (a_raw, b_raw, unallocated) == (50, 150, 100)  # the seed's before
    assert figures == {"project-a": (a_raw, unallocated * 25 / 100, a_raw + unallocated * 25 / 100),
                       "project-b": (b_raw, unallocated * 75 / 100, b_raw + unallocated * 75 / 100),
                       "Worker unallocated": (unallocated, -unallocated, 0)}
    assert {namespace: total for namespace, (_, _, total) in figures.items()} == {
        "project-a": 75, "project-b": 225, "Worker unallocated": 0}  # the seed's after


PLATFORM = """
rates:
  - metric: {name: node_cost_per_month}
    tiered_rates: [{value: 300}]
    cost_type: Infrastructure
  - metric: {name: pvc_cost_per_month}
    tiered_rates: [{value: 30}]
    cost_type: Infrastructure
distribution: memory
"""


def test_platform_and_unattributed_storage_are_distributed_by_memory(session: WarehouseSession) -> None:
    pods = [pod(APRIL, "openshift-etcd", "e", "1", memory="100", node="master-1", role="master"),
            pod(APRIL, "kube-system", "k", "1", memory="50", node="worker-1"),
            pod(APRIL, "shop", "s", "1", memory="150", memory_request="100", node="worker-1"),
            pod(APRIL, "blog", "b", "1", memory="50", node="worker-1")]
    claims = [claim(APRIL, None, None, "bronze", usage="1"), claim(APRIL, "shop", "db", "gold")]
    figures = _figures(price(session, models(PLATFORM), pods, claims))
    daily = Decimal(300) / 30
    platform = (daily * 100 / 400 + daily * 300 / 400          # openshift-etcd and Platform unallocated (master)
                + daily * 50 / 400)                           # kube-system on a worker
    # Storage unattributed has no PVC rate (no claim): nothing to move. Worker unallocated: 400 - 250.
    worker = daily * 150 / 400
    pool = platform + worker
    shop, blog = figures["shop"], figures["blog"]
    assert within_a_unit(shop[1], pool * 150 / 200) and within_a_unit(blog[1], pool * 50 / 200)
    assert shop[1] + blog[1] == sum(-figures[name][1] for name in figures if name not in ("shop", "blog"))
    for namespace in ("openshift-etcd", "kube-system", "Platform unallocated", "Worker unallocated"):
        raw, distributed, total = figures[namespace]
        assert (distributed, total) == (-raw, 0), namespace
    assert sum(distributed for _, distributed, _ in figures.values()) == 0
    assert within_a_unit(figures["shop"][0], daily * 150 / 400 + Decimal(30) / 30)  # effective = max(150, 100)


@pytest.mark.parametrize("switch, kept", [("platform_cost", {"Platform unallocated", "openshift-etcd"}),
                                          ("worker_cost", {"Worker unallocated"}),
                                          ("storage_unattributed", {"Storage unattributed"})])
def test_each_distribution_switch_keeps_its_cost_where_it_is(switch: str, kept: set[str]) -> None:
    session = DuckDBSession(duckdb.connect())
    text = """
rates:
  - metric: {name: node_cost_per_month}
    tiered_rates: [{value: 300}]
    cost_type: Infrastructure
  - metric: {name: storage_gb_usage_per_month}
    tiered_rates: [{value: 2}]
    cost_type: Infrastructure
distribution_info: {%s: false}
""" % switch
    pods = [pod(APRIL, "openshift-etcd", "e", "10", node="master-1", role="master"), pod(APRIL, "shop", "s", "10")]
    figures = _figures(price(session, models(text), pods, [claim(APRIL, None, None, "bronze", usage="3")]))
    sources = {"Platform unallocated", "openshift-etcd", "Worker unallocated", "Storage unattributed"}
    for namespace in sources:
        raw, distributed, total = figures[namespace]
        assert raw > 0
        assert (distributed, total) == ((0, raw) if namespace in kept else (-raw, 0)), namespace
    assert figures["shop"][1] == sum(figures[namespace][0] for namespace in sources - kept)


@pytest.mark.parametrize("network_unattributed", [True, False])
def test_network_is_priced_per_gb_and_unattributed_traffic_is_distributed(session: WarehouseSession,
                                                                          network_unattributed: bool) -> None:
    text = """
rates:
  - metric: {name: network_cost_per_gb}
    tiered_rates: [{value: 0.09}]
    cost_type: Infrastructure
distribution_info: {network_unattributed: %s}
""" % str(network_unattributed).lower()
    session.execute(LANDING_TABLES_SQL)
    land(session, "metering.k8s_network_usage", [
        {"usage_date": APRIL, "cluster_id": "c1", "node": "worker-1", "namespace": "shop",
         "data_transfer_in_gb": Decimal("10"), "data_transfer_out_gb": Decimal("30")},
        {"usage_date": APRIL, "cluster_id": "c1", "node": "worker-1", "namespace": None,
         "data_transfer_in_gb": Decimal("5"), "data_transfer_out_gb": Decimal("15")}])
    pods = [pod(APRIL, "shop", "s", "30"), pod(APRIL, "blog", "b", "10")]
    figures = _figures(price(session, models(text), pods))
    unattributed = 20 * Decimal("0.09")
    assert figures["Network unattributed"][0] == unattributed
    assert figures["shop"][0] == 40 * Decimal("0.09")
    if network_unattributed:
        assert figures["Network unattributed"][1:] == (-unattributed, 0)
        assert figures["shop"][1] == unattributed * 30 / 40 and figures["blog"][1] == unattributed * 10 / 40
    else:
        assert figures["Network unattributed"][1:] == (0, unattributed)
        assert "blog" not in figures


def test_ocp_on_a_cloud_spreads_each_nodes_cloud_cost_and_distributes_the_rest(session: WarehouseSession) -> None:
    text = """
name: OpenShift on AWS
source_uuids: [c1]
rates:
  - metric: {name: cpu_core_usage_per_hour}
    tiered_rates: [{value: 0.02}]
    cost_type: Supplementary
"""
    session.execute(LANDING_TABLES_SQL)
    land(session, "metering.k8s_node_infrastructure_cost", [
        {"usage_date": APRIL, "cluster_id": "c1", "node": "worker-1", "resource_id": "i-0a", "cost_usd": Decimal("48")},
        {"usage_date": APRIL, "cluster_id": "c1", "node": "master-1", "resource_id": "i-0b", "cost_usd": Decimal("12")},
        {"usage_date": APRIL, "cluster_id": "c1", "node": "worker-9", "resource_id": "i-0c", "cost_usd": Decimal("7.5")}])
    pods = [pod(APRIL, "shop", "s", "30"), pod(APRIL, "blog", "b", "10"),
            pod(APRIL, "openshift-etcd", "e", "20", node="master-1", role="master")]
    rows = price(session, models(text), pods)
    infrastructure = by_namespace(rows, "infrastructure_raw_cost", "Infrastructure")
    assert infrastructure == {"shop": Decimal(48) * 30 / 100, "blog": Decimal(48) * 10 / 100,
                              "Worker unallocated": Decimal(48) * 60 / 100 + Decimal("7.5"),  # worker-9 ran no pod
                              "openshift-etcd": Decimal(12) * 20 / 100, "Platform unallocated": Decimal(12) * 80 / 100}
    totals = by_namespace(rows, "total_cost", "Infrastructure")
    cloud = Decimal(48) + Decimal(12) + Decimal("7.5")
    assert sum(totals.values(), Decimal(0)) == cloud                     # nothing lost, nothing doubled
    assert totals == {"shop": cloud * 30 / 40, "blog": cloud * 10 / 40, "Worker unallocated": 0,
                      "openshift-etcd": 0, "Platform unallocated": 0}
    supplementary = by_namespace(rows, "raw_cost", "Supplementary")
    assert supplementary == {"shop": 30 * Decimal("0.02"), "blog": 10 * Decimal("0.02"),
                             "openshift-etcd": 20 * Decimal("0.02")}


def test_the_sensor_reprices_the_current_month_when_cost_model_yaml_changes(target) -> None:
    import dagster as dg

    from costattr_pipeline.definitions import build_definitions
    from costattr_pipeline.resources.config import CostattrConfig

    path = target.config_dir / "cost_model.yaml"
    path.write_text(SIMPLE_ON_PREM, encoding="utf-8")
    with dg.instance_for_test() as instance:
        loaded = build_definitions(target)
        sensor = loaded.resolve_sensor_def("cost_model_changes")
        assert sensor.job_name == "kubernetes_cost"

        def tick(cursor: str | None):
            with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=loaded.get_repository_def(),
                                         resources={
                    "config_files": CostattrConfig(config_dir=str(target.config_dir))}) as context:
                result = sensor.evaluate_tick(context)
            return result, result.cursor

        first, cursor = tick(None)
        assert not first.run_requests and cursor == models(SIMPLE_ON_PREM).models[0].content_hash
        unchanged, cursor = tick(cursor)
        assert not unchanged.run_requests and unchanged.skip_message == "cost_model.yaml has not changed"
        path.write_text(SIMPLE_ON_PREM.replace("10000", "12000"), encoding="utf-8")
        changed, cursor = tick(cursor)
        today = dt.datetime.now(dt.timezone.utc).date()
        [request] = changed.run_requests
        assert cursor == models(SIMPLE_ON_PREM.replace("10000", "12000")).models[0].content_hash
        assert (request.tags.get("dagster/asset_partition_range_start", request.partition_key),
                request.tags.get("dagster/asset_partition_range_end", request.partition_key)) == (
            str(today.replace(day=1)), str(today))
        path.write_text("rates: [{metric: {name: cpu}}]", encoding="utf-8")
        broken, after = tick(cursor)
        assert not broken.run_requests and "not valid" in broken.skip_message and after == cursor
