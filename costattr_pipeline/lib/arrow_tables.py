"""Arrow tables of Python values (config rows, exchange rates, bills, alerts), written buffer by buffer.

Why not ``pa.array``, ``pa.table`` of lists or ``pa.Table.from_pylist``: the first time a process converts
Python values with them, pyarrow imports pandas, and every ``costattr run`` process did, for tables of tens
to thousands of rows. Measured on the project's 2-core machine, fresh processes, 5 runs: the first
``pa.table`` of a four-column settings table took 0.46-0.83 s, pandas imported; the same table here
0.9-3.8 ms, without. polars builds Arrow without pandas too, but a run does not otherwise import it
(0.21-0.25 s). Here each column's Arrow buffers are written from the values with numpy, which pyarrow has
already imported.

Money stays exact: a Decimal goes into a ``decimal128(p, s)`` column only when pyarrow would store it
exactly (:func:`_unscaled`); otherwise it is refused, naming the column and the value, never rounded, also
where pyarrow would silently store another number.
The other types are at least as strict as pyarrow: a value pyarrow would truncate or reinterpret (a float
in an integer column, a datetime in a date column, an integer as a timestamp) is refused too.
None is null, as in pyarrow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from numbers import Integral

import numpy as np
import pyarrow as pa

_EPOCH_DAY = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
# pyarrow reads a Decimal's digits as written into a signed 128-bit integer before rescaling it; larger
# coefficients wrap, and a wrapped one can pass its checks as a different number (measured on pyarrow 26).
_COEFFICIENT_LIMIT = 2 ** 127


class UnrepresentableValue(ValueError):
    """A value the Arrow column cannot hold as it is (it would be rounded, truncated, overflow or be
    reinterpreted): the column, the value and the rule it breaks."""

    def __init__(self, column: str, value: object, rule: str):
        self.column = column
        self.value = value
        self.rule = rule
        super().__init__(f"column {column!r}: {value!r} {rule}")


def from_rows(rows: Iterable[Mapping[str, object]], schema: pa.Schema) -> pa.Table:
    """The rows as a table of exactly ``schema``; as ``pa.Table.from_pylist``, a key the schema does not
    name is ignored and a missing one is null."""
    rows = list(rows)
    return from_columns({name: [row.get(name) for row in rows] for name in schema.names}, schema)


def from_columns(columns: Mapping[str, Sequence[object]], schema: pa.Schema) -> pa.Table:
    """The columns (one sequence of values per schema field, all of one length) as a table of exactly
    ``schema``."""
    if set(columns) != set(schema.names):
        raise ValueError(f"columns {sorted(columns)} are not the schema's {sorted(schema.names)}")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of different lengths: {lengths}")
    arrays = [_array(field.name, list(columns[field.name]), field.type) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def scalar(value: object, kind: pa.DataType) -> pa.Scalar:
    """The value as an Arrow scalar, for a compute function: one given as a Python value, or through
    ``pa.scalar``, imports pandas."""
    return _array("scalar", [value], kind)[0]


def _array(name: str, values: list[object], kind: pa.DataType) -> pa.Array:
    present = [value is not None for value in values]
    nulls = len(values) - sum(present)
    validity = _bits(present) if nulls else None
    if pa.types.is_string(kind):
        data = _text_buffers(name, values)
    elif pa.types.is_boolean(kind):
        data = [_bits([_boolean(name, value) for value in values])]
    elif pa.types.is_decimal128(kind):
        data = [pa.py_buffer(b"".join(_unscaled(name, value, kind).to_bytes(16, "little", signed=True)
                                      for value in values))]
    else:
        number, dtype = _fixed_width(kind)
        data = [pa.py_buffer(np.array([0 if value is None else number(name, value) for value in values], dtype))]
    array = pa.Array.from_buffers(kind, len(values), [validity, *data], null_count=nulls)
    array.validate(full=True)
    return array


def _bits(flags: list[bool]) -> pa.Buffer:
    return pa.py_buffer(np.packbits(np.array(flags, dtype=np.bool_), bitorder="little"))


def _text_buffers(name: str, values: list[object]) -> list[pa.Buffer]:
    encoded = [b"" if value is None else _utf8(name, value) for value in values]
    offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int64)
    if offsets[-1] > np.iinfo(np.int32).max:
        raise UnrepresentableValue(name, f"{offsets[-1]} bytes of text", "is more than a string column holds")
    return [pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded))]


def _utf8(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise UnrepresentableValue(name, value, "is not text")
    try:
        return value.encode()
    except UnicodeEncodeError:
        raise UnrepresentableValue(name, value, "is not valid Unicode text (a lone surrogate)") from None


def _boolean(name: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise UnrepresentableValue(name, value, "is not a bool")
    return value


def _fixed_width(kind: pa.DataType) -> tuple[Callable[[str, object], int], np.dtype]:
    """How a value becomes the column's integer (days, microseconds or the integer itself) and its width."""
    if pa.types.is_date32(kind):
        return _days, np.dtype(np.int32)
    if pa.types.is_timestamp(kind) and kind.unit == "us":
        return _microseconds, np.dtype(np.int64)
    if pa.types.is_integer(kind):
        dtype = np.dtype(f"{'i' if pa.types.is_signed_integer(kind) else 'u'}{kind.bit_width // 8}")
        bounds = np.iinfo(dtype)
        return lambda name, value: _integer(name, value, bounds.min, bounds.max, str(kind)), dtype
    raise TypeError(f"no Arrow encoder for {kind}: add one to {__name__}")


def _days(name: str, value: object) -> int:
    # A datetime is refused: which day it falls on depends on a time zone pyarrow would not apply.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise UnrepresentableValue(name, value, "is not a date")
    return (value - _EPOCH_DAY).days


def _microseconds(name: str, value: object) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC, an aware one converted, as pyarrow."""
    if not isinstance(value, dt.datetime):
        raise UnrepresentableValue(name, value, "is not a datetime")
    epoch = _EPOCH if value.utcoffset() is None else _EPOCH_UTC
    return (value - epoch) // _MICROSECOND


def _integer(name: str, value: object, low: int, high: int, kind: str) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise UnrepresentableValue(name, value, "is not an integer")
    if not low <= int(value) <= high:
        raise UnrepresentableValue(name, value, f"does not fit in {kind}")
    return int(value)


def _unscaled(name: str, value: object, kind: pa.Decimal128Type) -> int:
    """The integer a ``decimal128(p, s)`` column stores for the value (value x 10^s), by pyarrow's rule.

    pyarrow reads the Decimal as written (its digits and exponent), rescales it to ``s``, refusing when a
    non-zero digit would be dropped (``Decimal('1.500')`` fits scale 2, ``Decimal('1.005')`` does not), then
    refuses more than ``p`` digits counted as written (a zero has none). An int is a Decimal of exponent 0.
    Refused here although pyarrow 26 stores them, as other numbers: a coefficient of 2^127 or more (40 digits
    can wrap to a small one that passes) and some rescales by more than 38 places (by 39 or 59:
    ``Decimal('1E-45')`` into scale 6 -> 0).
    """
    if value is None:
        return 0
    if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
        raise UnrepresentableValue(name, value, "is not a Decimal or an int")
    _, digits, exponent = Decimal(value).as_tuple()
    if not isinstance(exponent, int):
        raise UnrepresentableValue(name, value, "is not a finite number")
    if len(digits) > 38 and int("".join(map(str, digits))) >= _COEFFICIENT_LIMIT:
        raise UnrepresentableValue(name, value, f"is written with more digits ({len(digits)}) than decimal128 reads")
    shift = exponent + kind.scale
    if shift < 0 and any(digits[shift:]):
        raise UnrepresentableValue(name, value, f"has more decimal places than {kind} keeps (would be rounded)")
    if (len(digits) if any(digits) else 0) + shift > kind.precision:
        raise UnrepresentableValue(name, value, f"has more digits than {kind} holds")
    numerator, denominator = value.as_integer_ratio()  # exact, and small once the checks above passed
    return numerator * 10 ** kind.scale // denominator


def row_numbers(count: int) -> pa.Array:
    """0, 1, ..., count - 1 as int64, from numpy's buffer: ``pa.array`` of a range or of a numpy array
    imports pandas too."""
    return pa.Array.from_buffers(pa.int64(), count, [None, pa.py_buffer(np.arange(count, dtype=np.int64))])
