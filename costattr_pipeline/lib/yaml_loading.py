"""Reading config YAML: exact numbers, and refusal of what would silently change a value.

PyYAML turns ``0.02`` into a binary float; config amounts and shares must stay
exact, so floats are constructed as Decimal from their source text. PyYAML also
lets a second ``acme:`` replace the first without a word (the bill changes), and
stops with a bare Python error on an impossible date or a non-UTF-8 byte. Every
such problem is a :class:`ConfigError` naming the file (and the line when there
is one); value problems are left to the config models, which name the key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml

from costattr_pipeline.lib.errors import ConfigError

# YAML's special floats, as Decimal spells them: the models reject them by key ("must be a finite number").
_SPECIAL_FLOATS = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


class _ExactConstruction:
    """Construction that keeps numbers exact and rejects duplicate keys (mixed into both loaders)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_marks: dict[tuple[str, Any], yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` then an override is intended
                continue
            identity = (key_node.tag, key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node))
            if identity in first_marks:
                first, second = first_marks[identity], key_node.start_mark
                at = f"column {first.column + 1}" if first.line == second.line else f"line {first.line + 1}"
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r} (first at {at})", second)
            first_marks[identity] = key_node.start_mark
        return super().construct_mapping(node, deep)


def _exact_number(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | str:
    text = loader.construct_scalar(node).replace("_", "")  # type: ignore[arg-type]
    try:
        return Decimal(_SPECIAL_FLOATS.get(text.lower(), text))
    except InvalidOperation:
        return text  # a sexagesimal 1:30.5: left as text, which no number field accepts


def _date_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> dt.date | str:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]  # 2026-02-30: the model names the key


class ExactLoader(_ExactConstruction, yaml.SafeLoader):
    """PyYAML's pure-Python SafeLoader, exact: its errors name the line and the problem."""


# libyaml's parser, where PyYAML was built with it: a 1,000-tenant tenants.yaml takes 0.30 s instead of 0.87 s
# (what is left is the Python constructors, the same in both). Same resolver and constructors, so the same
# values wherever both parsers read a text (docs/configuration.md names the few constructs they read
# differently); its errors are worded differently, so a file it refuses is read again by ExactLoader.
if getattr(yaml, "__with_libyaml__", False):
    class FastExactLoader(_ExactConstruction, yaml.CSafeLoader):
        """libyaml's parser with ExactLoader's construction (for files it reads without an error)."""
else:  # pragma: no cover - PyYAML built without libyaml
    FastExactLoader = None  # type: ignore[assignment,misc]

for _loader in (ExactLoader, FastExactLoader):
    if _loader is not None:
        _loader.add_constructor("tag:yaml.org,2002:float", _exact_number)
        _loader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_text)


def libyaml_may_read(content: str) -> bool:
    """Whether parse_yaml gives the text to libyaml first. Not a text with a character YAML forbids (PyYAML's
    reader names it and its line), nor one with a byte-order mark after its start (libyaml drops one at a
    line's start, PyYAML keeps it in the key)."""
    return (FastExactLoader is not None and "\ufeff" not in content[1:]
            and not yaml.reader.Reader.NON_PRINTABLE.search(content))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# A file of at least this many bytes is parsed once per content on this machine: what it parsed to is kept in
# costattr's cache folder (lib/sql.py's cached_json), so each run's process reads it back instead of parsing
# again. PyYAML's constructors are Python: a 1,000-tenant tenants.yaml (170 KB) takes 0.33 s to parse, in
# every daily run, and 0.01 s to read back. Smaller files parse faster than the cache is read.
CACHED_FROM_BYTES = 16_384


def parse_yaml(content: bytes | str, source: str) -> Any:
    """Parse YAML text with exact decimals; a syntax error or duplicate key names the file and line."""
    if len(content) >= CACHED_FROM_BYTES:
        return _parsed_through_cache(content, source)
    return _parse_yaml(content, source)


@functools.cache
def _code_digest() -> str | None:
    """This module's own source: what it parses a text to depends on it (and on PyYAML's version). None when
    it cannot be read (nothing is then kept: a kept value could outlive the code that made it)."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    except OSError:
        return None


def _parsed_through_cache(content: bytes | str, source: str) -> Any:
    from costattr_pipeline.lib.sql import cached_json  # sqlglot's import is not this module's to pay

    if _code_digest() is None:
        return _parse_yaml(content, source)
    text = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    key = ("parse_yaml", _code_digest(), yaml.__version__, bool(getattr(yaml, "__with_libyaml__", False)),
           hashlib.sha256(text).hexdigest())
    parsed: list[Any] = []

    def parse() -> Any:
        parsed.append(_parse_yaml(content, source))  # errors are raised here, and nothing is kept
        return to_tagged_json(parsed[0])

    value = cached_json(key, parse, lambda tagged: _NOT_KEPT if tagged is None else from_tagged_json(tagged))
    if parsed:  # parsed here: the value itself, not its copy
        return parsed[0]
    return _parse_yaml(content, source) if value is _NOT_KEPT else value


_NOT_KEPT = object()


def to_tagged_json(value: Any) -> Any:
    """A parsed YAML value as JSON that :func:`from_tagged_json` turns back into an equal value of the same
    types (mapping keys of any type, Decimals with their exponent, dates, timestamps); None (nothing kept) for a
    value with anything else in it (a ``!!binary`` or ``!!set`` value), or that would not come back the same."""
    try:
        document = {"kept": _tagged(value)}
    except TypeError:
        return None
    return document if repr(from_tagged_json(document)) == repr(value) else None


def _tagged(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, list):
        return {"list": [_tagged(item) for item in value]}
    if isinstance(value, dict):
        return {"mapping": [[_tagged(key), _tagged(item)] for key, item in value.items()]}
    raise TypeError(type(value).__name__)


def from_tagged_json(document: Any) -> Any:
    """The parsed value :func:`to_tagged_json` kept (ValueError or TypeError for a file not of that shape)."""
    if not isinstance(document, dict) or set(document) != {"kept"}:
        raise ValueError("not a kept value")
    return _untagged(document["kept"])


def _untagged(tagged: Any) -> Any:
    if not isinstance(tagged, dict):
        return tagged
    (tag, value), = tagged.items()
    if tag == "decimal":
        try:
            return Decimal(value)
        except ArithmeticError:  # decimal.InvalidOperation: not a number's text
            raise ValueError(f"not a decimal: {value!r}") from None
    if tag == "datetime":
        return dt.datetime.fromisoformat(value)
    if tag == "date":
        return dt.date.fromisoformat(value)
    if tag == "list":
        return [_untagged(item) for item in value]
    if tag == "mapping":
        return {_untagged(key): _untagged(item) for key, item in value}
    raise ValueError(f"unknown tag {tag!r}")


def _parse_yaml(content: bytes | str, source: str) -> Any:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as error:
            line = content[:error.start].count(b"\n") + 1
            raise ConfigError(source, f"line {line}", f"not UTF-8 text (byte 0x{content[error.start]:02x}): "
                                                      f"save the file as UTF-8") from None
    if libyaml_may_read(content):
        try:
            loader = FastExactLoader(content)
            try:
                return loader.get_single_data()
            finally:
                loader.dispose()
        except yaml.YAMLError:
            pass  # read again below, for ExactLoader's error message
    try:
        loader = ExactLoader(content)  # the reader refuses control characters here already
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(source, where, f"invalid YAML: {_one_line(error.problem or str(error))}") from None
    except yaml.reader.ReaderError as error:
        line = content[:error.position].count("\n") + 1
        character = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
        rule = f"invalid YAML: control character {character} is not allowed"
        raise ConfigError(source, f"line {line}", rule) from None
    except yaml.YAMLError as error:
        raise ConfigError(source, None, f"invalid YAML: {_one_line(str(error))}") from None


Validated = TypeVar("Validated")


def load_config_file(path: Path, parse: Callable[[Any, str], Validated]) -> Validated | None:
    """The config of ``path`` parsed and validated by ``parse(data, source)``; None when there is no such file.

    Validated once per process per content: a run's assets each load the same files (a 1,000-tenant
    tenants.yaml took 0.3 s to construct, four times in a daily run). The file is read every time, so an
    edited file is validated again; what ``parse`` returns must never be changed (config models are frozen).
    """
    content = read_config_file(path)
    return None if content is None else _validated(parse, content, str(path))


@functools.lru_cache(maxsize=32)
def _validated(parse: Callable[[Any, str], Validated], content: bytes, source: str) -> Validated:
    return parse(parse_yaml(content, source), source)


def read_config_file(path: Path) -> bytes | None:
    """The file's bytes, or None when there is no such file (each config file says what absence means).

    A path that exists but cannot be read is an error, never taken for a missing file.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(str(path), None, "is a directory, not a YAML file") from None
    except PermissionError:
        raise ConfigError(str(path), None, "cannot be read: permission denied") from None
    except OSError as error:
        raise ConfigError(str(path), None, f"cannot be read: {error.strerror or error}") from None
