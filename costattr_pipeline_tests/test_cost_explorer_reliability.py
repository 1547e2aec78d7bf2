"""Cost Explorer input a hostile but realistic user gives (issue 16), through the ``costattr`` command.

Each bad input exits 2 with one line naming the file, the place and the rule, and leaves every table of
a populated warehouse as it was; a corrected delivery always wins.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from costattr_pipeline.cli import main
from costattr_pipeline.lib.cost_explorer import Fetch
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline_tests.builders import group, page, write_config, write_fetch
from costattr_pipeline_tests.conftest import SETTINGS, dump_tables, query

D1, D2, D3 = "2026-03-01", "2026-03-02", "2026-03-03"
RUN = ["run", "--start", D1, "--end", "2026-03-04"]


def _flags(target) -> list[str]:
    return ["--source-dir", str(target.source_dir), "--warehouse", str(target.warehouse)]


def _run(target, capsys, command: list[str] = RUN) -> tuple[int, list[str]]:
    """Exit code of ``costattr <command>`` and the lines it wrote to stderr."""
    code = main([*command, *_flags(target)])
    return code, capsys.readouterr().err.strip().splitlines()


def _ok(target, capsys, command: list[str] = RUN) -> None:
    """``costattr <command>`` succeeds (a successful run logs its alerts to stderr)."""
    code, lines = _run(target, capsys, command)
    assert code == 0, lines


def _populated(target, capsys) -> dict[str, list[tuple]]:
    """A warehouse holding three days of Cost Explorer cost; its tables."""
    write_fetch(target.source_dir, "fetch-2026-03-03.json", [
        page({D1: [group("acme", "EC2", "60"), group(None, "VPC", "1")], D2: [group("acme", "EC2", "14.7")]}),
        page({D3: [group("acme", "EC2", "90"), group(None, "VPC", "10")]}, estimated=True)])
    _ok(target, capsys)
    return dump_tables(target)


def _day_figures(target, day: str) -> tuple[Decimal, Decimal]:
    return query(target, "SELECT total_aws_cost_usd, unattributed_cost_usd FROM metering.unattributed_costs "
                         f"WHERE cost_date = '{day}'")[0]


# --- 1. A corrected file always wins ----------------------------------------------------------------------------

GOOD_D3 = page({D3: [group("acme", "EC2", "1500"), group(None, "VPC", "30.23")]})
BAD_D3 = page({D3: [group("acme", "EC2", "1200"), group(None, "VPC", "21.42")]})


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["cp", "cp-p"])
def test_the_original_copied_back_after_a_bad_delivery_wins(target, capsys, keep_mtime: bool) -> None:
    _populated(target, capsys)
    original = write_fetch(target.source_dir, "fetch-2026-03-05.json", GOOD_D3)
    original_bytes, original_stat = original.read_bytes(), original.stat()
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1530.23"), Decimal("30.23"))
    # A bad delivery replaces the file, then the original is copied back (with its old mtime for `cp -p`).
    write_fetch(target.source_dir, "fetch-2026-03-05.json", BAD_D3)
    os.utime(original, ns=(original_stat.st_atime_ns, original_stat.st_mtime_ns + 10**9))
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1221.42"), Decimal("21.42"))
    original.write_bytes(original_bytes)
    if keep_mtime:
        os.utime(original, ns=(original_stat.st_atime_ns, original_stat.st_mtime_ns))
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1530.23"), Decimal("30.23"))
    # The corrected delivery is landed once: running again changes nothing.
    settled = dump_tables(target)
    _ok(target, capsys)
    assert dump_tables(target) == settled


def test_earlier_bytes_under_a_later_name_restate_the_day(target, capsys) -> None:
    _populated(target, capsys)
    write_fetch(target.source_dir, "fetch-2026-03-05.json", GOOD_D3)
    write_fetch(target.source_dir, "fetch-2026-03-06.json", BAD_D3)
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1221.42"), Decimal("21.42"))
    write_fetch(target.source_dir, "fetch-2026-03-07.json", GOOD_D3)   # the same bytes as fetch-2026-03-05
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1530.23"), Decimal("30.23"))


def test_a_file_touched_without_new_bytes_is_not_landed_again(target, capsys) -> None:
    """A copy of the folder (new modification times, same bytes) is not a new delivery: nothing is added."""
    before = _populated(target, capsys)
    path = target.source_dir / "aws_cost_explorer" / "fetch-2026-03-03.json"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5 * 10**9))
    _ok(target, capsys)
    after = dump_tables(target)
    assert after["metering.aws_cost_daily"] == before["metering.aws_cost_daily"]
    assert {name: rows for name, rows in after.items() if name != "metering.aws_cost_fetches"} == \
        {name: rows for name, rows in before.items() if name != "metering.aws_cost_fetches"}


def _as_in_earlier_versions(target, *registered: Path) -> None:
    """Give the warehouse the Cost Explorer tables of earlier versions: every amount in amount_usd whatever
    its currency, and a fetch register of one load per content without delivery time (``registered`` files
    are registered as they stand, as those versions did without landing them again)."""
    connection = duckdb.connect(str(target.warehouse))
    try:
        connection.execute("UPDATE metering.aws_cost_daily SET amount_usd = amount")
        connection.execute("ALTER TABLE metering.aws_cost_daily DROP COLUMN amount")
        connection.execute("ALTER TABLE metering.aws_cost_daily ALTER COLUMN amount_usd SET NOT NULL")
        connection.execute("DROP VIEW metering.aws_cost_current_deliveries")
        connection.execute("ALTER TABLE metering.aws_cost_fetches DROP COLUMN loaded_at")
        for path in registered:
            connection.execute("INSERT INTO metering.aws_cost_fetches VALUES (?, ?, ?, ?)", [
                path.name, path.stat().st_size, path.stat().st_mtime_ns, Fetch(path.name, path).load_id])
    finally:
        connection.close()


def test_a_warehouse_of_earlier_versions_keeps_its_landing_and_a_copied_back_original_wins(target, capsys) -> None:
    before = _populated(target, capsys)
    _as_in_earlier_versions(target)
    _ok(target, capsys)
    assert dump_tables(target) == before
    # Earlier versions registered the original copied back over a bad delivery as already landed.
    original = write_fetch(target.source_dir, "fetch-2026-03-05.json", GOOD_D3)
    original_bytes = original.read_bytes()
    _ok(target, capsys)
    write_fetch(target.source_dir, "fetch-2026-03-05.json", BAD_D3)
    os.utime(original, ns=(original.stat().st_atime_ns, original.stat().st_mtime_ns + 10**9))
    _ok(target, capsys)
    original.write_bytes(original_bytes)
    _as_in_earlier_versions(target, original)
    assert _day_figures(target, D3) == (Decimal("1221.42"), Decimal("21.42"))
    _ok(target, capsys)
    assert _day_figures(target, D3) == (Decimal("1530.23"), Decimal("30.23"))


# --- 2. A fetch that holds a group twice is refused before anything is landed -----------------------------------

def test_a_fetch_holding_a_group_twice_is_refused_before_anything_is_landed(target, capsys) -> None:
    before = _populated(target, capsys)
    write_fetch(target.source_dir, "fetch-2026-03-05.json", [
        page({D3: [group("acme", "EC2", "99"), group(None, "VPC", "1")]}, next_token="p2"),
        page({D3: [group("globex", "S3", "5"), group("acme", "EC2", "99")]})])
    expected = ("aws_cost_explorer/fetch-2026-03-05.json: page 2, ResultsByTime[0].Groups[1]: the group "
                "(2026-03-03, tenant acme, service EC2) is already at page 1, ResultsByTime[0].Groups[0]: "
                "a fetch holds each group of a day once")
    for command in (["validate"], RUN):
        assert _run(target, capsys, command) == (2, [f"error: {expected}"])
    assert dump_tables(target) == before
    # The landing refuses it too when it runs without the command's validation (a run launched from the UI).
    with pytest.raises(RunFailed, match=r"fetch-2026-03-05.json: page 2, .*already at page 1"):
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert dump_tables(target) == before


def test_the_same_tenant_and_service_in_two_groupings_or_days_is_not_a_repeat(target, capsys) -> None:
    by_module = {"Keys": ["tenant_id$acme", "module_id$risk"], "Metrics": {"UnblendedCost": {"Amount": "2",
                                                                                              "Unit": "USD"}}}
    write_fetch(target.source_dir, "f.json", [
        page({D1: [group("acme", "EC2", "1")], D2: [group("acme", "EC2", "1")]}),
        page({D1: [by_module]},
             definitions=[{"Type": "TAG", "Key": "tenant_id"}, {"Type": "TAG", "Key": "module_id"}])])
    _ok(target, capsys)


# --- 3. Malformed Cost Explorer data the sources never produce ---------------------------------------------------

def _metrics(amount: object = "1", unit: object = "USD") -> dict:
    return {"UnblendedCost": {"Amount": amount, "Unit": unit}}


@pytest.mark.parametrize("body, expected", [
    (json.dumps(page({D3: [group("acme", "EC2", "1"), {"Metrics": _metrics()}]})),
     "page 1, ResultsByTime[0].Groups[1]: group has no Keys (one per GroupDefinitions entry: "
     "TAG:tenant_id,DIMENSION:SERVICE)"),
    (json.dumps(page({D3: [{"Keys": None, "Metrics": _metrics()}]})),
     "page 1, ResultsByTime[0].Groups[0]: group has no Keys"),
    (json.dumps(page({D3: [{"Keys": [None, "EC2"], "Metrics": _metrics()}]})),
     "page 1, ResultsByTime[0].Groups[0]: group Keys [None, 'EC2'] hold a null key"),
    (json.dumps(page({D3: [group("acme", "EC2", "1" * 29)]})),
     "page 1, ResultsByTime[0].Groups[0]: Metrics.UnblendedCost.Amount '11111111111111111111111111111' is out of "
     "range: at most 16 digits before the decimal point"),
    (json.dumps(page({D3: [group("acme", "EC2", "12345678901234567.5")]})), "is out of range"),
    (json.dumps(page({D3: [{"Keys": ["tenant_id$acme", "EC2"], "Metrics": {"UnblendedCost": {"Amount": "1"}}}]})),
     "page 1, ResultsByTime[0].Groups[0]: Metrics.UnblendedCost.Unit is missing"),
    ("\ufeff" + json.dumps([page({D3: [group("acme", "EC2", "1")]})]),
     "starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without a BOM"),
    (json.dumps([[page({D3: [group("acme", "EC2", "1")]})]]),
     "page 1: not a GetCostAndUsage response: found a JSON array where an object belongs"),
    ("42", "page 1: not a GetCostAndUsage response: found a JSON number where an object belongs (42)"),
    (json.dumps(page({D3: [{"Keys": "tenant_id$acme", "Metrics": _metrics()}]})),
     "page 1: not a GetCostAndUsage response: found a JSON string where an array belongs (\"tenant_id$acme\")"),
])
def test_malformed_data_is_one_line_and_changes_nothing(target, capsys, body: str, expected: str) -> None:
    before = _populated(target, capsys)
    (target.source_dir / "aws_cost_explorer" / "fetch-2026-03-05.json").write_text(body, encoding="utf-8")
    for command in (["validate"], RUN):
        code, lines = _run(target, capsys, command)
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith("error: aws_cost_explorer/fetch-2026-03-05.json: ") and expected in lines[0], lines
        assert "Traceback" not in lines[0]
    assert dump_tables(target) == before


def test_credits_and_refunds_are_negative_amounts_and_are_kept(target, capsys) -> None:
    write_fetch(target.source_dir, "f.json", page({D1: [group("acme", "EC2", "100"), group("acme", "Credits", "-12.5"),
                                                        group(None, "VPC", "-0.5")]}))
    _ok(target, capsys, ["run", "--start", D1, "--end", D2])
    assert _day_figures(target, D1) == (Decimal("87"), Decimal("-0.5"))


# --- 4. A Unit other than USD is converted, never added to USD as it is ----------------------------------------

FX = """\
fx_to_usd:
  - {currency: EUR, effective_from: 2026-01-01, effective_to: 2026-03-02, rate: 1.08}
  - {currency: EUR, effective_from: 2026-03-02, effective_to: null, rate: 1.1}
"""


def _eur(amount: str, tenant: str | None = "acme", service: str = "RDS") -> dict:
    return {"Keys": [f"tenant_id${tenant or ''}", service], "Metrics": _metrics(amount, "EUR")}


def test_amounts_in_another_currency_are_converted_at_the_rate_of_their_day(target, capsys) -> None:
    write_config(target.config_dir, "settings.yaml", SETTINGS + FX)
    write_fetch(target.source_dir, "f.json", page({D1: [group("acme", "EC2", "50"), _eur("100"), _eur("10", None)],
                                                   D2: [_eur("100"), _eur("0.000000000005", None, "VPC")]}))
    _ok(target, capsys, ["run", "--start", D1, "--end", D3])
    # The landing keeps each amount and its currency as delivered; amount_usd only for amounts in USD.
    assert query(target, "SELECT amount, currency, amount_usd FROM metering.aws_cost_daily "
                         "WHERE cost_date = '2026-03-01' ORDER BY amount") == [
        (Decimal("10"), "EUR", None), (Decimal("50"), "USD", Decimal("50")), (Decimal("100"), "EUR", None)]
    # Every figure is in USD at the rate of its day (rounded to 12 places, half away from zero).
    assert _day_figures(target, D1) == (Decimal("168.8"), Decimal("10.8"))          # 50 + 108 + 10.8
    assert _day_figures(target, D2) == (Decimal("110.000000000006"), Decimal("0.000000000006"))
    assert query(target, "SELECT cost_date, SUM(cost_usd) FROM metering.daily_tenant_summary "
                         "WHERE resource_type = 'aws' GROUP BY 1 ORDER BY 1") == [
        (dt.date(2026, 3, 1), Decimal("168.8")), (dt.date(2026, 3, 2), Decimal("110.000000000006"))]
    assert query(target, "SELECT DISTINCT fx_rate_to_usd FROM metering.aws_cost_day_rows "
                         "WHERE currency = 'EUR' ORDER BY 1") == [(Decimal("1.08"),), (Decimal("1.1"),)]


def test_an_amount_without_a_rate_is_refused_naming_currency_and_day(target, capsys) -> None:
    before = _populated(target, capsys)
    write_fetch(target.source_dir, "fetch-2026-03-05.json", page({D3: [_eur("100")]}))
    expected = ("error: aws_cost_explorer/fetch-2026-03-05.json: no USD rate for EUR on 2026-03-03: add a fx_to_usd "
                "entry in force that day to settings.yaml")
    for command in (["validate"], RUN):
        assert _run(target, capsys, command) == (2, [expected])
    assert dump_tables(target) == before
    # A run over other days is not blocked by it.
    _ok(target, capsys, ["run", "--start", D1, "--end", D2])


def test_the_landing_blocks_an_amount_without_a_rate(target) -> None:
    """Without the command's validation (a run launched from the UI), the blocking check names currency and day,
    nothing is landed, and no figure is built from the unconverted amount."""
    write_fetch(target.source_dir, "f.json", page({D1: [group("acme", "EC2", "50"), _eur("100")]}))
    with pytest.raises(RunFailed) as failed:
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert str(failed.value) == (
        "metering/aws_cost_daily: blocking check fx_rate_found: no USD rate for EUR on 2026-03-01: add a "
        "fx_to_usd entry in force that day to settings.yaml (nothing was published)")
    tables = dump_tables(target)
    assert tables["metering.aws_cost_daily"] == [] and tables.get("metering.unattributed_costs", []) == []


def test_a_rate_corrected_in_settings_converts_landed_amounts_without_reading_the_file_again(target) -> None:
    write_config(target.config_dir, "settings.yaml", SETTINGS + FX)
    write_fetch(target.source_dir, "f.json", page({D1: [group("acme", "EC2", "50"), _eur("100")]}))
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert _day_figures(target, D1) == (Decimal("158"), Decimal("0"))
    write_config(target.config_dir, "settings.yaml", SETTINGS + FX.replace("rate: 1.08", "rate: 1.2"))
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    landing = next(asset for asset in summary.assets if asset.asset == "metering/aws_cost_daily")
    assert landing.metadata["run_fetches_parsed"] == "0"
    assert _day_figures(target, D1) == (Decimal("170"), Decimal("0"))


def test_a_landing_of_earlier_versions_keeps_amounts_as_delivered_and_converts_them(target, capsys) -> None:
    write_config(target.config_dir, "settings.yaml", SETTINGS + FX)
    write_fetch(target.source_dir, "f.json", page({D1: [group("acme", "EC2", "50"), _eur("100")]}))
    _ok(target, capsys, ["run", "--start", D1, "--end", D2])
    before = dump_tables(target)
    _as_in_earlier_versions(target)
    assert query(target, "SELECT amount_usd FROM metering.aws_cost_daily ORDER BY 1") == [
        (Decimal("50"),), (Decimal("100"),)]   # earlier versions added 100 EUR to the USD total
    _ok(target, capsys, ["run", "--start", D1, "--end", D2])
    assert dump_tables(target) == before
    assert _day_figures(target, D1) == (Decimal("158"), Decimal("0"))
