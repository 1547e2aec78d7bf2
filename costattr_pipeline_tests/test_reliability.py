"""Issue 16: bad input never changes the warehouse, and faults converge.

Each case breaks one thing in a copy of the demo's sources and of a warehouse populated from them
(the days 2026-11-01..08), runs ``costattr run`` over those days, and asserts what a user sees: exit
code 2, one line on stderr naming the file and the rule, and every table exactly as it was. The
Cost Explorer cases (a corrected file wins, malformed groups, amounts, currencies) are in
``test_cost_explorer_reliability.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from costattr_pipeline.cli import main
from costattr_pipeline.journal import read_requests
from costattr_pipeline.lib import focus
from costattr_pipeline.sample import generate_sample
from costattr_pipeline.target import Target
from costattr_pipeline_tests.conftest import dump_tables, query

START, END = "2026-11-01", "2026-11-08"


@dataclass
class Populated:
    """A demo source folder and a warehouse populated from it, with the warehouse's tables."""

    source: Path
    warehouse: Path
    tables: dict[str, list[tuple]]


@dataclass
class Copy:
    """A test's own copy of the populated demo."""

    source: Path
    warehouse: Path
    baseline: dict[str, list[tuple]]

    @property
    def config(self) -> Path:
        return self.source / "config"

    def flags(self, source: Path | None = None) -> list[str]:
        return ["--source-dir", str(source or self.source), "--warehouse", str(self.warehouse), "--quiet"]

    def run(self, *extra: str, source: Path | None = None) -> int:
        return main(["run", "--start", START, "--end", END, *self.flags(source), *extra])

    def tables(self) -> dict[str, list[tuple]]:
        return dump_tables(Target.resolve("local", str(self.source), None, str(self.warehouse)))

    def assert_refused(self, capsys: pytest.CaptureFixture[str], *expected: str,
                       source: Path | None = None) -> str:
        """The run exits 2 with one stderr line holding ``expected`` and leaves every table as it was."""
        code = self.run(source=source)
        error = capsys.readouterr().err.strip()
        assert code == 2, error
        assert len(error.splitlines()) == 1, error
        assert "Traceback" not in error and error.startswith("error: ")
        for text in expected:
            assert text in error, error
        assert self.tables() == self.baseline
        return error


def _clear_environment() -> None:
    for name in ("COSTATTR_TARGET", "COSTATTR_SOURCE_DIR", "COSTATTR_CONFIG_DIR", "COSTATTR_WAREHOUSE",
                 "COSTATTR_REPORTS_DIR", "DAGSTER_HOME"):
        os.environ.pop(name, None)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Populated:
    _clear_environment()
    folder = tmp_path_factory.mktemp("populated")
    source, warehouse = folder / "source", folder / "warehouse.duckdb"
    generate_sample(source, seed=7)
    assert main(["run", "--start", START, "--end", END, "--source-dir", str(source),
                 "--warehouse", str(warehouse), "--quiet"]) == 0
    tables = dump_tables(Target.resolve("local", str(source), None, str(warehouse)))
    assert tables["metering.daily_tenant_summary"] and tables["app.cost_items"]
    return Populated(source, warehouse, tables)


@pytest.fixture
def demo(populated: Populated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Copy:
    for name in ("COSTATTR_TARGET", "COSTATTR_SOURCE_DIR", "COSTATTR_CONFIG_DIR", "COSTATTR_WAREHOUSE",
                 "COSTATTR_REPORTS_DIR", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    source, warehouse = tmp_path / "source", tmp_path / "warehouse.duckdb"
    shutil.copytree(populated.source, source)
    shutil.copyfile(populated.warehouse, warehouse)
    return Copy(source, warehouse, populated.tables)


def _edit_line(path: Path, number: int, edit) -> None:
    """Replace line ``number`` (1 = the header) of a text file with ``edit(line)``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1] = edit(lines[number - 1])
    path.write_text("".join(lines), encoding="utf-8")


def _line_of(path: Path, text: str) -> int:
    """The number of the first line holding ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def test_a_rerun_with_the_same_input_leaves_every_table_identical(demo: Copy) -> None:
    """The baseline of every case: the populated warehouse is what these inputs give, every time."""
    assert demo.run() == 0
    assert demo.tables() == demo.baseline


# Item 2: missing settings mean the documented defaults or a clear error, never NULL money.

def test_without_settings_yaml_a_run_refuses_before_writing_for_want_of_a_credit_price(demo: Copy, capsys) -> None:
    (demo.config / "settings.yaml").unlink()
    demo.assert_refused(capsys, "settings.yaml", "credit price")


# Item 3: unreadable is not missing.

def test_a_usage_file_that_is_a_directory_is_an_error(demo: Copy, capsys) -> None:
    path = demo.source / "usage" / "usage_events.csv"
    path.unlink()
    path.mkdir()
    demo.assert_refused(capsys, "usage/usage_events.csv", "is not a file")


def test_a_usage_file_that_is_a_symlink_loop_is_an_error(demo: Copy, capsys) -> None:
    path = demo.source / "usage" / "usage_events.csv"
    path.unlink()
    path.symlink_to(path)
    demo.assert_refused(capsys, "usage/usage_events.csv", "cannot be read")


def test_a_usage_file_that_cannot_be_opened_is_an_error(demo: Copy, capsys, monkeypatch) -> None:
    """Root may read any file, so the refusal is simulated where the process meets the file system."""
    path = demo.source / "usage" / "usage_events.csv"
    opened = Path.open

    def open_refused(self: Path, *args, **kwargs):
        if self.name == path.name:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_refused)
    demo.assert_refused(capsys, "usage/usage_events.csv", "cannot be read: Permission denied")


def test_a_mistyped_source_folder_is_an_error_and_keeps_the_months_cost_items(demo: Copy, capsys) -> None:
    error = demo.assert_refused(capsys, "the source folder does not exist", source=demo.source.with_name("sourc"))
    assert "sourc" in error
    assert query(demo.warehouse, "SELECT count(*) FROM app.cost_items")[0][0] > 0


# Item 4: what the sources never produce.

def test_an_original_databricks_record_with_a_negative_quantity_is_refused(demo: Copy, capsys) -> None:
    path = demo.source / "databricks" / "usage.csv"
    number = _line_of(path, ",2026-11-03,DBU,")
    _edit_line(path, number, lambda line: line.replace(",DBU,", ",DBU,-", 1))
    demo.assert_refused(capsys, "databricks/usage.csv", f"line {number}", "negative", "RETRACTION")


# Item 5: duplicate YAML keys.

def test_a_tenant_defined_twice_is_refused_with_both_lines(demo: Copy, capsys) -> None:
    path = demo.config / "tenants.yaml"
    text = path.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("  ") and line.strip().endswith(":")
                 and not line.startswith("   "))
    # Again at the top of the tenants mapping (the file goes on with other sections, e.g. namespaces).
    path.write_text(text.replace("tenants:\n", "tenants:\n" + first + "\n    name: Twice\n", 1), encoding="utf-8")
    demo.assert_refused(capsys, "tenants.yaml", "line", "twice")


# Item 6: no tracebacks.

@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_not_a_number_in_yaml_is_a_one_line_error(demo: Copy, capsys, value: str) -> None:
    path = demo.config / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 0.02}", f"value: {value}}}"), encoding="utf-8")
    demo.assert_refused(capsys, "settings.yaml", "unattributed_threshold[0]")


def test_settings_yaml_that_is_a_directory_is_a_one_line_error(demo: Copy, capsys) -> None:
    path = demo.config / "settings.yaml"
    path.unlink()
    path.mkdir()
    demo.assert_refused(capsys, "settings.yaml")


def test_a_config_file_that_cannot_be_opened_is_a_one_line_error(demo: Copy, capsys, monkeypatch) -> None:
    opened = Path.open
    read = Path.read_bytes

    def refused(self: Path) -> None:
        if self.name == "rate_card.yaml":
            raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: refused(self) or opened(self, *a, **k))
    monkeypatch.setattr(Path, "read_bytes", lambda self: refused(self) or read(self))
    demo.assert_refused(capsys, "rate_card.yaml", "ermission denied")


# Item 7: problems found before any step, not inside one.

def test_a_credit_price_with_seven_decimals_is_caught_by_validation(demo: Copy, capsys) -> None:
    path = demo.config / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("price: 3.00}", "price: 3.0000001}"), encoding="utf-8")
    demo.assert_refused(capsys, "settings.yaml", "credit_price_usd[0]", "more than 6 decimal places")


def test_a_bad_memory_limit_is_caught_by_validation(demo: Copy, capsys) -> None:
    path = demo.config / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "warehouse: {memory_limit: 4 gigs}\n", encoding="utf-8")
    demo.assert_refused(capsys, "settings.yaml", "memory_limit", "4GB")


def test_a_query_tag_that_is_not_utf8_is_caught_by_validation(demo: Copy, capsys) -> None:
    path = demo.source / "snowflake" / "query_attribution_history.csv"
    number = _line_of(path, ",2026-11-02 ")
    data = path.read_bytes().split(b"\n")
    data[number - 1] = data[number - 1].replace(b"TENANT_ID=", b"TENANT_ID=\xff", 1)
    path.write_bytes(b"\n".join(data))
    demo.assert_refused(capsys, "snowflake/query_attribution_history.csv", f"line {number}", "UTF-8")


def test_a_missing_credit_price_is_caught_by_validation(demo: Copy, capsys) -> None:
    path = demo.config / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    - {effective_from: 2026-09-01, effective_to: null, price: 3.00}\n", ""), encoding="utf-8")
    demo.assert_refused(capsys, "settings.yaml", "credit price")


# Item 8: messages that say where and what.

def test_an_impossible_yaml_date_names_the_file(demo: Copy, capsys) -> None:
    path = demo.config / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("partitions_start: 2026-09-01",
                                                             "partitions_start: 2026-02-30"), encoding="utf-8")
    demo.assert_refused(capsys, "settings.yaml", "partitions_start", "2026-02-30")


def test_a_yaml_file_that_is_not_utf8_names_the_file(demo: Copy, capsys) -> None:
    path = demo.config / "rate_card.yaml"
    path.write_bytes(path.read_bytes() + b"# caf\xe9\n")
    demo.assert_refused(capsys, "rate_card.yaml", "UTF-8")


def test_a_ragged_csv_row_is_named_by_its_line(demo: Copy, capsys) -> None:
    path = demo.source / "usage" / "usage_events.csv"
    number = _line_of(path, ",2026-11-02T")
    _edit_line(path, number, lambda line: line.rstrip("\n") + ",extra\n")
    demo.assert_refused(capsys, "usage/usage_events.csv", f"line {number}", "7 values where the header names 6 columns")


def test_an_empty_csv_says_it_is_empty(demo: Copy, capsys) -> None:
    (demo.source / "usage" / "usage_events.csv").write_bytes(b"")
    demo.assert_refused(capsys, "usage/usage_events.csv", "is empty")


def test_a_csv_cut_short_is_refused(demo: Copy, capsys) -> None:
    """A file still being written (or truncated) ends mid-line: reading it would lose rows silently."""
    path = demo.source / "usage" / "usage_events.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"2026-11-03T")])
    demo.assert_refused(capsys, "usage/usage_events.csv", "line break")


# Item 9: days a run does not cover are said.

def test_days_before_partitions_start_and_in_the_future_are_named(demo: Copy, capsys) -> None:
    assert main(["run", "--start", "2026-08-30", "--end", "2026-09-02", *demo.flags()[:-1]]) == 0
    out = capsys.readouterr().out
    assert "note: " in out and "2026-08-30" in out and "partitions_start" in out
    assert main(["run", "--start", "2026-11-30", "--end", "2099-01-02", *demo.flags()[:-1]]) == 0
    out = capsys.readouterr().out
    assert "note: " in out and "future" in out


# Item 10: a killed run is reported and finished by the next.

def _costattr(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from costattr_pipeline.cli import main; sys.exit(main(sys.argv[1:]))",
            *args]


def test_a_killed_run_is_reported_and_the_next_run_finishes_it(demo: Copy, capsys, tmp_path: Path) -> None:
    # Make the run's work different from the warehouse's, so an unfinished run leaves a visible mix.
    path = demo.source / "usage" / "usage_events.csv"
    number = _line_of(path, ",2026-11-02T")
    _edit_line(path, number, lambda line: line.replace(",api_calls,", ",api_calls,9", 1))
    expected = tmp_path / "expected.duckdb"
    shutil.copyfile(demo.warehouse, expected)
    assert main(["run", "--start", START, "--end", END, "--source-dir", str(demo.source),
                 "--warehouse", str(expected), "--quiet"]) == 0
    journal = Path(f"{demo.warehouse}.journal.json")
    process = subprocess.Popen(_costattr("run", "--start", START, "--end", END, *demo.flags()),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it once its first assets are published
        requests = read_requests(demo.warehouse) if journal.exists() else []
        if requests and requests[-1].runs and len(requests[-1].runs[0].done) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert main(["status", *demo.flags()[:-1]]) == 0
    status = capsys.readouterr().out
    assert f"[{START}, {END}) run" in status and ": running" in status and "not published:" in status

    assert main(["run", "--start", "2026-11-02", "--end", "2026-11-03", *demo.flags()[:-1]]) == 0
    out = capsys.readouterr().out
    assert f"the run of [{START}, {END})" in out and "was interrupted; its days were run again first" in out
    expected_target = Target.resolve("local", str(demo.source), None, str(expected))
    assert demo.tables() == dump_tables(expected_target)
    assert main(["status", *demo.flags()[:-1]]) == 0
    status = capsys.readouterr().out
    assert ": interrupted" in status and f"[{START}, {END}) finish of run" in status and ": running" not in status


# Item 11: two runs at once.

HOLD = """
import sys, time
from costattr_pipeline.resources.warehouse import exclusive_use
with exclusive_use(sys.argv[1], 0):
    print("held", flush=True)
    if sys.argv[2] == "until-told":
        sys.stdin.readline()
    else:
        time.sleep(float(sys.argv[2]))
"""


def _hold(warehouse: Path, seconds: float | str) -> subprocess.Popen:
    """Another process holding the warehouse as a run does, for ``seconds`` (or "until-told": until a line on
    its stdin)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), str(seconds)], stdout=subprocess.PIPE,
                               stdin=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_refuses_with_one_line_when_the_warehouse_stays_held(demo: Copy, capsys) -> None:
    holder = _hold(demo.warehouse, 60)
    try:
        code = demo.run("--wait", "1")
        error = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert error[0].startswith("waiting up to 1 s for the run that holds") and f"pid {holder.pid}" in error[0]
        assert len(error) == 2 and "is in use by another run" in error[1] and str(demo.warehouse) in error[1]
        assert demo.run("--wait", "0") == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()
    assert demo.tables() == demo.baseline


def test_a_second_run_waits_for_the_first_and_then_runs(demo: Copy, capsys) -> None:
    """The holder lets go only once the second run says it waits: no race with how long validation takes."""
    holder = _hold(demo.warehouse, "until-told")
    outcome: list[int] = []
    second = threading.Thread(target=lambda: outcome.append(demo.run("--wait", "600")))
    second.start()
    told = ""
    try:
        deadline = time.monotonic() + 300
        while "waiting up to 600 s" not in told and second.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
            told += capsys.readouterr().err
    finally:
        holder.stdin.write("release\n")
        holder.stdin.flush()
        holder.wait()
    second.join()
    assert "waiting up to 600 s" in told and f"pid {holder.pid}" in told
    assert outcome == [0]
    assert demo.tables() == demo.baseline


# Item 12: a full disk.

@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 40 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_naming_the_warehouse_and_the_free_space(demo: Copy, capsys, small_disk) -> None:
    warehouse = small_disk / "warehouse.duckdb"
    shutil.copyfile(demo.warehouse, warehouse)
    demo.warehouse = warehouse
    filler = small_disk / "filler"
    with filler.open("wb") as handle:  # leave about 64 KiB free
        free = shutil.disk_usage(small_disk).free
        handle.write(b"\0" * max(free - 64 * 1024, 0))
    code = demo.run("--wait", "0")
    error = capsys.readouterr().err.strip()
    assert code == 2, error
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    assert str(warehouse) in error and "the disk is full" in error and "MiB free" in error
    filler.unlink()
    assert demo.tables() == demo.baseline


# Done when: random damage to valid inputs is refused with one line, or changes nothing.

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from costattr_pipeline.defs.exports.focus_export import EXPORT_SOURCES  # noqa: E402

# What people read: a run that accepts damaged input must leave these exactly as the clean input does
# (landing tables and delivery registers may record a delivery whose bytes differ but whose rows do not).
RESULTS = ("metering.unattributed_costs", "metering.alerts", "metering.snowflake_credit_daily",
           "metering.snowflake_hierarchical_query_cost", "metering.snowflake_recurring_query_cost",
           "metering.databricks_priced_usage", "app.cost_items", "metering.usage_events",
           "metering.external_api_costs", "metering.focus_cost_daily", "metering.daily_tenant_summary",
           *dict.fromkeys(source.table for source in EXPORT_SOURCES),  # the tables behind metering.focus_export
           "metering.unit_cost_allocation", "metering.unit_cost_tags",
           "metering.billing_period_summary", "metering.unit_economics")
SOURCES = ("usage/usage_events.csv", "usage/external_api_costs.csv", "usage/unit_drivers.csv",
           "databricks/usage.csv", "databricks/list_prices.csv", "snowflake/warehouse_metering_history.csv",
           "snowflake/query_attribution_history.csv", "snowflake/tag_references.csv",
           "focus/azure-focus-2026-11.csv", "aws_cost_explorer/fetch-2026-11-01.json",
           "aws_cost_explorer/fetch-2026-12-01.json")
MUTATIONS = ("truncate", "change_type", "duplicate_row", "drop_column", "flip_encoding")


def _mutate_csv(data: bytes, mutation: str, draw) -> bytes:
    import csv
    import io

    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]

    def write(new_rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(new_rows)
        return out.getvalue().encode("utf-8")

    if mutation == "truncate":
        cut = draw(st.integers(len(data) // 4, len(data) - 1))
        return data[:cut - 1] if data[cut - 1:cut] == b"\n" else data[:cut]
    if mutation == "duplicate_row":
        index = draw(st.integers(0, len(body) - 1))
        return write([header, *body[:index + 1], body[index], *body[index + 1:]])
    if mutation == "drop_column":
        # A FOCUS export may leave out the columns its version does not make mandatory: that is other data,
        # not damage (Tags aside, which costattr needs).
        names = header
        if "ChargeCategory" in header:
            names = [name for name in header if name in (*focus.MANDATORY[focus.detect_version(header)], "Tags")]
        column = header.index(draw(st.sampled_from(names)))
        return write([[value for number, value in enumerate(row) if number != column] for row in rows])
    if mutation == "flip_encoding":
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "utf-8-sig"]))
        return text.encode(encoding)
    # change_type: a number or a date of a row becomes words
    typed = [(row, column) for row in range(len(body)) for column, value in enumerate(body[row])
             if value and (value.replace(".", "", 1).replace("-", "", 1).isdigit() or value[:4].isdigit() and "-" in value)]
    row, column = draw(st.sampled_from(typed))
    body[row][column] = draw(st.sampled_from(["n/a", "twelve", "2026-13-45", "1,5"]))
    return write([header, *body])


def _mutate_json(data: bytes, mutation: str, draw) -> bytes:
    pages = json.loads(data)
    groups = [(page, day, group) for page in range(len(pages)) for day in range(len(pages[page]["ResultsByTime"]))
              for group in range(len(pages[page]["ResultsByTime"][day]["Groups"]))]
    page, day, group = draw(st.sampled_from(groups))
    groups_of_day = pages[page]["ResultsByTime"][day]["Groups"]
    if mutation == "truncate":
        return data[:draw(st.integers(1, len(data.rstrip()) - 1))]
    if mutation == "duplicate_row":
        groups_of_day.insert(group, json.loads(json.dumps(groups_of_day[group])))
    elif mutation == "drop_column":
        entry = groups_of_day[group]
        key = draw(st.sampled_from(["Keys", "Metrics", "Amount", "Unit"]))
        if key in ("Amount", "Unit"):
            entry["Metrics"]["UnblendedCost"].pop(key)
        else:
            entry.pop(key)
    elif mutation == "flip_encoding":
        return json.dumps(pages, indent=1).encode(draw(st.sampled_from(["utf-16", "utf-8-sig"])))
    else:
        groups_of_day[group]["Metrics"]["UnblendedCost"]["Amount"] = draw(st.sampled_from(["n/a", None, [], "1e999"]))
    return json.dumps(pages, indent=1).encode("utf-8")


def _results(warehouse: Path) -> dict[str, list[tuple]]:
    return {name: sorted(query(warehouse, f"SELECT * FROM {name}"), key=repr) for name in RESULTS}


# Each example is a run (seconds): no shrinking, the failing example is printed as drawn.
@settings(max_examples=15, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(source=st.sampled_from(SOURCES), mutation=st.sampled_from(MUTATIONS), data=st.data())
def test_damaged_input_is_refused_in_one_line_or_changes_nothing(populated: Populated, tmp_path_factory,
                                                                 capsys, source: str, mutation: str, data) -> None:
    folder = tmp_path_factory.mktemp("damaged")
    copy = Copy(folder / "source", folder / "warehouse.duckdb", populated.tables)
    shutil.copytree(populated.source, copy.source)
    shutil.copyfile(populated.warehouse, copy.warehouse)
    path = copy.source / source
    original = path.read_bytes()
    mutate = _mutate_json if path.suffix == ".json" else _mutate_csv
    path.write_bytes(mutate(original, mutation, data.draw))
    capsys.readouterr()
    code = copy.run()
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error
    if code == 2:
        assert len(error.splitlines()) == 1 and error.startswith("error: "), error
        assert copy.tables() == copy.baseline
    else:
        assert code == 0, error
        assert _results(copy.warehouse) == {name: copy.baseline[name] for name in RESULTS}, (source, mutation)
    shutil.rmtree(folder)
