"""Sample Snowflake ACCOUNT_USAGE exports (contract 2.2), upper-case columns as Snowflake writes them.

- ``WH_ACME`` is dedicated: it carries the tenant tag ``acme``.
- ``WH_ANALYTICS`` is shared: queries tagged ``TENANT_ID=...;app=...``, ``app=...,tenant_id=...`` or JSON,
  service users tagged with their tenant, and an analyst without any tag (unattributed).
- ``WH_ETL`` is shared and runs nightly stored procedures (hierarchical queries); on some days its
  scheduled job is paused while the warehouse still resumes: a metered day without queries (all idle).
- ``WH_LEGACY`` had the ``globex`` tag, now dropped (OBJECT_DELETED): it is treated as shared.
- ``WH_WAYNE`` is wayne's dedicated warehouse, renamed from ``WH_WAYNE_OLD`` three weeks into the
  period: its tag (on the warehouse's id) follows it across the rename.
- Tenant tags live in ``COST_MANAGEMENT.TAGS``; a same-named tag in ``SANDBOX.TAGS`` (someone's test on
  ``WH_ANALYTICS``) attributes nothing.
- Cloud services use about 4 % of the compute credits, but on busy metadata days about 15 %: Snowflake
  bills what exceeds 10 % of the day's compute (attribution ``cloud_services``). A few dashboard
  queries use query acceleration.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

NINE_PLACES = Decimal("0.000000001")
SERVICE_USERS = {"SVC_GLOBEX": "globex", "SVC_WAYNE": "wayne"}
DASHBOARDS = [("acme", "pairs_semicolon"), ("globex", "pairs_comma"), ("initech", "json"), ("umbrella", "json"),
              ("wayne", "pairs_semicolon")]
STATEMENTS = [f"{index:032x}" for index in range(0xA0, 0xA0 + 12)]  # QUERY_PARAMETERIZED_HASH values


def _tag(tenant: str, style: str, app: str) -> str:
    if style == "pairs_semicolon":
        return f"TENANT_ID={tenant};app={app}"
    if style == "pairs_comma":
        return f"app={app},tenant_id={tenant}"
    return f'{{"tenant_id": "{tenant}", "app": "{app}"}}'


def _credits(value: Decimal) -> str:
    return str(value.quantize(NINE_PLACES))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if value is None else value for value in row] for row in rows])


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    folder = Path(source_dir) / "snowflake"
    folder.mkdir(parents=True, exist_ok=True)
    metering: list[list[object]] = []
    queries: list[list[object]] = []
    warehouse_ids = {"WH_ACME": 101, "WH_ANALYTICS": 102, "WH_ETL": 103, "WH_LEGACY": 104, "WH_WAYNE": 105,
                     "WH_WAYNE_OLD": 105}
    days = period.days()
    paused_days = set(rng.sample(days, k=min(3, len(days))))
    metadata_heavy_days = set(rng.sample(days, k=len(days) // 3))
    renamed_on = period.start + dt.timedelta(days=21)
    query_number = 0

    def add_query(day: dt.date, hour: int, warehouse: str, user: str, tag: str | None, credits: Decimal,
                  statement: str, root: str | None = None, parent: str | None = None,
                  acceleration: Decimal = Decimal(0)) -> str:
        nonlocal query_number
        query_number += 1
        query_id = f"01b{query_number:013x}-0000-{warehouse_ids[warehouse]:04d}"
        start = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 50), rng.randint(0, 59)))
        end = start + dt.timedelta(seconds=rng.randint(2, 500))
        queries.append([query_id, parent, root, warehouse_ids[warehouse], warehouse, statement[::-1], statement,
                        tag or "", user, start.isoformat(sep=" "), end.isoformat(sep=" "), _credits(credits),
                        _credits(acceleration)])
        return query_id

    for day in days:
        # Dedicated: acme's warehouse, 8 busy hours.
        for hour in range(8, 16):
            metering.append([day, hour, "WH_ACME", Decimal(rng.randint(300, 600)) / 100])
            add_query(day, hour, "WH_ACME", "SVC_ACME", "TENANT_ID=acme;app=risk", Decimal(rng.randint(150, 290)) / 100,
                      STATEMENTS[0])
        # Shared analytics: office hours, every tenant's dashboards, service users, an untagged analyst.
        for hour in range(7, 19):
            used = Decimal(0)
            for tenant, style in rng.sample(DASHBOARDS, k=3):
                amount = Decimal(rng.randint(5, 40)) / 100
                used += amount
                accelerated = Decimal(rng.randint(1, 8)) / 100 if rng.random() < 0.1 else Decimal(0)
                add_query(day, hour, "WH_ANALYTICS", "LOOKER", _tag(tenant, style, "dashboards"), amount,
                          STATEMENTS[1 + DASHBOARDS.index((tenant, style))], acceleration=accelerated)
            user = rng.choice(list(SERVICE_USERS))
            amount = Decimal(rng.randint(5, 30)) / 100
            used += amount
            add_query(day, hour, "WH_ANALYTICS", user, None, amount, STATEMENTS[6])
            if rng.random() < 0.3:
                amount = Decimal(rng.randint(1, 12)) / 100
                used += amount
                add_query(day, hour, "WH_ANALYTICS", "ANALYST_BOB", None, amount, STATEMENTS[7 + rng.randint(0, 1)])
            metering.append([day, hour, "WH_ANALYTICS", used * Decimal(rng.randint(115, 140)) / 100])
        # Shared ETL: a nightly procedure per tenant (the root query and the statements it runs).
        if day in paused_days:
            metering.append([day, 2, "WH_ETL", Decimal(rng.randint(10, 30)) / 100])  # resumed, nothing ran
        else:
            used = Decimal(0)
            for tenant in ("globex", "initech", "umbrella"):
                root = add_query(day, 2, "WH_ETL", "SVC_ETL", f"TENANT_ID={tenant};app=nightly", Decimal("0.01"),
                                 STATEMENTS[9])
                used += Decimal("0.01")
                for _ in range(rng.randint(2, 4)):
                    amount = Decimal(rng.randint(10, 60)) / 100
                    used += amount
                    add_query(day, 2, "WH_ETL", "SVC_ETL", f"TENANT_ID={tenant};app=nightly", amount, STATEMENTS[10],
                              root=root, parent=root)
            metering.append([day, 2, "WH_ETL", used * Decimal(rng.randint(110, 125)) / 100])
        # wayne's dedicated warehouse, renamed three weeks into the period (same id).
        wayne = "WH_WAYNE_OLD" if day < renamed_on else "WH_WAYNE"
        amount = Decimal(rng.randint(40, 90)) / 100
        add_query(day, 11, wayne, "SVC_WAYNE", "TENANT_ID=wayne;app=models", amount, STATEMENTS[5])
        metering.append([day, 11, wayne, amount * Decimal("1.2")])
        # The legacy warehouse lost its tag: shared now, used by globex's service user now and then.
        if rng.random() < 0.4:
            amount = Decimal(rng.randint(20, 80)) / 100
            add_query(day, 20, "WH_LEGACY", "SVC_GLOBEX", None, amount, STATEMENTS[11])
            metering.append([day, 20, "WH_LEGACY", amount * Decimal("1.5")])

    def _cloud_share(day: dt.date) -> Decimal:
        return Decimal("0.15") if day in metadata_heavy_days else Decimal("0.04")

    _write(folder / "warehouse_metering_history.csv",
           ["START_TIME", "END_TIME", "WAREHOUSE_ID", "WAREHOUSE_NAME", "CREDITS_USED", "CREDITS_USED_COMPUTE",
            "CREDITS_USED_CLOUD_SERVICES"],
           [[dt.datetime.combine(day, dt.time(hour)).isoformat(sep=" "),
             dt.datetime.combine(day, dt.time(hour)).replace(minute=59, second=59).isoformat(sep=" "),
             warehouse_ids[warehouse], warehouse,
             _credits(compute * (1 + _cloud_share(day))), _credits(compute), _credits(compute * _cloud_share(day))]
            for day, hour, warehouse, compute in metering])
    _write(folder / "query_attribution_history.csv",
           ["QUERY_ID", "PARENT_QUERY_ID", "ROOT_QUERY_ID", "WAREHOUSE_ID", "WAREHOUSE_NAME", "QUERY_HASH",
            "QUERY_PARAMETERIZED_HASH", "QUERY_TAG", "USER_NAME", "START_TIME", "END_TIME",
            "CREDITS_ATTRIBUTED_COMPUTE", "CREDITS_USED_QUERY_ACCELERATION"], queries)
    tag_columns = ["TAG_DATABASE", "TAG_SCHEMA", "TAG_NAME", "TAG_VALUE", "OBJECT_DATABASE", "OBJECT_SCHEMA",
                   "OBJECT_ID", "OBJECT_NAME", "DOMAIN", "COLUMN_NAME", "OBJECT_DELETED"]
    tag_rows: list[list[object]] = [
        ["COST_MANAGEMENT", "TAGS", "TENANT_ID", "acme", None, None, 101, "WH_ACME", "WAREHOUSE", None, None],
        ["COST_MANAGEMENT", "TAGS", "TENANT_ID", "globex", None, None, 104, "WH_LEGACY", "WAREHOUSE", None,
         f"{period.start - dt.timedelta(days=20)} 09:30:00"],
        ["COST_MANAGEMENT", "TAGS", "TENANT_ID", "wayne", None, None, 105, "WH_WAYNE", "WAREHOUSE", None, None],
        ["COST_MANAGEMENT", "TAGS", "COST_CENTER", "analytics", None, None, 102, "WH_ANALYTICS", "WAREHOUSE", None,
         None],
        # Someone's test of a tag with the same name in a sandbox: not the tenant tag, attributes nothing.
        ["SANDBOX", "TAGS", "TENANT_ID", "umbrella", None, None, 102, "WH_ANALYTICS", "WAREHOUSE", None, None],
    ]
    tag_rows += [["COST_MANAGEMENT", "TAGS", "TENANT_ID", tenant, None, None, 9000 + index, user, "USER", None, None]
                 for index, (user, tenant) in enumerate(sorted(SERVICE_USERS.items()))]
    _write(folder / "tag_references.csv", tag_columns, tag_rows)
