"""The monthly cost report: one self-contained HTML page per month, its charts drawn by Vega-Lite.

The charts are Altair (Vega-Lite) specifications; the page carries Vega, Vega-Lite and vega-embed
inline (the bundle vl-convert builds), so it opens without a network, from a mail attachment or a
file share. Amounts are exact Decimals up to here: the tables show them rounded to cents half away
from zero, the charts draw them as numbers (a chart cannot show the thousandth of a cent anyway).

The inlined JavaScript is under BSD-3-Clause (Vega, Vega-Lite, vega-embed) and the permissive
licences of their dependencies (ISC, MIT, 0BSD); each page reproduces the notices they ask for.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costattr_pipeline.lib.money import round_cents
from costattr_pipeline.lib.cache_files import cache_folder, write_whole
from costattr_pipeline.lib.sql import cached_json

if TYPE_CHECKING:
    import altair as alt

NOTICE = (Path(__file__).parent / "cost_report_notice.txt").read_text(encoding="utf-8")
UNATTRIBUTED = "unattributed"
TOP = 10


@dataclass(frozen=True)
class MonthData:
    """What the report of one month shows, as read from the warehouse and the checks' history."""

    month: dt.date                              # first day of the month
    daily_cost: Sequence[Mapping[str, Any]]     # cost_date, resource_type, cost_usd
    tenant_cost: Sequence[Mapping[str, Any]]    # tenant_id (None: unattributed), resource_type, cost_usd
    unattributed: Sequence[Mapping[str, Any]]   # cost_date, total_aws_cost_usd, unattributed_cost_usd,
    #                                             unattributed_share, threshold_used, exceeds_threshold
    economics: Sequence[Mapping[str, Any]]      # tenant_id, revenue, attributed_cost, gross_margin, gross_margin_pct
    warehouses: Sequence[Mapping[str, Any]]     # warehouse_name, credits, cost_usd (most expensive first)
    products: Sequence[Mapping[str, Any]]       # product_id (None: untagged), cost_usd (most expensive first)
    failed_checks: Sequence[Mapping[str, Any]] = field(default_factory=list)  # asset, check, severity, partitions,
    #                                                                           description, failing_rows

    @property
    def title(self) -> str:
        return f"Cost report {self.month:%B %Y}"


def _sum(rows: Sequence[Mapping[str, Any]], column: str) -> Decimal:
    return sum((Decimal(row[column]) for row in rows if row.get(column) is not None), Decimal(0))


def month_figures(data: MonthData) -> dict[str, Any]:
    """The month's headline figures (exact): total and per-source cost, unattributed, margins, failed checks."""
    figures: dict[str, Any] = {"total_cost_usd": _sum(data.daily_cost, "cost_usd")}
    for source in sorted({row["resource_type"] for row in data.daily_cost}):
        figures[f"{source}_cost_usd"] = _sum([row for row in data.daily_cost if row["resource_type"] == source],
                                             "cost_usd")
    figures["unattributed_cost_usd"] = _sum([row for row in data.tenant_cost if row["tenant_id"] is None], "cost_usd")
    aws_total = _sum(data.unattributed, "total_aws_cost_usd")
    figures["aws_unattributed_share"] = (_sum(data.unattributed, "unattributed_cost_usd") / aws_total
                                         if aws_total else Decimal(0))
    figures["days_over_threshold"] = sum(1 for row in data.unattributed if row["exceeds_threshold"])
    figures["revenue_usd"] = _sum(data.economics, "revenue")
    figures["attributed_cost_usd"] = _sum(data.economics, "attributed_cost")
    figures["gross_margin_usd"] = _sum(data.economics, "gross_margin")
    figures["tenants"] = len({row["tenant_id"] for row in data.tenant_cost if row["tenant_id"] is not None})
    figures["failed_checks"] = len(data.failed_checks)
    return figures


def usd(amount: Decimal | None) -> str:
    """An exact amount as the reader sees it: cents half away from zero, thousands separated."""
    return "" if amount is None else f"{round_cents(Decimal(amount)):,.2f}"


def percent(share: Decimal | float | None) -> str:
    return "" if share is None else f"{Decimal(str(share)) * 100:.2f} %"


def headline(data: MonthData) -> list[tuple[str, str]]:
    """The month's headline figures as (label, text) rows: money in USD cents, the share in percent."""
    figures = month_figures(data)
    sources = [name for name in figures if name.endswith("_cost_usd")
               and name not in ("total_cost_usd", "unattributed_cost_usd", "attributed_cost_usd")]
    return [("total cost (USD)", usd(figures["total_cost_usd"])),
            *((f"{name.removesuffix('_cost_usd')} (USD)", usd(figures[name])) for name in sources),
            ("unattributed cost (USD)", usd(figures["unattributed_cost_usd"])),
            ("AWS unattributed share", percent(figures["aws_unattributed_share"])),
            ("days over the threshold", str(figures["days_over_threshold"])),
            ("revenue (USD)", usd(figures["revenue_usd"])),
            ("attributed cost of billed tenants (USD)", usd(figures["attributed_cost_usd"])),
            ("gross margin (USD)", usd(figures["gross_margin_usd"])),
            ("failed checks", str(figures["failed_checks"]))]


def summary_markdown(data: MonthData, path: Path | str | None = None) -> str:
    """The month in a few lines, for the asset's metadata in the UI."""
    link = f" ([open the report]({Path(path).as_uri()}))" if path else ""
    return "\n".join([f"**{data.title}**{link}", "", "| figure | value |", "|---|---|",
                      *(f"| {label} | {value} |" for label, value in headline(data))])


def _values(rows: Sequence[Mapping[str, Any]], **columns: str) -> list[dict[str, Any]]:
    """Rows for a chart: Decimals as numbers, dates as ISO text, None as the label given in ``columns``."""
    out = []
    for row in rows:
        item = {}
        for name, value in row.items():
            if value is None:
                value = columns.get(name)
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            item[name] = value
        out.append(item)
    return out


def chart_datasets(data: MonthData) -> dict[str, list[dict[str, Any]]]:
    """The month's rows, by the name of the dataset the charts of :func:`chart_specs` read them from."""
    return {"daily_cost": _values(data.daily_cost), "tenant_cost": _values(data.tenant_cost, tenant_id=UNATTRIBUTED),
            "unattributed": _values(data.unattributed), "economics": _values(data.economics),
            "warehouses": _values(data.warehouses[:TOP]),
            "products": _values(data.products[:TOP], product_id="untagged")}


@functools.cache
def chart_specs() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every chart of the page: id -> (heading, what it shows, its Vega-Lite spec over named datasets).

    The charts do not depend on the month, only their rows do: each page gives them its rows as the
    spec's ``datasets``. Building them was 12 % of a yearly backfill's fixed cost (Altair's ``encode``
    parses every channel), twelve times over for the months of a year; importing Altair and building them
    once still cost 1.2 s per process. So they are built and checked against the Vega-Lite JSON Schema
    once per Altair version and version of this file, and kept in the cache folder (lib/sql.py).
    """
    key = ("chart_specs", importlib.metadata.version("altair"), hashlib.sha256(Path(__file__).read_bytes()).hexdigest())
    return cached_json(key, _built_chart_specs, _read_chart_specs)


def _read_chart_specs(stored: Mapping[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The specs as kept; a spec without its Vega-Lite version (which the page's script is chosen by) raises,
    and is built again."""
    specs = {chart_id: (str(heading), str(about), dict(spec)) for chart_id, (heading, about, spec) in stored.items()}
    for _, _, spec in specs.values():
        _vega_lite_version(spec)
    return specs


def _built_chart_specs() -> dict[str, list[Any]]:
    import altair as alt  # here, not at import: loading the definitions should not pay for it

    source = alt.Color("resource_type:N", title="source")
    days = alt.X("cost_date:O", title="day", axis=alt.Axis(labelAngle=-60))
    cost_by_day = alt.Chart(alt.Data(name="daily_cost")).mark_bar().encode(
        x=days, y=alt.Y("sum(cost_usd):Q", title="cost (USD)"), color=source,
        tooltip=["cost_date:O", "resource_type:N", alt.Tooltip("sum(cost_usd):Q", format=",.2f", title="USD")],
    ).properties(width=760, height=260)
    cost_by_tenant = alt.Chart(alt.Data(name="tenant_cost")).mark_bar().encode(
        y=alt.Y("tenant_id:N", title="tenant", sort="-x"), x=alt.X("sum(cost_usd):Q", title="cost (USD)"),
        color=source,
        tooltip=["tenant_id:N", "resource_type:N", alt.Tooltip("sum(cost_usd):Q", format=",.2f", title="USD")],
    ).properties(width=760, height=alt.Step(22))
    shares = alt.Data(name="unattributed")
    share_line = alt.Chart(shares).mark_line(point=True).encode(
        x=days, y=alt.Y("unattributed_share:Q", title="unattributed share", axis=alt.Axis(format="%")),
        tooltip=["cost_date:O", alt.Tooltip("unattributed_share:Q", format=".2%"),
                 alt.Tooltip("threshold_used:Q", format=".2%", title="threshold")])
    threshold = alt.Chart(shares).mark_line(color="#d62728", strokeDash=[6, 4], interpolate="step-after").encode(
        x=days, y="threshold_used:Q")
    breaches = alt.Chart(shares).mark_point(color="#d62728", size=90, shape="diamond", filled=True).encode(
        x=days, y="unattributed_share:Q").transform_filter("datum.exceeds_threshold")
    unattributed_share = (share_line + threshold + breaches).properties(width=760, height=220)
    revenue_vs_cost = alt.Chart(alt.Data(name="economics")).transform_fold(
        ["revenue", "attributed_cost"], as_=["measure", "usd"]).mark_bar().encode(
        x=alt.X("tenant_id:N", title="tenant"), xOffset="measure:N", y=alt.Y("usd:Q", title="USD"),
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=["revenue", "attributed_cost"], range=["#2ca02c", "#ff7f0e"])),
        tooltip=["tenant_id:N", "measure:N", alt.Tooltip("usd:Q", format=",.2f")],
    ).properties(width=760, height=240)
    margin = alt.Chart(alt.Data(name="economics")).mark_bar().encode(
        x=alt.X("tenant_id:N", title="tenant"), y=alt.Y("gross_margin:Q", title="gross margin (USD)"),
        color=alt.condition("datum.gross_margin >= 0", alt.value("#2ca02c"), alt.value("#d62728")),
        tooltip=["tenant_id:N", alt.Tooltip("gross_margin:Q", format=",.2f"),
                 alt.Tooltip("gross_margin_pct:Q", format=".2f", title="margin %")],
    ).properties(width=760, height=200)
    warehouses = alt.Chart(alt.Data(name="warehouses")).mark_bar(color="#29b5e8").encode(
        y=alt.Y("warehouse_name:N", title="warehouse", sort="-x"), x=alt.X("cost_usd:Q", title="cost (USD)"),
        tooltip=["warehouse_name:N", alt.Tooltip("credits:Q", format=",.3f"), alt.Tooltip("cost_usd:Q", format=",.2f")],
    ).properties(width=760, height=alt.Step(22))
    products = alt.Chart(alt.Data(name="products")).mark_bar(
        color="#ff3621").encode(
        y=alt.Y("product_id:N", title="data product", sort="-x"), x=alt.X("cost_usd:Q", title="cost (USD)"),
        tooltip=["product_id:N", alt.Tooltip("cost_usd:Q", format=",.2f", title="USD")],
    ).properties(width=760, height=alt.Step(22))
    charts = {
        "cost-by-day": ("Cost per day, by source", "Every cost of each day (daily tenant summary), stacked by source.",
                        cost_by_day),
        "cost-by-tenant": ("Cost per tenant, by source", "The month's cost of each tenant; `unattributed` is cost no "
                           "tenant caused.", cost_by_tenant),
        "unattributed-share": ("AWS unattributed share per day", "The share of AWS cost without a tenant tag (line) "
                               "against the threshold in force (dashed); diamonds mark the days over it.",
                               unattributed_share),
        "revenue-vs-cost": ("Revenue and attributed cost per tenant", "The bill's total against the tenant's "
                            "attributed cost.", revenue_vs_cost),
        "gross-margin": ("Gross margin per tenant", "Revenue - attributed cost (red: a loss).", margin),
        "top-warehouses": ("Top Snowflake warehouses", f"The {TOP} warehouses that cost most in the month.",
                           warehouses),
        "top-products": ("Top Databricks data products", f"The {TOP} data products that cost most (USD).",
                         products),
    }
    return {chart_id: [heading, about, chart.to_dict(validate=True)]
            for chart_id, (heading, about, chart) in charts.items()}


def _dataset_names(spec: Any) -> set[str]:
    """The named datasets a Vega-Lite spec reads (``"data": {"name": ...}`` at any depth)."""
    if isinstance(spec, list):
        return set().union(*map(_dataset_names, spec)) if spec else set()
    if not isinstance(spec, dict):
        return set()
    names = {spec["data"]["name"]} if isinstance(spec.get("data"), dict) and "name" in spec["data"] else set()
    return names.union(*(_dataset_names(value) for value in spec.values()))


def _vega_lite_version(spec: Mapping[str, Any]) -> str:
    """The Vega-Lite version a spec is written for (major.minor), from its ``$schema``
    (``https://vega.github.io/schema/vega-lite/v6.4.1.json``: ``6.4``)."""
    return spec["$schema"].rsplit("/v", 1)[1].removesuffix(".json").rsplit(".", 1)[0]


@functools.cache
def _vega_javascript(vl_version: str) -> str:
    """Vega, Vega-Lite ``vl_version`` and vega-embed in one script. vl-convert builds it in seconds (2.5 s on
    2 cores, every ``costattr run`` paid it), and it depends only on the versions: it is kept in the user's
    cache folder under its versions' name and built again only when they change or the folder cannot be
    written."""
    import vl_convert

    cached = cache_folder() / f"vega-bundle-vl{vl_version}-vlconvert{vl_convert.__version__}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    write_whole(cached, bundle)
    return bundle


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return "<p class=\"none\">None.</p>"
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(row.get(name) if row.get(name) is not None else ''))}</td>"
                                    for name, _ in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _script_json(value: Any) -> str:
    # Inside <script>, "</" could end the element: JSON allows "<\/" for it.
    return json.dumps(value, sort_keys=True).replace("</", "<\\/")


def render_report(data: MonthData, generated_at: dt.datetime) -> str:
    """The month's page: headline figures, the charts, the failed checks; opens without a network."""
    page_charts = chart_specs()
    datasets = chart_datasets(data)
    specs = {chart_id: {**spec, "datasets": {name: datasets[name] for name in sorted(_dataset_names(spec))}}
             for chart_id, (_, _, spec) in page_charts.items()}
    sections = "".join(
        f'<section><h2>{html.escape(heading)}</h2><p>{html.escape(about)}</p>'
        f'<div class="chart" id="{chart_id}"></div></section>'
        for chart_id, (heading, about, _) in page_charts.items())
    summary_rows = [{"figure": label, "value": value} for label, value in headline(data)]
    checks = _table(data.failed_checks, [("asset", "asset"), ("check", "check"), ("severity", "severity"),
                                         ("partitions", "partitions"), ("failing_rows", "failing rows"),
                                         ("description", "what failed")])
    return f"""<!DOCTYPE html>
<!--
{html.escape(NOTICE)}
-->
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(data.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 900px; color: #222; }}
h1 {{ margin-bottom: 0.2em; }} .generated {{ color: #666; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }}
td:nth-child(2) {{ font-variant-numeric: tabular-nums; }}
section {{ margin: 1.5em 0; }} .chart {{ min-height: 80px; }} .none {{ color: #666; }}
.chart-error {{ color: #d62728; }}
</style>
<script>
{_vega_javascript(_vega_lite_version(next(iter(page_charts.values()))[2]))}
</script>
</head>
<body data-charts="pending">
<h1>{html.escape(data.title)}</h1>
<p class="generated">Generated by costattr at {generated_at:%Y-%m-%d %H:%M} UTC. Amounts are exact in the warehouse and
rounded to cents half away from zero here.</p>
{_table(summary_rows, [("figure", "figure"), ("value", "value")])}
{sections}
<section><h2>Checks that failed</h2>
<p>The latest evaluation of each check over days of the month, when it failed.</p>
{checks}</section>
<script>
const specs = {_script_json(specs)};
Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed("#" + id, spec, {{renderer: "svg", actions: false}}).catch((error) => {{
    document.getElementById(id).innerHTML = '<p class="chart-error">This chart could not be drawn.</p>';
    throw error;
  }})))
  .then(() => {{ document.body.dataset.charts = "rendered"; }})
  .catch((error) => {{ document.body.dataset.charts = "failed"; console.error(error); }});
</script>
</body>
</html>
"""
