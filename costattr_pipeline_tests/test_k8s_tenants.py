"""Kubernetes cost per tenant (issue 18): namespaces attributed by pod label or tenants.yaml, in the summary and
the FOCUS export."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from costattr_pipeline_tests.test_k8s_cost_models import POD_HEADER, SIMPLE_ON_PREM

SELECTION = ["metering/k8s_pod_usage", "metering/k8s_storage_usage", "metering/k8s_vm_usage",
             "metering/k8s_project_daily_cost", "metering/daily_tenant_summary", "metering/focus_export"]
DAY = dt.date(2026, 4, 15)


def labels(**values: str) -> str:
    inner = ", ".join(f'""{key}"": ""{value}""' for key, value in values.items())
    return f'"{{{inner}}}"'


def write_cluster(source_dir: Path) -> None:
    folder = Path(source_dir) / "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        ("shop", "a", labels(tenant_id="acme", module_id="risk-engine"), 60, 300),
        ("shop", "a2", labels(tenant_id="acme"), 10, 20),
        ("blog", "b", labels(tenant_id="initech"), 40, 200),       # tenants.yaml maps blog: the map wins
        ("misc", "c", "{}", 20, 100),                                # no label, not mapped: unattributed
        ("shared", "d", labels(tenant_id="acme"), 5, 10),           # two tenants in one namespace: unattributed
        ("shared", "e", labels(tenant_id="globex"), 5, 10),
    ]
    lines = [f"2026-04-15,c1,w1,worker,{ns},{pod},{pod_labels},{cpu},0,{memory},0,200,1000\n"
             for ns, pod, pod_labels, cpu, memory in rows]
    (folder / "pod_usage.csv").write_text(POD_HEADER + "".join(lines), encoding="utf-8")


def test_namespaces_reach_their_tenants_in_the_summary_and_the_export(target) -> None:
    from costattr_pipeline.runner import run_range
    from costattr_pipeline_tests.conftest import query

    write_cluster(target.source_dir)
    (target.config_dir / "cost_model.yaml").write_text(SIMPLE_ON_PREM, encoding="utf-8")
    (target.config_dir / "tenants.yaml").write_text("namespaces: {blog: globex}\n", encoding="utf-8")
    summary = run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION)
    failed = {check[1] for check in summary.checks if not check[2]}
    # The summary's and the export's reconcile checks pass; misc and shared are more than 2 % of the cluster.
    assert failed == {"k8s_storage_usage_source_present", "kubernetes_unattributed_share_within_threshold"}

    namespace_cost = dict(query(target, "SELECT namespace, SUM(total_cost) FROM metering.k8s_project_daily_cost "
                                        "GROUP BY namespace"))
    assert namespace_cost["Worker unallocated"] == 0          # distributed to the user namespaces
    tenants = {(tenant, module): cost for tenant, module, cost in query(
        target, "SELECT tenant_id, module_id, SUM(cost_usd) FROM metering.daily_tenant_summary "
                "WHERE resource_type = 'kubernetes' GROUP BY 1, 2")}
    assert tenants == {
        ("acme", "risk-engine"): namespace_cost["shop"],   # the one module value its pods carry
        ("globex", None): namespace_cost["blog"],
        (None, None): sum((cost for namespace, cost in namespace_cost.items() if namespace not in ("shop", "blog")),
                          Decimal(0)),
    }
    assert sum(tenants.values(), Decimal(0)) == sum(namespace_cost.values(), Decimal(0))
    assert namespace_cost["shop"] > 0 and namespace_cost["misc"] > 0 and namespace_cost["shared"] > 0

    alerts = query(target, "SELECT subject_date, payload FROM metering.alerts WHERE check_name = "
                           "'kubernetes_unattributed_share_within_threshold'")
    assert [subject for subject, _ in alerts] == [DAY]
    assert Decimal(json.loads(alerts[0][1])["unattributed_cost_usd"]) == tenants[(None, None)]

    exported = {tenant: (cost, rule) for tenant, cost, rule in query(
        target, "SELECT x_TenantId, SUM(x_CountedCost), MIN(x_AttributionRule) FROM metering.focus_export "
                "WHERE x_CostattrResourceType = 'kubernetes' GROUP BY 1")}
    assert exported == {"acme": (namespace_cost["shop"], "k8s_pod_label"),
                        "globex": (namespace_cost["blog"], "k8s_namespace_map"),
                        None: (tenants[(None, None)], "unattributed")}


def test_the_tenant_and_module_labels_are_configurable(target) -> None:
    from costattr_pipeline.runner import run_range
    from costattr_pipeline_tests.conftest import query

    folder = Path(target.source_dir) / "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pod_usage.csv").write_text(POD_HEADER + "".join(
        f"2026-04-15,c1,w1,worker,{ns},p,{pod_labels},{cpu},0,0,0,100,100\n"
        for ns, pod_labels, cpu in [("shop", labels(customer="acme", product="reporting"), 30),
                                    ("blog", labels(tenant_id="acme"), 70)]), encoding="utf-8")
    (target.config_dir / "cost_model.yaml").write_text(SIMPLE_ON_PREM, encoding="utf-8")
    settings = target.config_dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + "kubernetes: {tenant_label: customer, module_label: product}\n", encoding="utf-8")
    run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION)
    namespace_cost = dict(query(target, "SELECT namespace, SUM(total_cost) FROM metering.k8s_project_daily_cost "
                                        "GROUP BY namespace"))
    rows = query(target, "SELECT tenant_id, module_id, SUM(cost_usd) FROM metering.daily_tenant_summary "
                         "WHERE resource_type = 'kubernetes' GROUP BY 1, 2 ORDER BY 1 NULLS LAST")
    assert rows == [("acme", "reporting", namespace_cost["shop"]),
                    (None, None, sum((cost for namespace, cost in namespace_cost.items() if namespace != "shop"),
                                     Decimal(0)))]


def _ocp_on_aws_day(target, settings_extra: str, node_cost: str | None = None) -> dict:
    """One day: Cost Explorer with the cluster's node cost under tenant tag eks-prod-1, and the cluster's usage."""
    from costattr_pipeline.runner import run_range
    from costattr_pipeline_tests.builders import group, page, write_fetch
    from costattr_pipeline_tests.conftest import query

    write_fetch(target.source_dir, "fetch-1.json", page({"2026-04-15": [
        group("acme", "Amazon RDS", "12.3456789012"), group(None, "Amazon S3", "1.10"),
        group("eks-prod-1", "Amazon EC2", "100.0000000001")]}))
    write_cluster(target.source_dir)
    if node_cost is not None:  # the cloud's cost of node w1, as kubernetes/node_infrastructure_cost says
        (Path(target.source_dir) / "kubernetes" / "node_infrastructure_cost.csv").write_text(
            f"usage_date,cluster_id,node,resource_id,cost_usd\n2026-04-15,c1,w1,i-0abc,{node_cost}\n", encoding="utf-8")
    (target.config_dir / "cost_model.yaml").write_text(SIMPLE_ON_PREM, encoding="utf-8")
    (target.config_dir / "tenants.yaml").write_text("namespaces: {blog: globex}\n", encoding="utf-8")
    settings = target.config_dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + settings_extra, encoding="utf-8")
    summary = run_range(target, DAY, DAY + dt.timedelta(days=1),
                        selection=["metering/aws_cost_daily", "metering/k8s_node_infrastructure_cost", *SELECTION])
    passed = {check[1]: check[2] for check in summary.checks}
    assert passed["reconciles_with_sources"] and passed["sums_to_daily_tenant_summary"]  # nothing lost or doubled
    return {
        "aws": {tenant: cost for tenant, cost in query(
            target, "SELECT tenant_id, SUM(cost_usd) FROM metering.daily_tenant_summary WHERE resource_type = 'aws' "
                    "GROUP BY 1")},
        "total": query(target, "SELECT SUM(cost_usd) FROM metering.daily_tenant_summary")[0][0],
        "tenants": {tenant: cost for tenant, cost in query(
            target, "SELECT tenant_id, SUM(cost_usd) FROM metering.daily_tenant_summary "
                    "WHERE resource_type = 'kubernetes' GROUP BY 1")},
    }


def test_ocp_on_aws_moves_the_node_cost_from_the_tag_to_the_namespaces(target, tmp_path_factory) -> None:
    from costattr_pipeline.target import Target

    other = tmp_path_factory.mktemp("plain") / "source"
    (other / "config").mkdir(parents=True)
    (other / "config" / "settings.yaml").write_text((target.config_dir / "settings.yaml").read_text(encoding="utf-8"),
                                                    encoding="utf-8")
    plain = _ocp_on_aws_day(Target.resolve("local", str(other), None, str(other.parent / "w.duckdb")), "")
    moved = _ocp_on_aws_day(target, "kubernetes: {clusters: {c1: {aws_tenant_tag_value: eks-prod-1}}}\n")

    node_cost = Decimal("100.0000000001")
    assert plain["aws"]["eks-prod-1"] == node_cost                     # without the setting: a tenant of its own
    assert "eks-prod-1" not in moved["aws"]
    assert moved["total"] == plain["total"]                            # the day's total is unchanged
    assert moved["tenants"] == plain["tenants"]                        # Kubernetes cost itself is not touched
    cluster = sum(moved["tenants"].values(), Decimal(0))
    for tenant in ("globex", None):                                    # each tenant's share of the cluster
        exact = node_cost * moved["tenants"][tenant] / cluster
        received = moved["aws"][tenant] - plain["aws"].get(tenant, Decimal(0))
        assert abs(received - exact) <= Decimal("1e-9")
    exact_acme = node_cost * moved["tenants"]["acme"] / cluster
    assert abs(moved["aws"]["acme"] - Decimal("12.3456789012") - exact_acme) <= Decimal("1e-9")
    assert sum(moved["aws"].values(), Decimal(0)) == sum(plain["aws"].values(), Decimal(0))


def test_ocp_on_aws_with_node_costs_counts_the_node_cost_once(target, tmp_path_factory) -> None:
    """node_infrastructure_cost already puts 60.00 of the tagged 100.0000000001 into Kubernetes: only the rest
    moves from the tag to the namespaces, and the day's total loses exactly the 60.00 counted twice before."""
    from costattr_pipeline.target import Target

    other = tmp_path_factory.mktemp("plain") / "source"
    (other / "config").mkdir(parents=True)
    (other / "config" / "settings.yaml").write_text((target.config_dir / "settings.yaml").read_text(encoding="utf-8"),
                                                    encoding="utf-8")
    plain = _ocp_on_aws_day(Target.resolve("local", str(other), None, str(other.parent / "w.duckdb")), "", "60.00")
    moved = _ocp_on_aws_day(target, "kubernetes: {clusters: {c1: {aws_tenant_tag_value: eks-prod-1}}}\n", "60.00")

    assert plain["aws"]["eks-prod-1"] == Decimal("100.0000000001")
    assert "eks-prod-1" not in moved["aws"]
    assert moved["tenants"] == plain["tenants"]             # Kubernetes keeps the node cost it priced
    assert moved["total"] == plain["total"] - Decimal("60.00")
    rest = Decimal("100.0000000001") - Decimal("60.00")
    assert sum(moved["aws"].values(), Decimal(0)) == sum(plain["aws"].values(), Decimal(0)) - Decimal("60.00")
    cluster = sum(moved["tenants"].values(), Decimal(0))
    received = moved["aws"]["globex"] - plain["aws"].get("globex", Decimal(0))
    assert abs(received - rest * moved["tenants"]["globex"] / cluster) <= Decimal("1e-9")


def test_cloud_markup_is_its_own_column_and_in_unit_economics(target) -> None:
    """A cost model of source_type AWS marks up AWS cost by 10 %: cost_usd stays raw, markup_usd beside it,
    and unit economics' attributed cost is cost + markup."""
    from costattr_pipeline.runner import run_range
    from costattr_pipeline_tests.builders import group, page, write_fetch
    from costattr_pipeline_tests.conftest import query

    write_fetch(target.source_dir, "fetch-1.json", page({"2026-04-15": [
        group("acme", "Amazon RDS", "12.3456789012"), group(None, "Amazon S3", "1.10")]}))
    (target.config_dir / "cost_model.yaml").write_text(
        "cost_models:\n  - name: AWS markup\n    source_type: AWS\n    markup: {value: 10, unit: percent}\n",
        encoding="utf-8")
    run_range(target, DAY, DAY + dt.timedelta(days=1), selection=[
        "metering/aws_cost_daily", "metering/daily_tenant_summary", "metering/usage_events",
        "metering/external_api_costs", "metering/billing_period_summary",
        "metering/unit_economics"])
    rows = query(target, "SELECT tenant_id, cost_usd, markup_usd FROM metering.daily_tenant_summary "
                         "ORDER BY tenant_id NULLS LAST")
    assert rows == [("acme", Decimal("12.3456789012"), Decimal("12.3456789012") * Decimal("0.1")),
                    (None, Decimal("1.10"), Decimal("0.11"))]
    assert query(target, "SELECT tenant_id, attributed_cost FROM metering.unit_economics") == [
        ("acme", Decimal("12.3456789012") * Decimal("1.1"))]
