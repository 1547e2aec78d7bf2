"""Bound statements kept between processes (lib/sql.py): a later process reads what an earlier one wrote,
gets the very text binding gives, and ignores a cache file that is not what binding wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from costattr_pipeline.defs.attribution.unattributed import unattributed_costs

# Binds the project's own statements (a window, a relation replaced by another and by a query,
# a Snowflake transpilation) with the window given on the command line and prints the bound texts as JSON.
# With --no-parser, sqlglot cannot parse: every statement must come from the cache folder.
BIND = """
import datetime as dt, json, sys
from decimal import Decimal
import sqlglot
if "--no-parser" in sys.argv:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although the statement was in the cache")
    sqlglot.parse = refuse
    sqlglot.transpile = refuse
from costattr_pipeline.lib.sql import bind, sql_file
unattributed = sql_file({anchor!r}, "unattributed_costs.sql")
start = dt.date.fromisoformat(sys.argv[1])
window = {{"start_date": start, "end_date": start + dt.timedelta(days=1)}}
relations = {{"metering.v_aws_cost_daily": "landing.aws_cost_daily_copy"}}
query = {{"metering.v_aws_cost_daily": "SELECT * FROM metering.aws_cost_daily_history WHERE cost_date >= :start_date"}}
print(json.dumps({{
    "duckdb": bind(unattributed, window),
    "relation": bind(unattributed, window, relations),
    "query": bind(unattributed, window, query),
    "snowflake": bind(unattributed, window, dialect="snowflake"),
    "negated": bind("SELECT -:amount", {{"amount": Decimal(sys.argv[2]) - 1}}),
}}))
"""


def _bind_in_process(cache: Path, start: str, threshold: str, *, no_parser: bool = False) -> dict[str, list[str]]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    script = BIND.format(anchor=unattributed_costs.__file__)
    argv = [sys.executable, "-c", script, start, threshold, *(["--no-parser"] if no_parser else [])]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _cache_files(cache: Path) -> list[Path]:
    return sorted((cache / "costattr" / "sql").rglob("*.json"))


def test_a_second_process_binds_from_the_cache_and_gets_the_same_text(tmp_path: Path) -> None:
    first = _bind_in_process(tmp_path / "cache", "2026-03-01", "0.02")
    assert _cache_files(tmp_path / "cache"), "binding kept nothing in the cache folder"
    # The same statements and values, sqlglot unable to parse: all of it read back, identical.
    assert _bind_in_process(tmp_path / "cache", "2026-03-01", "0.02", no_parser=True) == first
    # Another day's window (what the next daily increment binds) fills the kept templates: the text equals
    # what a process with an empty cache folder binds for that day.
    next_day = _bind_in_process(tmp_path / "cache", "2026-03-02", "0.03")
    assert next_day == _bind_in_process(tmp_path / "empty", "2026-03-02", "0.03")
    assert next_day["duckdb"] != first["duckdb"] and "CAST('2026-03-02' AS DATE)" in " ".join(next_day["duckdb"])
    assert any("aws_cost_daily_history" in statement for statement in next_day["query"])
    # "-:amount" with a negative amount is "- -1.5", never "--1.5" (a comment): such a literal is bound
    # the ordinary way, not filled into a template.
    assert next_day["negated"] == ["SELECT - -0.97"]
    assert _bind_in_process(tmp_path / "cache", "2026-03-02", "2.5")["negated"] == ["SELECT -1.5"]


def test_a_corrupt_cache_file_is_ignored_and_written_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = _bind_in_process(cache, "2026-03-01", "0.02")
    files = _cache_files(cache)
    broken = ["", "{\"template\": [\"SELECT", "[1, 2]", "{\"statements\": [1]}",
              "{\"template\": [\"SELECT 1\"], \"names\": [\"start_date\"]}", "\xff not text"]
    for index, path in enumerate(files):
        content = broken[index % len(broken)]
        path.write_bytes(content.encode("utf-8", errors="surrogateescape") if content != "\xff not text"
                         else b"\xff\xfe not text")
    assert _bind_in_process(cache, "2026-03-01", "0.02") == expected
    # Every broken file was replaced by a whole one: the next process needs no parser.
    assert all(json.loads(path.read_text(encoding="utf-8")) for path in files)
    assert _bind_in_process(cache, "2026-03-01", "0.02", no_parser=True) == expected


def test_the_cache_folder_follows_xdg_cache_home(tmp_path: Path, monkeypatch) -> None:
    from costattr_pipeline.lib.sql import sql_cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert sql_cache_folder() == tmp_path / "costattr" / "sql"


STRUCT_OR_LIST = """
import json, sys
from costattr_pipeline.lib.sql import bind
text = "SELECT * FROM read_csv('x.csv', columns = :columns)"
value = {"amount": "DECIMAL(38, 9)"} if sys.argv[1] == "struct" else [("amount", "DECIMAL(38, 9)")]
print(json.dumps(bind(text, {"columns": value}, dialect="snowflake")))
"""


def test_a_struct_and_a_list_of_pairs_are_kept_apart(tmp_path: Path) -> None:
    def bound(kind: str, cache: Path) -> list[str]:
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        done = subprocess.run([sys.executable, "-c", STRUCT_OR_LIST, kind], env=env, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    struct = bound("struct", tmp_path / "cache")
    pairs = bound("list", tmp_path / "cache")  # same repr as the struct's tuple of pairs: must not be read back
    assert struct != pairs and "OBJECT_CONSTRUCT" in struct[0] and "OBJECT_CONSTRUCT" not in pairs[0]
    assert pairs == bound("list", tmp_path / "empty") and struct == bound("struct", tmp_path / "cache")


# Binds "SELECT <n> + :x" for each n given on the command line, for Snowflake (kept per exact values: one
# cache file each), and prints, for each n, the bound text and whether binding had to parse it (a cache miss).
NUMBERED = """
import json, sys
import sqlglot
parsed = []
parse = sqlglot.parse
def counting_parse(text, *args, **kwargs):
    parsed.append(text)
    return parse(text, *args, **kwargs)
sqlglot.parse = counting_parse
from costattr_pipeline.lib.sql import bind
result = {}
for n in sys.argv[1:]:
    before = len(parsed)
    result[n] = {"bound": bind(f"SELECT {n} + :x", {"x": 7}, dialect="snowflake"), "parsed": len(parsed) > before}
print(json.dumps(result))
"""


def _bind_numbered(cache: Path, numbers, limit: int | None = 10) -> dict[int, dict[str, object]]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("COSTATTR_SQL_CACHE_MAX_FILES", None)
    if limit is not None:
        env["COSTATTR_SQL_CACHE_MAX_FILES"] = str(limit)
    done = subprocess.run([sys.executable, "-c", NUMBERED, *map(str, numbers)], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return {int(n): value for n, value in json.loads(done.stdout).items()}


def _kept_numbers(cache: Path) -> dict[int, Path]:
    """The statement each cache file holds ("SELECT <n> + 7" for Snowflake), by n."""
    kept = {}
    for path in _cache_files(cache):
        (statement,) = json.loads(path.read_text(encoding="utf-8"))["statements"]
        kept[int(statement.split()[1])] = path
    return kept


def test_the_cache_folder_keeps_the_most_recently_used_files_up_to_its_limit(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _bind_numbered(cache, range(10))  # 10 files: at the limit, not over it
    assert all(value["parsed"] for value in first.values())
    kept = _kept_numbers(cache)
    assert sorted(kept) == list(range(10))
    # Written long ago, statement 0 first: the oldest is 0, the newest 9.
    for n, path in kept.items():
        os.utime(path, (1_600_000_000 + 3600 * n, 1_600_000_000 + 3600 * n))
    # A process reads the three oldest (all from the cache): they become the most recently used. A process
    # that stores nothing prunes nothing.
    assert not any(value["parsed"] for value in _bind_numbered(cache, [0, 1, 2]).values())
    assert sorted(_kept_numbers(cache)) == list(range(10))
    # A process stores two new statements: at its first store the folder holds 11 > 10 files, so the least
    # recently used (3, 4, 5) go, down to 8 (80 %); its second store is not checked again (one look a process).
    assert all(value["parsed"] for value in _bind_numbered(cache, [10, 11]).values())
    assert sorted(_kept_numbers(cache)) == [0, 1, 2, 6, 7, 8, 9, 10, 11]
    # Binding after pruning: the pruned statements are bound again, the kept ones read; every text is what a
    # process with an empty cache folder binds.
    again = _bind_numbered(cache, range(12))
    assert {n for n, value in again.items() if value["parsed"]} == {3, 4, 5}
    fresh = _bind_numbered(tmp_path / "empty", range(12))
    assert {n: value["bound"] for n, value in again.items()} == {n: value["bound"] for n, value in fresh.items()}
    assert {n: again[n]["bound"] for n in range(10)} == {n: value["bound"] for n, value in first.items()}
    assert again[3]["bound"] == ["SELECT 3 + 7"]


def test_a_folder_under_the_default_limit_is_not_pruned(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _bind_numbered(cache, range(12), limit=None)
    _bind_numbered(cache, range(12, 24), limit=None)
    assert sorted(_kept_numbers(cache)) == list(range(24))
    # A limit that does not parse falls back to the default rather than stopping binding.
    _bind_numbered(cache, [24], limit="many")  # type: ignore[arg-type]
    assert len(_kept_numbers(cache)) == 25


# The column schema of every table a script creates (what the UI shows per asset), read in a new process.
DECLARED = """
import dataclasses, json, sys
import sqlglot
if "--no-parser" in sys.argv:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although the columns were in the cache")
    sqlglot.parse = refuse
from costattr_pipeline.lib.sql import declared_columns
text = open({path!r}, encoding="utf-8").read()
print(json.dumps({{table: [dataclasses.asdict(column) for column in columns]
                  for table, columns in declared_columns(text).items()}}))
"""


def _declared_in_process(cache: Path, *, no_parser: bool = False) -> dict[str, list[dict[str, object]]]:
    from costattr_pipeline.defs.ingest.cost_explorer import aws_cost_daily

    script = DECLARED.format(path=str(Path(aws_cost_daily.__file__).with_name("aws_cost_daily__tables.sql")))
    done = subprocess.run([sys.executable, "-c", script, *(["--no-parser"] if no_parser else [])],
                          env={**os.environ, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_declared_columns_are_read_back_from_the_cache_as_parsed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parsed = _declared_in_process(cache)
    landing = {column["name"]: column for column in parsed["metering.aws_cost_daily"]}
    assert landing["cost_date"] == {"name": "cost_date", "type": "DATE", "nullable": False,
                                    "description": "the day of ResultsByTime[].TimePeriod.Start (UTC)"}
    assert landing["tenant_id"]["nullable"] is True
    assert _declared_in_process(cache, no_parser=True) == parsed
    for path in _cache_files(cache):  # a file that is not what was stored: parsed again, and stored whole
        path.write_text('{"json": ["[[\\"t\\", [[1]]]]"]}', encoding="utf-8")
    assert _declared_in_process(cache) == parsed
    assert _declared_in_process(cache, no_parser=True) == parsed
