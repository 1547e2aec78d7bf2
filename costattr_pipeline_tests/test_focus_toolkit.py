"""FOCUS data nobody here wrote: focus-data-toolkit's provider-realistic AWS, Azure and Google Cloud datasets
land, attribute by the tags the toolkit sets, and add up to the datasets' own sums to the cent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

from focus_data_toolkit.generators import get_generator
from focus_data_toolkit.generators.engine.serialize import generate_bundle_csv_bytes

from costattr_pipeline.runner import run_range
from costattr_pipeline_tests.conftest import query

# (toolkit provider, FOCUS version): Google Cloud in 1.3, whose ServiceProviderName names the provider.
DATASETS = (("aws", "1.2"), ("azure", "1.2"), ("gcp", "1.3"))
SETTINGS = """\
partitions_start: 2026-01-01
focus:
  tenant_tag: Owner              # the toolkit tags every resource with its owning team
  module_tag: CostCenter
  providers:
    Google Cloud: {tenant_tag: owner, module_tag: cost-center}   # Google's label keys are lower case
"""


def _generate(provider: str, version: str) -> bytes:
    module = get_generator(provider, version)
    cost_and_usage, _ = generate_bundle_csv_bytes(600, 20260501, profile=module.PROFILE, adapter=module.ADAPTER)
    return cost_and_usage


def _own_sums(datasets: dict[str, bytes]) -> dict[tuple[str, str, str], Decimal]:
    """Per provider, charge day and owning team: the dataset's EffectiveCost, summed here in Python."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for content in datasets.values():
        for row in csv.DictReader(io.StringIO(content.decode("utf-8"))):
            tags = {key.lower(): value for key, value in json.loads(row["Tags"] or "{}").items()}
            provider = row.get("ServiceProviderName") or row["ProviderName"]
            resource_type = "focus_" + "_".join("".join(c if c.isalnum() else " " for c in provider.lower()).split())
            sums[(row["ChargePeriodStart"][:10], resource_type, tags.get("owner"))] += Decimal(row["EffectiveCost"])
    return dict(sums)


def test_toolkit_datasets_of_three_providers_land_and_reconcile_to_the_cent(target) -> None:
    (target.config_dir / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    datasets = {f"{provider}-focus-{version}.csv": _generate(provider, version) for provider, version in DATASETS}
    for name, content in datasets.items():
        (target.source_dir / "focus").mkdir(exist_ok=True)
        (target.source_dir / "focus" / name).write_bytes(content)
    expected = _own_sums(datasets)
    days = sorted({day for day, _, _ in expected})
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    summary = run_range(target, first, last + dt.timedelta(days=1),
                        selection=["metering/focus_charges", "metering/focus_cost_daily", "metering/daily_tenant_summary"])
    assert all(passed for _, _, passed, severity in summary.checks if severity == "ERROR")
    assert query(target, "SELECT focus_version, COUNT(DISTINCT resource_type) FROM metering.focus_charges "
                         "GROUP BY 1 ORDER BY 1") == [("1.2", 2), ("1.3", 1)]
    landed = {(str(day), resource_type, tenant): cost for day, resource_type, tenant, cost in query(
        target, "SELECT cost_date, resource_type, tenant_id, SUM(cost_usd) FROM metering.daily_tenant_summary "
                "GROUP BY 1, 2, 3")}
    assert {key[1] for key in landed} == {"focus_aws", "focus_microsoft_azure", "focus_google_cloud"}
    assert landed == expected                                             # exactly, not only to the cent
    cents = Decimal("0.01")
    assert {key: value.quantize(cents) for key, value in landed.items()} == {
        key: value.quantize(cents) for key, value in expected.items()}
    # Every charge carries its owner tag: nothing is unattributed.
    assert query(target, "SELECT COUNT(*) FROM metering.focus_cost_daily WHERE tenant_id IS NULL") == [(0,)]
