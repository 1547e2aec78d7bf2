"""The Cost Explorer page parser: pages, groupings, untagged cost, and malformed input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from costattr_pipeline.lib.cost_explorer import Fetch, parse_fetch
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline_tests.builders import group, page, write_fetch


def test_pages_of_one_call_are_flattened_and_untagged_is_null(tmp_path: Path) -> None:
    path = write_fetch(tmp_path, "f.json", [
        page({"2026-01-01": [group("acme", "EC2", "12.3456789012"), group(None, "VPC", "0.5")]}, next_token="t2"),
        # The same day continues on the second page.
        page({"2026-01-01": [group("beta", "S3", "1")], "2026-01-02": [group("acme", "EC2", "2")]},
             estimated=True),
    ])
    rows = parse_fetch(path).to_pylist()
    assert [(str(r["cost_date"]), r["tenant_id"], r["service"], r["amount_usd"], r["estimated"]) for r in rows] == [
        ("2026-01-01", "acme", "EC2", Decimal("12.3456789012"), False),
        ("2026-01-01", None, "VPC", Decimal("0.5"), False),
        ("2026-01-01", "beta", "S3", Decimal("1"), True),
        ("2026-01-02", "acme", "EC2", Decimal("2"), True),
    ]
    assert {r["grouped_by"] for r in rows} == {"TAG:tenant_id,DIMENSION:SERVICE"}
    assert {r["currency"] for r in rows} == {"USD"}


def test_a_single_response_object_is_one_page(tmp_path: Path) -> None:
    path = write_fetch(tmp_path, "f.json", page({"2026-01-01": [group("acme", "EC2", "1.25")]}))
    assert parse_fetch(path).num_rows == 1


def test_keys_are_read_through_group_definitions(tmp_path: Path) -> None:
    definitions = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "tenant_id"}]
    reversed_group = {"Keys": ["Amazon S3", "tenant_id$acme"], "Metrics": {"UnblendedCost": {"Amount": "3",
                                                                                               "Unit": "USD"}}}
    path = write_fetch(tmp_path, "f.json", page({"2026-01-01": [reversed_group]}, definitions=definitions))
    row = parse_fetch(path).to_pylist()[0]
    assert (row["tenant_id"], row["service"]) == ("acme", "Amazon S3")


def test_tenant_by_module_grouping(tmp_path: Path) -> None:
    definitions = [{"Type": "TAG", "Key": "tenant_id"}, {"Type": "TAG", "Key": "module_id"}]
    module_group = {"Keys": ["tenant_id$acme", "module_id$risk-engine"],
                    "Metrics": {"UnblendedCost": {"Amount": "3", "Unit": "USD"}}}
    untagged_module = {"Keys": ["tenant_id$acme", "module_id$"],
                       "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}}
    path = write_fetch(tmp_path, "f.json", page({"2026-01-01": [module_group, untagged_module]},
                                                definitions=definitions))
    rows = parse_fetch(path).to_pylist()
    assert [(r["tenant_id"], r["module_id"], r["service"]) for r in rows] == [
        ("acme", "risk-engine", None), ("acme", None, None)]
    assert rows[0]["grouped_by"] == "TAG:tenant_id,TAG:module_id"


def test_window_filter_keeps_only_the_run_days(tmp_path: Path) -> None:
    import datetime as dt

    path = write_fetch(tmp_path, "f.json", page({"2026-01-01": [group("a", "S", "1")],
                                                 "2026-01-02": [group("a", "S", "2")]}))
    rows = parse_fetch(path, start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 3)).to_pylist()
    assert [r["amount_usd"] for r in rows] == [Decimal("2")]


def test_load_id_is_the_content(tmp_path: Path) -> None:
    first = write_fetch(tmp_path, "a.json", page({"2026-01-01": [group("a", "S", "1")]}))
    second = write_fetch(tmp_path, "b.json", page({"2026-01-01": [group("a", "S", "1")]}))
    third = write_fetch(tmp_path, "c.json", page({"2026-01-01": [group("a", "S", "2")]}))
    assert Fetch("a.json", first).load_id == Fetch("b.json", second).load_id != Fetch("c.json", third).load_id


@pytest.mark.parametrize("body, where, rule", [
    ('{"GroupDefinitions": [', None, "malformed JSON"),
    (json.dumps({"GroupDefinitions": [{"Type": "TAG", "Key": "tenant_id"}]}), "page 1", "missing ResultsByTime"),
    (json.dumps({"ResultsByTime": []}), "page 1", "missing GroupDefinitions"),
    (json.dumps(page({"2026-01-01": [group("a", "S", "1")]},
                     definitions=[{"Type": "TAG", "Key": "tenant_id"}, {"Type": "DIMENSION", "Key": "REGION"}])),
     "page 1", "unknown group key DIMENSION:REGION"),
    (json.dumps(page({"2026-01-01": [group("a", "S", "1", tag="team")]})), "ResultsByTime[0].Groups[0]",
     "unknown group key 'team$a'"),
    (json.dumps(page({"2026-01-01": [{"Keys": ["tenant_id$a", "S"], "Metrics": {}}]})),
     "ResultsByTime[0].Groups[0]", "Metrics.UnblendedCost.Amount is missing"),
    (json.dumps(page({"2026-01-01": [group("a", "S", "1"), group("a", "T", "12,5")]})),
     "ResultsByTime[0].Groups[1]", "'12,5' is not a decimal"),
    (json.dumps(page({"2026-13-01": [group("a", "S", "1")]})), "ResultsByTime[0]", "is not a date"),
    (json.dumps(page({"2026-01-01": [{"Keys": None, "Metrics": {}}]})), "ResultsByTime[0].Groups[0]",
     "group has no Keys"),
    (json.dumps(page({"2026-01-01": [{"Keys": ["tenant_id$a", None], "Metrics": {}}]})), "ResultsByTime[0].Groups[0]",
     "hold a null key"),
    (json.dumps(page({"2026-01-01": [group("a", "S", "1" * 17 + ".5")]})), "ResultsByTime[0].Groups[0]",
     "is out of range: at most 16 digits before the decimal point"),
    (json.dumps(page({"2026-01-01": [{"Keys": ["tenant_id$a", "S"], "Metrics": {"UnblendedCost": {"Amount": "1"}}}]})),
     "ResultsByTime[0].Groups[0]", "Metrics.UnblendedCost.Unit is missing"),
    (json.dumps(page({"2026-01-01": [group(None, "S", "1"), group("a", "S", "1"), group(None, "S", "2")]})),
     "page 1, ResultsByTime[0].Groups[2]", "the group (2026-01-01, tenant (untagged), service S) is already at "
                                           "page 1, ResultsByTime[0].Groups[0]"),
    ('{"ResultsByTime": [], "GroupDefinitions": {"Type": "TAG"}}', "page 1",
     "not a GetCostAndUsage response: found a JSON object where an array belongs"),
])
def test_bad_fetches_name_file_place_and_rule(tmp_path: Path, body: str, where: str | None, rule: str) -> None:
    folder = tmp_path / "aws_cost_explorer"
    folder.mkdir()
    (folder / "bad.json").write_text(body, encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        parse_fetch(folder / "bad.json", display_name="aws_cost_explorer/bad.json")
    message = str(raised.value)
    assert message.startswith("aws_cost_explorer/bad.json")
    assert rule in message
    if where:
        assert where in message


def test_the_largest_amount_kept_exactly_and_a_repeat_in_another_grouping_is_not_a_repeat(tmp_path: Path) -> None:
    definitions = [{"Type": "TAG", "Key": "tenant_id"}, {"Type": "TAG", "Key": "module_id"}]
    by_module = {"Keys": ["tenant_id$a", "module_id$m"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}}
    path = write_fetch(tmp_path, "f.json", [
        page({"2026-01-01": [group("a", "S", "-9999999999999999.999999999999")]}),
        page({"2026-01-01": [by_module]}, definitions=definitions)])
    assert [row["amount_usd"] for row in parse_fetch(path).to_pylist()] == [
        Decimal("-9999999999999999.999999999999"), Decimal("1")]


def test_a_response_object_larger_than_the_page_limit_is_read_whole(tmp_path: Path) -> None:
    """A fetch saved as one object over read_json's object limit is read again with its file size as the limit."""
    from costattr_pipeline.lib.cost_explorer import PAGE_SIZE_LIMIT

    response = page({"2026-01-01": [group(f"t{n}", "EC2", "1.5") for n in range(20)]})
    response["DimensionValueAttributes"] = [{"Value": "x" * PAGE_SIZE_LIMIT}]  # not read, but parsed
    path = write_fetch(tmp_path, "f.json", response)
    rows = parse_fetch(path).to_pylist()
    assert len(rows) == 20
    assert sum(row["amount_usd"] for row in rows) == Decimal("30")


def test_a_fetch_without_pages_is_an_error_but_days_without_groups_are_not(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    with pytest.raises(SourceError, match="no Cost Explorer response"):
        parse_fetch(tmp_path / "empty.json")
    path = write_fetch(tmp_path, "quiet.json", [page({"2026-01-01": []}), page({"2026-01-02": []})])
    assert parse_fetch(path).num_rows == 0


def test_a_broken_page_after_clean_ones_is_named(tmp_path: Path) -> None:
    """The fast screen finds the broken third page; the numbered read names it."""
    clean = page({"2026-01-01": [group("a", "S", "1")]})
    broken = page({"2026-01-02": [group("a", "S", "2")]}, definitions=[{"Type": "TAG", "Key": "team"}])
    path = write_fetch(tmp_path, "f.json", [clean, clean, broken])
    with pytest.raises(SourceError, match=r"page 3.*do not group by TAG tenant_id"):
        parse_fetch(path)


def test_fetches_are_read_together_and_a_broken_one_is_named(tmp_path: Path) -> None:
    """Several files in one read; an unreadable one aborts the read and explain() names it."""
    import duckdb

    from costattr_pipeline.lib.cost_explorer import FetchFile, UnreadableFetches, stage_fetches

    good = write_fetch(tmp_path, "a.json", page({"2026-01-01": [group("a", "S", "1")]}))
    other = write_fetch(tmp_path, "b.json", [page({"2026-01-02": [group("b", "S", "2"), group(None, "S", "3")]})])
    engine = duckdb.connect()
    stage_fetches(engine, [FetchFile(good, "a"), FetchFile(other, "b")])
    assert engine.execute("SELECT filename, COUNT(*) FROM cost_explorer_parsed WHERE is_group "
                          "GROUP BY filename ORDER BY filename").fetchall() == [(str(good), 1), (str(other), 2)]
    broken = tmp_path / "aws_cost_explorer" / "c.json"
    broken.write_text('[{"GroupDefinitions": [', encoding="utf-8")
    with pytest.raises(UnreadableFetches) as raised:
        stage_fetches(engine, [FetchFile(good, "aws_cost_explorer/a.json"), FetchFile(broken, "aws_cost_explorer/c.json")])
    assert str(raised.value.explain()).startswith("aws_cost_explorer/c.json: malformed JSON")


def test_batches_follow_threads_and_bytes(tmp_path: Path, monkeypatch) -> None:
    from costattr_pipeline.lib import cost_explorer
    from costattr_pipeline.lib.cost_explorer import FetchFile, batches

    files = [FetchFile(write_fetch(tmp_path, f"{n}.json", page({"2026-01-01": [group("a", "S", "1")]})), str(n))
             for n in range(5)]
    assert [[file.display_name for file in batch] for batch in batches(files, 2)] == [["0", "1"], ["2", "3"], ["4"]]
    monkeypatch.setattr(cost_explorer, "BATCH_BYTES", files[0].path.stat().st_size)  # one file fills a batch
    assert [len(batch) for batch in batches(files, 4)] == [1, 1, 1, 1, 1]
    assert batches([], 2) == []
