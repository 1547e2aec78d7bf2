"""Large config files parsed once per content (lib/yaml_loading.py): what a later parse of the same text reads
back from the cache folder is the value parsing gives, exactly, and a cache file that is not what parsing kept is
never believed."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costattr_pipeline.lib import yaml_loading
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.yaml_loading import CACHED_FROM_BYTES, from_tagged_json, parse_yaml, to_tagged_json


def _as_yaml_gives(value: dt.datetime) -> dt.datetime:
    return value.replace(fold=0)  # PyYAML never sets fold (a value with it is not kept: its repr would differ)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False), st.sampled_from([Decimal("Infinity"), Decimal("-Infinity")]),
    st.dates(), st.datetimes().map(_as_yaml_gives),
    st.datetimes(timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                                            dt.timezone(dt.timedelta(hours=-8))])).map(_as_yaml_gives))
keys = st.one_of(st.text(), st.integers(), st.booleans(), st.dates(), st.decimals(allow_nan=False))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(keys, inner, max_size=4)), max_leaves=30)


@given(values)
def test_every_parsed_value_comes_back_of_the_same_types_and_digits(value: object) -> None:
    tagged = to_tagged_json(value)
    assert tagged is not None
    assert repr(from_tagged_json(tagged)) == repr(value)


def test_a_value_json_cannot_hold_exactly_is_not_kept() -> None:
    assert to_tagged_json({"key": b"\x00binary"}) is None
    assert to_tagged_json({"key": {1, 2}}) is None


def _tenants_yaml(tenants: int) -> str:
    lines = ["tiers:", "  gold: {included: {api_calls: 1000.50}}", "tenants:"]
    for number in range(tenants):
        lines += [f"  t{number:04d}:", f"    tiers: [{{effective_from: 2026-01-01, effective_to: null, tier: gold}}]",
                  f"    share: 0.{number:04d}0", f"    since: 2025-{number % 12 + 1:02d}-01T08:00:00+02:00"]
    text = "\n".join(lines) + "\n"
    assert len(text) >= CACHED_FROM_BYTES
    return text


def _kept(cache: Path) -> list[Path]:
    return sorted((cache / "costattr" / "sql").rglob("*.json"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _parser_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(content: object, source: str) -> object:
        raise AssertionError("parsed although the text's value was in the cache")
    monkeypatch.setattr(yaml_loading, "_parse_yaml", refused)


def test_a_large_file_is_read_back_from_the_cache_as_parsing_gives_it(cache: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    text = _tenants_yaml(400)
    parsed = parse_yaml(text.encode(), "tenants.yaml")
    assert parsed["tenants"]["t0007"]["share"] == Decimal("0.00070") and len(parsed["tenants"]) == 400
    assert len(_kept(cache)) == 1
    _parser_refused(monkeypatch)
    assert repr(parse_yaml(text.encode(), "tenants.yaml")) == repr(parsed)
    assert repr(parse_yaml(text, "tenants.yaml")) == repr(parsed)  # the same text given as str


def test_a_cache_file_that_is_not_what_parsing_kept_is_parsed_again(cache: Path) -> None:
    text = _tenants_yaml(400)
    parsed = parse_yaml(text, "tenants.yaml")
    (kept,) = _kept(cache)
    for damaged in ({"kept": {"decimal": "x"}}, {"kept": {"list": 1, "date": 2}}, {"kept": {"date": "2026-13-01"}},
                    {"kept": {"mapping": [[{"list": []}, 1]]}}, {"kept": {"set": []}}, {"other": 1}, None, [1]):
        kept.write_text(json.dumps({"json": [json.dumps(damaged)]}), encoding="utf-8")
        assert repr(parse_yaml(text, "tenants.yaml")) == repr(parsed)
    for damaged_file in ("not json", '{"json": "x"}', "{}"):
        kept.write_text(damaged_file, encoding="utf-8")
        assert repr(parse_yaml(text, "tenants.yaml")) == repr(parsed)


def test_a_large_file_with_an_error_is_refused_every_time_and_nothing_is_kept(cache: Path) -> None:
    text = _tenants_yaml(400) + "  t0001:\n    share: 1\n"  # a second t0001
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"tenants.yaml.*duplicate key 't0001'"):
            parse_yaml(text, "tenants.yaml")
    assert not _kept(cache)


def test_a_large_file_json_cannot_hold_is_parsed_every_time(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _tenants_yaml(400) + "logo: !!binary aGVsbG8=\n"
    assert parse_yaml(text, "tenants.yaml")["logo"] == b"hello"
    assert parse_yaml(text, "tenants.yaml")["logo"] == b"hello"
    _parser_refused(monkeypatch)
    with pytest.raises(AssertionError, match="parsed although"):
        parse_yaml(text, "tenants.yaml")


def test_a_small_file_is_parsed_without_the_cache(cache: Path) -> None:
    assert parse_yaml("share: 0.10\n", "settings.yaml") == {"share": Decimal("0.10")}
    assert not _kept(cache)


def test_nothing_is_kept_when_the_loader_source_cannot_be_read(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_loading, "__file__", str(cache / "no-such-module.py"))
    yaml_loading._code_digest.cache_clear()
    try:
        text = _tenants_yaml(400)
        assert repr(parse_yaml(text, "tenants.yaml")) == repr(yaml_loading._parse_yaml(text, "tenants.yaml"))
        assert not _kept(cache)
    finally:
        yaml_loading._code_digest.cache_clear()
