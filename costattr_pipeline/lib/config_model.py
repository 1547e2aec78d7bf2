"""What every config file model shares: exact value types, dated entries, and one-line errors.

Each config file is a pydantic model (``extra="forbid"``, frozen), so the rules of a
file live in one place and its JSON Schema comes from the same model. Pydantic's
own errors read like Python ("Input should be a valid dictionary"); a user needs
today's one line ``<file>: <where>: <rule>``, with ``where`` written as they read
the YAML (``tenants.acme.tiers[0]``). :func:`validate_file` does that translation
for the first problem found.

Validators raise one of two errors, because a rule either names a key inside an
entry (``'price' must not be negative``, reported at the entry that holds the key)
or is about a whole entry (``window ... overlaps ...``, reported at the entry):
:func:`bad_value` and :func:`bad_entry`.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Hashable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic import model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from costattr_pipeline.lib.dated import Window, Windowed, find_overlap
from costattr_pipeline.lib.errors import ConfigError

_VALUE_RULE = "costattr_value"
_ENTRY_RULE = "costattr_entry"
Location = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


def bad_value(rule: str) -> PydanticCustomError:
    """A value broke ``rule``; the message names its key and points at the entry holding it."""
    return PydanticCustomError(_VALUE_RULE, rule)


def bad_entry(rule: str, at: Location = (), *, refer: Mapping[str, Location] | None = None,
              note: str | None = None) -> PydanticCustomError:
    """An entry broke ``rule``; ``at`` locates it below the value being validated.

    ``{name}`` in the rule is replaced by the YAML path of ``refer[name]`` (same base as ``at``),
    so a rule can name the other entry involved; ``note`` is shown after the path.
    """
    return PydanticCustomError(_ENTRY_RULE, rule, {"costattr_at": at, "costattr_refer": dict(refer or {}),
                                                   "costattr_note": note})


class NullMeans:
    """Field metadata: the key is required, and ``null`` is a meaningful value (the hint says which)."""

    def __init__(self, meaning: str):
        self.meaning = meaning


# --- value types: exact, and never silently coerced --------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_value("must be a non-empty text")
    return value


def _name(value: Any) -> str:
    # A key that YAML may have read as a number (`version: 2026.1`, a tier named 2026) is kept as its text.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)) or not str(value).strip():
        raise bad_value("must be a non-empty text")
    return str(value).strip()


def _date(value: Any) -> dt.date:
    if value is None:
        raise bad_value("is required")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise bad_entry(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def _decimal(value: Any) -> Decimal:
    # Binary floats are refused, not converted: a float here means the exact loader was bypassed.
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise bad_value(f"must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise bad_value(f"must be a number, got {value!r}") from None
    if not number.is_finite():
        raise bad_value("must be a finite number")
    if number < 0:
        raise bad_value(f"must not be negative, got {number}")
    return number


def _share(value: Decimal) -> Decimal:
    if value > 1:
        raise bad_value(f"is a share between 0 and 1, got {value}")
    return value


def _micro_dollars(value: Decimal) -> Decimal:
    # Snowflake credit prices are kept to the micro-dollar: a price with more decimals is refused, not rounded.
    if value != value.quantize(Decimal("0.000001")):
        raise bad_value(f"has more than 6 decimal places, got {value}")
    return value


def _null_is_empty(empty: Callable[[], Any]) -> Callable[[Any], Any]:
    # A list or mapping key with nothing under it (`credit_price_usd:`) is an empty one, as before.
    return lambda value: empty() if value is None else value


# Numbers, or numbers written as text ("3.00"), as the validators accept them.
_NUMBER_TEXT = {"type": "string", "pattern": r"^\s*\+?(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)\s*$"}
E = TypeVar("E")
K = TypeVar("K")
V = TypeVar("V")

Entries = Annotated[tuple[E, ...], BeforeValidator(_null_is_empty(tuple))]
Table = Annotated[dict[K, V], BeforeValidator(_null_is_empty(dict))]
Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string", "minLength": 1})]
Name = Annotated[str, BeforeValidator(_name), WithJsonSchema({"type": ["string", "number"]})]
IsoDate = Annotated[dt.date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})]
Amount = Annotated[Decimal, BeforeValidator(_decimal),
                   WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, _NUMBER_TEXT]})]
MicroDollars = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_micro_dollars),
                         WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "multipleOf": 0.000001},
                                                   _NUMBER_TEXT]})]
Share = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_share),
                  WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, _NUMBER_TEXT]})]


class ConfigModel(BaseModel):
    """A mapping of a config file: unknown keys are errors, and a validated config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, data: Any) -> Any:
        # An empty file or a key with nothing under it (`aws:`) means the defaults, as before.
        return {} if data is None else data


class DatedEntry(ConfigModel):
    """An entry in force on the days ``[effective_from, effective_to)``."""

    effective_from: IsoDate = Field(description="First day the entry is in force (ISO date, YYYY-MM-DD).")
    effective_to: Annotated[IsoDate | None, NullMeans("an open window")] = Field(
        description="First day the entry is no longer in force; null while it is open. Required.")

    @property
    def window(self) -> Window:
        return Window(self.effective_from, self.effective_to)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> DatedEntry:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise bad_entry(f"effective_to {self.effective_to} must be after effective_from {self.effective_from}")
        return self


def reject_overlaps(entries: Sequence[Windowed], scope: Callable[[Any], Hashable] = lambda _: None) -> None:
    """Entries of the same scope (a warehouse, a unit type...) must not be in force on the same day."""
    overlap = find_overlap(entries, scope)
    if overlap:
        first, second = overlap
        raise bad_entry(f"window {entries[second].window} overlaps {{other}} {entries[first].window}", (second,),
                        refer={"other": (first,)})


# --- from a pydantic ValidationError to the one-line ConfigError -------------------------------------


def validate_file(model: type[M], data: Any, source: str) -> M:
    """Validate one file's parsed YAML; the first problem becomes a one-line :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise config_error(error, model, lambda location: (source, location)) from None


def validate_files(model: type[M], files: Mapping[str, tuple[Any, str]]) -> M:
    """Validate files checked together (one field of ``model`` per file, from ``files``: field -> (data, file)).

    The error names the file its first location part designates.
    """
    sources = {field: source for field, (_, source) in files.items()}
    try:
        return model.model_validate({field: data for field, (data, _) in files.items()},
                                    context={"sources": sources})
    except ValidationError as error:
        raise config_error(error, model, lambda location: (sources[str(location[0])], location[1:])) from None


def yaml_path(location: Location) -> str:
    """``('tenants', 'acme', 'tiers', 0)`` -> ``tenants.acme.tiers[0]``, as a user reads the YAML."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def config_error(error: ValidationError, model: type[BaseModel],
                 file_of: Callable[[Location], tuple[str, Location]]) -> ConfigError:
    """The first problem of ``error`` as ``<file>: <where>: <rule>``.

    ``file_of`` splits a location of ``model`` into the file it is in and the location in that file.
    """
    problem = error.errors(include_url=False)[0]
    kind, context, value = problem["type"], problem.get("ctx") or {}, problem.get("input")
    location: Location = tuple(problem["loc"])
    at_a_key = kind != "extra_forbidden" and location[-1:] == ("[key]",)  # pydantic's marker of a bad mapping key
    if at_a_key:
        location = location[:-1]
    key = location[-1] if location else None
    named = f"key {value!r}" if at_a_key else repr(key)
    where, rule, note = location[:-1], problem["msg"], None
    if kind == _ENTRY_RULE:
        where, note = location + tuple(context["costattr_at"]), context["costattr_note"]
        for name, other in context["costattr_refer"].items():
            rule = rule.replace(f"{{{name}}}", yaml_path(file_of(location + tuple(other))[1]))
    elif kind == _VALUE_RULE:
        rule = f"{named} {rule}"
    elif kind == "missing":
        field = _field_at(model, location)
        hints = [item.meaning for item in (field.metadata if field else ()) if isinstance(item, NullMeans)]
        rule = f"{key!r} is required" + (f" (null for {hints[0]})" if hints else "")
    elif kind in ("extra_forbidden", "invalid_key"):  # invalid_key: a key YAML read as a number or null
        holder = _model_at(model, location[:-1])
        allowed = ", ".join(sorted(holder.model_fields)) if holder else "see the documentation"
        unknown = key if kind == "extra_forbidden" else value
        rule = f"unknown key {unknown!r} (allowed: {allowed})"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        where, rule = location, f"must be a mapping, got {type(value).__name__}"
    elif kind in ("list_type", "tuple_type"):
        rule = f"{key!r} must be a list"
    elif kind == "string_type":
        rule = f"{named} must be a text, got {value!r}"
    elif kind == "literal_error" and (field := _field_at(model, location)):
        choices = [str(choice) for choice in typing.get_args(_strip_optional(field.annotation))]
        rule = (f"{key} must be {choices[0]!r}, got {value!r}" if len(choices) == 1
                else f"{key} must be one of {', '.join(choices)}, got {value!r}")
    else:  # a rule of pydantic's own that costattr's types do not reword
        where, rule = location, f"{rule}, got {value!r}"
    source, in_file = file_of(where)
    text = yaml_path(in_file) or None
    return ConfigError(source, f"{text} ({note})" if text and note else text, rule)


def _strip_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _field_at(model: type[BaseModel], location: Location) -> FieldInfo | None:
    holder = _model_at(model, location[:-1])
    return holder.model_fields.get(str(location[-1])) if holder and location else None


def _model_at(model: type[BaseModel], location: Location) -> type[BaseModel] | None:
    """The model of the mapping at ``location``, walking fields, list items and mapping values."""
    current: Any = model
    for part in location:
        current = _strip_optional(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        elif origin in (list, tuple, Sequence):
            current = typing.get_args(current)[0]
        elif origin in (dict, Mapping):
            current = typing.get_args(current)[1]
        else:
            return None
    current = _strip_optional(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None

