"""Arrow tables of Python values without pandas: the same tables as pyarrow's conversion, the same refusals
for money, and no pandas imported by a process that builds them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.arrow_tables import UnrepresentableValue
from costattr_pipeline.sample import DemoPeriod, generate_sample

# Every decimal type the call sites use, and the other column types.
DECIMALS = [pa.decimal128(9, 6), pa.decimal128(18, 2), pa.decimal128(18, 4), pa.decimal128(18, 6),
            pa.decimal128(20, 10), pa.decimal128(38, 9), pa.decimal128(38, 12), pa.decimal128(38, 18)]
TIMESTAMPS = [pa.timestamp("us"), pa.timestamp("us", tz="UTC")]
OFFSETS = st.builds(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)),
                    st.integers(-23 * 60 - 59, 23 * 60 + 59))


def _decimal(negative: bool, coefficient: int, exponent: int) -> Decimal:
    return Decimal((int(negative), tuple(int(digit) for digit in str(coefficient)), exponent))


# Any Decimal as written: more places than a scale, trailing zeros, too many digits, more than 38 digits.
written_decimals = st.builds(_decimal, st.booleans(), st.integers(0, 10 ** 38 - 1) | st.integers(0, 10 ** 45),
                             st.integers(-60, 40))


@st.composite
def fitting_decimals(draw, kind: pa.Decimal128Type) -> Decimal:
    """A Decimal the column holds: at most ``precision`` digits at its scale, written with or without
    trailing zeros."""
    unscaled = draw(st.integers(0, 10 ** kind.precision - 1) | st.sampled_from([0, 1, 10 ** kind.precision - 1]))
    zeros = draw(st.integers(0, 38 - len(str(unscaled))))
    return _decimal(draw(st.booleans()), unscaled * 10 ** zeros, -kind.scale - zeros)


def _values(kind: pa.DataType) -> st.SearchStrategy:
    """Values a column of ``kind`` holds, None among them."""
    if pa.types.is_decimal(kind):
        value = fitting_decimals(kind) | st.integers(-(10 ** (kind.precision - kind.scale)) + 1,
                                                     10 ** (kind.precision - kind.scale) - 1)
    elif pa.types.is_timestamp(kind):
        value = st.datetimes() | st.datetimes(timezones=OFFSETS) | st.sampled_from([dt.datetime.min, dt.datetime.max])
    else:
        value = {pa.string(): st.text(), pa.date32(): st.dates(), pa.bool_(): st.booleans(),
                 pa.int32(): st.integers(-2 ** 31, 2 ** 31 - 1), pa.int64(): st.integers(-2 ** 63, 2 ** 63 - 1)}[kind]
    return st.none() | value


SCHEMA = pa.schema([(f"c{index}", kind) for index, kind in enumerate(
    [pa.string(), pa.date32(), pa.bool_(), pa.int32(), pa.int64(), *TIMESTAMPS, *DECIMALS])])
rows = st.lists(st.fixed_dictionaries({field.name: _values(field.type) for field in SCHEMA}), max_size=20)


@settings(deadline=None)  # pyarrow's first conversion in the process imports pandas
@given(rows)
def test_tables_equal_pyarrows_conversion_of_the_same_values(table_rows: list[dict]) -> None:
    expected = pa.Table.from_pylist(table_rows, SCHEMA)
    assert arrow_tables.from_rows(table_rows, SCHEMA).equals(expected)
    columns = {name: [row[name] for row in table_rows] for name in SCHEMA.names}
    assert arrow_tables.from_columns(columns, SCHEMA).equals(pa.table(columns, schema=SCHEMA))


def test_missing_keys_are_null_and_unknown_keys_ignored_as_in_from_pylist() -> None:
    table_rows = [{"c0": "a", "other": 1}, {}]
    assert arrow_tables.from_rows(table_rows, SCHEMA).equals(pa.Table.from_pylist(table_rows, SCHEMA))


def _pyarrow(value: object, kind: pa.DataType) -> pa.Array | None:
    """pyarrow's array of the one value, or None when pyarrow refuses it."""
    try:
        return pa.array([value], kind)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None


def _column(value: object, kind: pa.DataType) -> pa.Array:
    return arrow_tables.from_columns({"amount": [value]}, pa.schema([("amount", kind)]))["amount"].chunk(0)


def _ours(value: object, kind: pa.DataType) -> pa.Array | None:
    """Our array of the one value, or None when we refuse it (naming the column and the value)."""
    try:
        return _column(value, kind)
    except UnrepresentableValue as error:
        assert error.column == "amount" and "'amount'" in str(error) and repr(value) in str(error)
        return None


@given(st.sampled_from(DECIMALS), written_decimals | st.integers(-(10 ** 40), 10 ** 40))
@example(pa.decimal128(38, 9), Decimal("1.1234567891"))  # polars rounds it to 1.123456789
@example(pa.decimal128(38, 9), Decimal("1.500000000000"))
@example(pa.decimal128(18, 2), Decimal("0E+16"))  # a zero's digits are counted as written
@example(pa.decimal128(18, 2), Decimal("0E+17"))
@example(pa.decimal128(38, 18), Decimal("-99999999999999999999.999999999999999999"))
@example(pa.decimal128(38, 18), Decimal("1.00000000000000000000000000000000000000"))  # 39 digits, < 2^127
def test_a_decimal_is_stored_exactly_as_pyarrow_stores_it_or_refused(kind: pa.Decimal128Type,
                                                                    value: Decimal | int) -> None:
    """Ours and pyarrow's agree, except where pyarrow stores another number (see below): there ours refuses."""
    ours, theirs = _ours(value, kind), _pyarrow(value, kind)
    if ours is not None:
        assert ours.equals(theirs) and ours[0].as_py() == value
    if theirs is not None and theirs[0].as_py() == value:
        assert ours is not None


@pytest.mark.parametrize("kind, value", [
    # 40 digits as written: pyarrow reads them into 128 bits, and the wrapped 100 passes its checks.
    (pa.decimal128(38, 18), _decimal(False, 25 * 2 ** 128 + 100, -20)),
    # 39 places dropped at once: pyarrow stores 0.
    (pa.decimal128(9, 6), Decimal("1E-45")),
])
def test_a_decimal_pyarrow_stores_as_another_number_is_refused(kind: pa.Decimal128Type, value: Decimal) -> None:
    theirs = _pyarrow(value, kind)
    assert theirs is None or theirs[0].as_py() != value
    with pytest.raises(UnrepresentableValue):
        _column(value, kind)


@pytest.mark.parametrize("kind, value, rule", [
    (pa.decimal128(18, 2), Decimal("1.005"), "more decimal places"),
    (pa.decimal128(38, 9), Decimal("1.1234567891"), "more decimal places"),
    (pa.decimal128(9, 6), Decimal("-0.0000005"), "more decimal places"),
    (pa.decimal128(18, 2), Decimal("12345678901234567.1"), "more digits"),
    (pa.decimal128(18, 2), Decimal("10000000000000000.00"), "more digits"),
    (pa.decimal128(9, 6), Decimal("-1000"), "more digits"),
    (pa.decimal128(18, 2), 10 ** 16, "more digits"),
    (pa.decimal128(38, 18), Decimal("1E+20"), "more digits"),
    (pa.decimal128(38, 18), Decimal("NaN"), "not a finite number"),
    (pa.decimal128(38, 18), Decimal("-Infinity"), "not a finite number"),
    (pa.decimal128(18, 2), 1.5, "not a Decimal or an int"),
    (pa.decimal128(18, 2), "1.50", "not a Decimal or an int"),
    (pa.int32(), 2 ** 31, "does not fit in int32"),
    (pa.int32(), -(2 ** 31) - 1, "does not fit in int32"),
    (pa.int64(), 2 ** 63, "does not fit in int64"),
    (pa.int64(), "7", "not an integer"),
    (pa.int64(), True, "not an integer"),
    (pa.date32(), "2026-01-01", "not a date"),
    (pa.timestamp("us"), dt.date(2026, 1, 1), "not a datetime"),
    (pa.string(), 7, "not text"),
    (pa.bool_(), "yes", "not a bool"),
])
def test_values_pyarrow_refuses_are_refused_naming_the_column_and_the_value(kind, value, rule) -> None:
    assert _pyarrow(value, kind) is None
    assert _ours(value, kind) is None
    with pytest.raises(UnrepresentableValue, match=rule):
        _column(value, kind)


@pytest.mark.parametrize("kind, value", [
    (pa.int64(), 1.5), (pa.int32(), Decimal("2.5")),
    (pa.date32(), dt.datetime(2026, 1, 1, 23, 30)), (pa.timestamp("us"), 1_700_000_000),
])
def test_values_pyarrow_would_truncate_or_reinterpret_are_refused(kind, value) -> None:
    assert _pyarrow(value, kind) is not None
    assert _ours(value, kind) is None


def test_columns_must_be_the_schemas_and_of_one_length() -> None:
    schema = pa.schema([("a", pa.string()), ("b", pa.int64())])
    with pytest.raises(ValueError, match="not the schema's"):
        arrow_tables.from_columns({"a": ["x"]}, schema)
    with pytest.raises(ValueError, match="different lengths"):
        arrow_tables.from_columns({"a": ["x"], "b": []}, schema)


def test_row_numbers_and_scalars() -> None:
    assert arrow_tables.row_numbers(4).equals(pa.array([0, 1, 2, 3], pa.int64()))
    assert arrow_tables.row_numbers(0).equals(pa.array([], pa.int64()))
    assert arrow_tables.scalar("USD", pa.string()).equals(pa.scalar("USD", pa.string()))
    assert arrow_tables.scalar(None, pa.string()).equals(pa.scalar(None, pa.string()))


# A fresh process: the definitions (every asset module), then tables built by converted call sites.
FRESH_PROCESS = textwrap.dedent("""
    import datetime as dt, sys
    from decimal import Decimal
    from pathlib import Path

    import costattr_pipeline.definitions
    from costattr_pipeline.defs.billing import billing_period_summary as billing
    from costattr_pipeline.defs.billing.config_tables import record_config
    from costattr_pipeline.lib import arrow_tables
    from costattr_pipeline.lib.billing_config import load_billing_config
    from costattr_pipeline.resources.warehouse import DuckDBWarehouse
    from costattr_pipeline.sample.generate import DemoPeriod
    from costattr_pipeline.sample.usage import write_config

    folder = Path(sys.argv[1])
    period = DemoPeriod(dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    write_config(folder / "config", period)
    config = load_billing_config(folder / "config")
    usage = [{"tenant_id": "acme", "period_start": dt.date(2026, 1, 1), "metric": "api_calls",
              "quantity": Decimal(250000)}]
    bills, lines, _ = billing.compute_bills(config, period.start, period.end, usage, [], dt.date(2026, 6, 1))
    with DuckDBWarehouse(path=str(folder / "warehouse.duckdb")).session() as session:
        session.execute(billing.TABLES_SQL)
        assert record_config(session, config, dt.datetime(2026, 6, 1, 12))
        recorded = session.scalar("SELECT COUNT(*) FROM config.rate_card_variable_tiers")
    arrow_tables.row_numbers(3)
    print(costattr_pipeline.__file__, bills.num_rows, lines.num_rows, recorded, "pandas" in sys.modules)
""")


def _fresh_process(code: str, *arguments: str) -> list[str]:
    """What a new Python process running ``code`` printed, with this checkout's package first on its path."""
    root = Path(__file__).resolve().parents[1]
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("COSTATTR_") and name != "DAGSTER_HOME"}
    environment["PYTHONPATH"] = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, cwd=root,
                          env=environment, timeout=600)
    assert done.returncode == 0, done.stderr
    imported_from, *printed = done.stdout.split()
    assert Path(imported_from).is_relative_to(root)
    return printed


def test_a_process_that_builds_tables_of_python_values_does_not_import_pandas(tmp_path: Path) -> None:
    bills, lines, recorded, pandas_imported = _fresh_process(FRESH_PROCESS, str(tmp_path))
    assert int(bills) > 0 and int(lines) > 0 and int(recorded) > 0
    assert pandas_imported == "False"


@pytest.mark.slow
def test_a_costattr_run_does_not_import_pandas(tmp_path: Path) -> None:
    """Every asset over a month of the demo's data, with the command's validation first, as ``costattr run``."""
    generate_sample(tmp_path / "source", period=DemoPeriod(dt.date(2026, 3, 1), dt.date(2026, 4, 1)))
    exit_code, pandas_imported = _fresh_process(textwrap.dedent(f"""
        import sys
        import costattr_pipeline
        from costattr_pipeline.cli import main
        code = main(["run", "--start", "2026-03-01", "--end", "2026-04-01", "--quiet",
                     "--source-dir", {str(tmp_path / "source")!r}, "--warehouse", {str(tmp_path / "w.duckdb")!r}])
        print(costattr_pipeline.__file__, code, "pandas" in sys.modules)
    """))
    assert exit_code == "0"
    assert pandas_imported == "False"
