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
