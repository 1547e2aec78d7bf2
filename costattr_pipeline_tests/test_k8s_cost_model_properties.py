"""Properties of the Kubernetes cost model SQL (Hypothesis), against the Decimal reference of lib/cost_model.py."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costattr_pipeline.lib.billing_config import months
from costattr_pipeline.lib.cost_model import (CPU_USAGE_METRICS, MEMORY_USAGE_METRICS, CostModel, CostModels,
                                              reference_pod_costs)
from costattr_pipeline.defs.cost_models.k8s_project_daily_cost import (TABLES_SQL, cost_mismatches, month_pieces,
                                                                        parts_work_table, price_window)
from costattr_pipeline.defs.ingest.kubernetes.kubernetes_usage import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.resources.warehouse import DuckDBSession
from costattr_pipeline_tests.test_k8s_cost_models import NANO, by_namespace, land, pod

DAYS = [dt.date(2026, 2, 10), dt.date(2026, 3, 10)]  # 28 and 31 days
NAMESPACES = ["shop", "blog", "kube-system"]
NODES = [("worker-1", "worker"), ("worker-2", "worker"), ("master-1", "master")]

hours = st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=6, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(50), places=9, allow_nan=False, allow_infinity=False)
monthly = st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=2, allow_nan=False,
                      allow_infinity=False)


@st.composite
def tiers(draw) -> list[dict]:
    """One open rate, or graduated tiers over [0, b1), [b1, b2), ... [bn, open)."""
    bounds = sorted(set(draw(st.lists(st.decimals(min_value=Decimal("0.5"), max_value=Decimal(400), places=3),
                                      max_size=3))))
    starts = [Decimal(0), *bounds]
    ends = [*bounds, None]
    return [{"value": str(draw(rates)), "usage_start": str(start), "usage_end": None if end is None else str(end)}
            for start, end in zip(starts, ends)]


@st.composite
def tiered_models(draw) -> CostModel:
    metrics = draw(st.lists(st.sampled_from([*CPU_USAGE_METRICS, *MEMORY_USAGE_METRICS]), min_size=1, max_size=4,
                            unique=True))
    return CostModel.model_validate({"rates": [
        {"metric": {"name": metric}, "tiered_rates": draw(tiers()),
         "cost_type": draw(st.sampled_from(["Infrastructure", "Supplementary"]))} for metric in metrics]})


@st.composite
def pod_rows(draw) -> list[dict]:
    rows = []
    for index in range(draw(st.integers(1, 6))):
        node, role = draw(st.sampled_from(NODES))
        rows.append({"day": draw(st.sampled_from(DAYS)), "namespace": draw(st.sampled_from(NAMESPACES)),
                     "pod": f"p{index}", "node": node, "role": role,
                     "labels": draw(st.sampled_from([{}, {"env": "prod"}, {"app": "web"}])),
                     **{name: draw(hours) for name in ("cpu_core_usage_hours", "cpu_core_request_hours",
                                                       "memory_gb_usage_hours", "memory_gb_request_hours")}})
    return rows


def _land(rows: list[dict], capacity: dict[str, Decimal]) -> list[dict]:
    return [pod(row["day"], row["namespace"], row["pod"], str(row["cpu_core_usage_hours"]),
                str(row["cpu_core_request_hours"]), str(row["memory_gb_usage_hours"]),
                str(row["memory_gb_request_hours"]), node=row["node"], role=row["role"], labels=row["labels"],
                cpu_capacity=str(capacity[row["node"]]), memory_capacity=str(capacity[row["node"]] * 4))
            for row in rows]


def _price_days(model: CostModel, rows: list[dict], capacity: dict[str, Decimal]) -> list[dict]:
    """Land the rows, price every day of DAYS with the model, check the rows reconcile; the written rows."""
    session = DuckDBSession(duckdb.connect())
    session.execute(LANDING_TABLES_SQL)
    session.execute(TABLES_SQL)
    land(session, "metering.k8s_pod_usage", _land(rows, capacity))
    models = CostModels((model,))
    start, end = DAYS[0], DAYS[-1] + dt.timedelta(days=1)
    with parts_work_table(session, models) as parts:
        price_window(session, models, start, end, dt.datetime(2026, 5, 1), parts)
        assert cost_mismatches(session, models, start, end, parts) == []
    assert session.scalar("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = 'k8s_cost_parts_work'") == 0
    written = session.rows("SELECT * FROM metering.k8s_project_daily_cost ORDER BY ALL")
    # DuckDB priced DAYS a calendar month at a time; one statement over the whole window (as on Snowflake)
    # writes the same rows.
    price_window(session, models, start, end, dt.datetime(2026, 5, 1))
    assert session.rows("SELECT * FROM metering.k8s_project_daily_cost ORDER BY ALL") == written
    return [{name.lower(): value for name, value in row.items()} for row in written]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiered_models(), pod_rows())
def test_a_tiered_model_equals_the_row_by_row_decimal_reference(model: CostModel, rows: list[dict]) -> None:
    written = _price_days(model, rows, {node: Decimal(1000) for node, _ in NODES})
    expected: dict[tuple, Decimal] = {}
    for row in rows:
        for (cost_type, column), amount in reference_pod_costs(model, row).items():
            key = (row["day"], row["node"], row["namespace"], cost_type, column)
            expected[key] = expected.get(key, Decimal(0)) + amount
    actual: dict[tuple, Decimal] = {}
    for row in written:
        for column in ("cpu", "memory"):
            key = (row["usage_date"], row["node"], row["namespace"], row["cost_type"], column)
            actual[key] = Decimal(str(row[f"cost_model_{column}_cost"]))
    priced_types = {rate.cost_type for rate in model.rates}
    expected = {key: value for key, value in expected.items() if key[3] in priced_types}
    assert actual == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod_rows(), monthly, st.sampled_from(["cpu", "memory"]),
       st.lists(st.decimals(min_value=Decimal(0), max_value=Decimal(2000), places=6), min_size=3, max_size=3))
def test_unallocated_and_namespace_rows_add_up_to_capacity_times_the_node_rate(
        rows: list[dict], rate: Decimal, distribution: str, capacities: list[Decimal]) -> None:
    model = CostModel.model_validate({"distribution": distribution, "rates": [
        {"metric": {"name": "node_cost_per_month"}, "tiered_rates": [{"value": str(rate)}],
         "cost_type": "Infrastructure"}]})
    capacity = {node: value for (node, _), value in zip(NODES, capacities)}
    written = _price_days(model, rows, capacity)
    for day in {row["day"] for row in rows}:
        days_in_month = 28 if day.month == 2 else 31
        for node, _ in NODES:
            node_rows = [row for row in written if row["usage_date"] == day and row["node"] == node]
            pods = [row for row in rows if row["day"] == day and row["node"] == node]
            if not pods:
                assert node_rows == []
                continue
            factor = 1 if distribution == "cpu" else 4
            used = sum((max(row[f"{'cpu_core' if distribution == 'cpu' else 'memory_gb'}_usage_hours"],
                            row[f"{'cpu_core' if distribution == 'cpu' else 'memory_gb'}_request_hours"])
                        for row in pods), Decimal(0))
            node_capacity = max(capacity[node] * factor, used)
            total = sum((Decimal(str(row["raw_cost"])) for row in node_rows), Decimal(0))  # before distribution
            if node_capacity == 0:
                assert total == 0
                continue
            # The node's day: capacity x the rate per capacity unit and day, whatever uses it.
            assert total == (rate / days_in_month).quantize(NANO, ROUND_HALF_UP)
            for namespace, amount in by_namespace(node_rows).items():
                share = sum((max(row[f"{'cpu_core' if distribution == 'cpu' else 'memory_gb'}_usage_hours"],
                                 row[f"{'cpu_core' if distribution == 'cpu' else 'memory_gb'}_request_hours"])
                             for row in pods if row["namespace"] == namespace), Decimal(0)) \
                    if namespace not in ("Worker unallocated", "Platform unallocated") else node_capacity - used
                exact = rate / days_in_month * share / node_capacity
                assert abs(amount - exact) < NANO * len(pods), (namespace, amount, exact)


PLATFORM_NAMESPACES = ["openshift-etcd", "kube-system"]


@st.composite
def clusters(draw) -> list[dict]:
    rows = []
    for index in range(draw(st.integers(1, 8))):
        node, role = draw(st.sampled_from(NODES))
        rows.append({"day": draw(st.sampled_from(DAYS)), "pod": f"p{index}", "node": node, "role": role,
                     "namespace": draw(st.sampled_from(NAMESPACES + PLATFORM_NAMESPACES)),
                     "labels": draw(st.sampled_from([{}, {"env": "prod"}])),
                     **{name: draw(hours) for name in ("cpu_core_usage_hours", "cpu_core_request_hours",
                                                       "memory_gb_usage_hours", "memory_gb_request_hours")}})
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), monthly, monthly, rates, st.sampled_from(["cpu", "memory"]), st.booleans(), st.booleans(),
       st.sampled_from(["0", "10", "-25", "3.5"]))
def test_distribution_sums_to_zero_keeps_totals_and_gives_users_no_negative_cost(
        rows: list[dict], node_rate: Decimal, cluster_rate: Decimal, cpu_rate: Decimal, distribution: str,
        platform_cost: bool, worker_cost: bool, markup: str) -> None:
    model = CostModel.model_validate({
        "distribution": distribution, "markup": {"value": markup},
        "distribution_info": {"platform_cost": platform_cost, "worker_cost": worker_cost},
        "rates": [{"metric": {"name": "node_cost_per_month"}, "tiered_rates": [{"value": str(node_rate)}],
                   "cost_type": "Infrastructure"},
                  {"metric": {"name": "cluster_cost_per_month"}, "tiered_rates": [{"value": str(cluster_rate)}],
                   "cost_type": "Supplementary"},
                  {"metric": {"name": "cpu_core_usage_per_hour"}, "tag_rates": {
                      "tag_key": "env", "tag_values": [{"tag_value": "prod", "value": str(cpu_rate)}]},
                   "cost_type": "Supplementary"}]})
    written = _price_days(model, rows, {node: Decimal(300) for node, _ in NODES})
    groups: dict[tuple, list[dict]] = {}
    for row in written:
        groups.setdefault((row["usage_date"], row["cost_type"]), []).append(row)
    for group in groups.values():
        assert sum(Decimal(str(row["distributed_cost"])) for row in group) == 0
        assert sum(Decimal(str(row["total_cost"])) for row in group) == sum(
            Decimal(str(row["raw_cost"])) + Decimal(str(row["markup_cost"])) for row in group)
    for row in written:
        platform = (row["namespace"] in PLATFORM_NAMESPACES or row["namespace"].endswith("unallocated")
                    or row["node"] == "master-1")
        if not platform:
            assert row["distributed_cost"] >= 0, row
        else:
            assert row["distributed_cost"] <= 0, row
        assert row["total_cost"] >= 0


@given(st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)), st.integers(1, 800))
def test_month_pieces_cover_the_window_in_order_one_calendar_month_each(start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days)
    pieces = month_pieces(start, end)
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(previous[1] == following[0] for previous, following in zip(pieces, pieces[1:]))
    for first, last in pieces:
        assert first < last and (last - dt.timedelta(days=1)).replace(day=1) == first.replace(day=1)
    assert all(following[0].day == 1 for following in pieces[1:])


@given(st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)), st.integers(1, 800),
       st.lists(st.integers(0, 400), min_size=28, max_size=28), st.integers(0, 1000))
def test_month_pieces_hold_months_together_up_to_the_row_budget(start: dt.date, days: int, counts: list[int],
                                                                budget: int) -> None:
    end = start + dt.timedelta(days=days)
    month_firsts = months(start, end)
    usage_rows = dict(zip(month_firsts, counts))
    pieces = month_pieces(start, end, usage_rows, budget)
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(previous[1] == following[0] for previous, following in zip(pieces, pieces[1:]))
    assert all(following[0].day == 1 for following in pieces[1:])
    rows = [sum(usage_rows[month] for month in month_firsts if first <= max(month, start) < last)
            for first, last in pieces]
    spans = [len(months(first, last)) for first, last in pieces]
    # A piece is one month, or months that fit the budget together; no two neighbours would have fit as one.
    assert all(span == 1 or held <= budget for span, held in zip(spans, rows))
    assert all(left + right > budget for left, right in zip(rows, rows[1:]))
