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


def parse_yaml(content: bytes | str, source: str) -> Any:
    """Parse YAML text with exact decimals; a syntax error or duplicate key names the file and line."""
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
