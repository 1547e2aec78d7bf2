"""settings.yaml and config input: defaults, exact decimals, dated windows, errors naming file, entry and rule."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costattr_pipeline.cli import main
from costattr_pipeline.lib.config import load_settings, parse_settings
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.yaml_loading import parse_yaml


def _settings(tmp_path: Path, text: str):
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path)


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.threshold_on(dt.date(2030, 5, 1)) == Decimal("0.02")
    assert settings.aws.tenant_tag == "tenant_id"
    assert settings.snowflake.idle_policy == "proportional"


def test_contract_example_parses_with_exact_decimals(tmp_path: Path) -> None:
    settings = _settings(tmp_path, """
partitions_start: 2024-01-01
unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: 2026-07-01, value: 0.02}
  - {effective_from: 2026-07-01, effective_to: null, value: 0.015}
aws: {tenant_tag: tenant_id, module_tag: module_id}
snowflake:
  tenant_tag: TENANT_ID
  idle_policy: separate
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 3.00}
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}
databricks: {product_tag: data_product_id, tenant_tag: tenant_id}
unit_costs: {category_prefix: costattr}
""")
    assert settings.partitions_start == dt.date(2024, 1, 1)
    assert settings.threshold_on(dt.date(2026, 6, 30)) == Decimal("0.02")
    assert settings.threshold_on(dt.date(2026, 7, 1)) == Decimal("0.015")
    assert isinstance(settings.threshold_on(dt.date(2026, 7, 1)), Decimal)
    # Before the first window the 2 % default applies.
    assert settings.threshold_on(dt.date(2025, 12, 31)) == Decimal("0.02")
    assert [price.value.price for price in settings.snowflake.credit_price_usd] == [Decimal("3.00"), Decimal("2.50")]
    assert settings.snowflake.idle_policy == "separate"


@pytest.mark.parametrize("text, where, rule", [
    ("""unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: null, value: 0.02}
  - {effective_from: 2026-06-01, effective_to: null, value: 0.03}
""", "unattributed_threshold[1]", "overlaps unattributed_threshold[0]"),
    ("unattributed_threshold:\n  - {effective_from: 2026-01-01, effective_to: null, value: -0.1}\n",
     "unattributed_threshold[0]", "must not be negative"),
    ("unattributed_threshold:\n  - {effective_from: 2026-02-01, effective_to: 2026-01-01, value: 0.1}\n",
     "unattributed_threshold[0]", "must be after effective_from"),
    ("unattributed_treshold: []\n", None, "unknown key 'unattributed_treshold'"),
    ("snowflake: {idle_policy: sometimes}\n", "snowflake", "idle_policy must be one of"),
    ("""snowflake:
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_A}
    - {effective_from: 2025-06-01, effective_to: null, price: 2.00, warehouse: WH_A}
""", "snowflake.credit_price_usd[1]", "overlaps"),
    ("partitions_start: [1\n", "line", "invalid YAML"),
])
def test_invalid_settings_name_file_entry_and_rule(tmp_path: Path, text: str, where: str | None, rule: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _settings(tmp_path, text)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "settings.yaml"))
    assert rule in message
    if where:
        assert where in message
    assert "\n" not in message


def test_per_warehouse_prices_do_not_overlap_the_general_price(tmp_path: Path) -> None:
    settings = _settings(tmp_path, """snowflake:
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 3.00}
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}
""")
    assert len(settings.snowflake.credit_price_usd) == 2


def test_numbers_stay_exact_text_numbers_are_read_and_floats_are_refused() -> None:
    settings = parse_settings(parse_yaml("unattributed_threshold:\n  - {effective_from: 2026-01-01, effective_to: null,"
                                         " value: 0.0200000000000000000000000000001}\n", "settings.yaml"))
    assert settings.threshold_on(dt.date(2026, 1, 1)) == Decimal("0.0200000000000000000000000000001")
    prices = {"credit_price_usd": [{"effective_from": "2025-01-01", "effective_to": None, "price": "2.50"}]}
    assert parse_settings({"snowflake": prices}).snowflake.credit_price_usd[0].value.price == Decimal("2.50")
    prices["credit_price_usd"][0]["price"] = 2.5
    with pytest.raises(ConfigError, match=r"^settings.yaml: snowflake.credit_price_usd\[0\]: 'price' must be a "
                                          r"number, got 2.5$"):
        parse_settings({"snowflake": prices})


@pytest.mark.parametrize("text, message", [
    ("aws: {tenant_tag: tenant_id, modul_tag: module_id}\n",
     "settings.yaml: aws: unknown key 'modul_tag' (allowed: metric, module_tag, tenant_tag)"),
    ("snowflake:\n  credit_price_usd:\n    - {effective_from: 2025-01-01, price: 3}\n",
     "settings.yaml: snowflake.credit_price_usd[0]: 'effective_to' is required (null for an open window)"),
    ("snowflake:\n  credit_price_usd:\n    - {effective_from: 2025-01-01, effective_to: null, price: -1}\n",
     "settings.yaml: snowflake.credit_price_usd[0]: 'price' must not be negative, got -1"),
    ("unattributed_threshold:\n  - {effective_from: 2026-01-01, effective_to: null, value: 1.5}\n",
     "settings.yaml: unattributed_threshold[0]: 'value' is a share between 0 and 1, got 1.5"),
    ("aws: [tenant_id]\n", "settings.yaml: aws: must be a mapping, got list"),
    ("unattributed_threshold: {value: 0.02}\n", "settings.yaml: 'unattributed_threshold' must be a list"),
    ("warehouse: {threads: 0}\n", "settings.yaml: warehouse: 'threads' must be a positive whole number, got 0"),
    ("databricks: {tenant_tag: ''}\n", "settings.yaml: databricks: 'tenant_tag' must be a non-empty text"),
    ("snowflake: {idle_policy: sometimes}\n",
     "settings.yaml: snowflake: idle_policy must be one of proportional, separate, got 'sometimes'"),
    ("aws: {2026: tenant_id}\n", "settings.yaml: aws: unknown key 2026 (allowed: metric, module_tag, tenant_tag)"),
])
def test_pydantic_errors_read_as_one_line_file_key_and_rule(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(parse_yaml(text, "settings.yaml"), "settings.yaml")
    assert str(raised.value) == message


def test_the_last_representable_day_may_end_a_threshold_window() -> None:
    settings = parse_settings(parse_yaml("unattributed_threshold:\n  - {effective_from: 2026-01-01, "
                                         "effective_to: 9999-12-31, value: 0.05}\n", "settings.yaml"))
    assert settings.threshold_on(dt.date(9999, 12, 30)) == Decimal("0.05")


def test_empty_sections_and_lists_mean_the_defaults() -> None:
    settings = parse_settings(parse_yaml("aws:\nsnowflake:\n  credit_price_usd:\nunattributed_threshold:\n", "s"))
    assert (settings.aws.tenant_tag, settings.snowflake.credit_price_usd, settings.threshold_on(dt.date(2026, 1, 1))) \
        == ("tenant_id", (), Decimal("0.02"))


def test_a_merge_key_may_be_overridden_without_counting_as_a_duplicate() -> None:
    data = parse_yaml("base: &price {effective_from: 2025-01-01, effective_to: null, price: 3}\n"
                      "override:\n  <<: *price\n  price: 2\n", "settings.yaml")
    assert data["override"] == {"effective_from": dt.date(2025, 1, 1), "effective_to": None, "price": 2}


# --- input problems of issue 16: each is one line naming the file, exit 2, nothing written ----------------

TENANTS_WITH_A_SECOND_ACME = """\
tiers: {standard: {}}
tenants:
  acme:
    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}]
  acme:
    tiers: [{tier: standard, effective_from: 2026-03-01, effective_to: null}]
"""


@pytest.mark.parametrize("name, content, rule", [
    ("tenants.yaml", TENANTS_WITH_A_SECOND_ACME.encode(),
     "line 5: invalid YAML: duplicate key 'acme' (first at line 3)"),
    ("settings.yaml", b"aws: {tenant_tag: tenant_id, tenant_tag: team}\n",
     "line 1: invalid YAML: duplicate key 'tenant_tag' (first at column 7)"),
    ("settings.yaml", b"unattributed_threshold:\n  - {effective_from: 2026-01-01, effective_to: null, value: .nan}\n",
     "unattributed_threshold[0]: 'value' must be a finite number"),
    ("rate_card.yaml", b"versions:\n  - {version: '1', effective_from: 2026-01-01, effective_to: null,"
                       b" customer_levy: {standard: -.inf}}\n", "versions[0].customer_levy: 'standard' must be a "
                                                                "finite number"),
    ("settings.yaml", b"partitions_start: 2026-02-30\n",
     "partitions_start: not an ISO date (YYYY-MM-DD): '2026-02-30'"),
    ("tenants.yaml", b"tiers: {standard: {}}\ntenants:\n  acme:\n    tiers: [{tier: standard, effective_from: "
                     b"2026-02-30, effective_to: null}]\n",
     "tenants.acme.tiers[0].effective_from: not an ISO date (YYYY-MM-DD): '2026-02-30'"),
    ("unit_costs.yaml", "unit_types:\n  - {unit_type: Caf\u00e9, effective_from: 2026-01-01, effective_to: null,"
                        " driver: unit_drivers}\n".encode("latin-1"),
     "line 2: not UTF-8 text (byte 0xe9): save the file as UTF-8"),
])
def test_a_bad_config_file_is_one_line_exit_2_and_nothing_is_written(target, capsys, name: str, content: bytes,
                                                                     rule: str) -> None:
    (target.config_dir / name).write_bytes(content)
    _assert_rejected(target, capsys, f"{target.config_dir / name}: {rule}")


@pytest.mark.parametrize("name", ["settings.yaml", "rate_card.yaml"])
def test_a_config_path_that_is_a_directory_is_one_line_exit_2(target, capsys, name: str) -> None:
    path = target.config_dir / name
    path.unlink(missing_ok=True)
    path.mkdir()
    _assert_rejected(target, capsys, f"{path}: is a directory, not a YAML file")


def test_an_unreadable_config_file_is_one_line_exit_2(target, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file system refuses the read (root ignores permission bits, so the refusal is staged at that boundary)."""
    path = target.config_dir / "unit_costs.yaml"
    path.write_text("unit_types: []\n", encoding="utf-8")
    read_bytes = Path.read_bytes

    def refused(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refused)
    _assert_rejected(target, capsys, f"{path}: cannot be read: permission denied")


def _assert_rejected(target, capsys, expected: str) -> None:
    flags = ["--source-dir", str(target.source_dir), "--warehouse", str(target.warehouse)]
    for command in (["validate"], ["run", "--start", "2026-03-01", "--end", "2026-03-02"]):
        assert main([*command, *flags]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [f"error: {expected}"]
    assert not target.warehouse.exists()


# Values a YAML file can hold, and valid files to plant them in: whatever lands where, the answer is a
# config or one ConfigError line, never another exception.
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.text(max_size=8),
                     st.decimals(allow_nan=True, allow_infinity=True), st.dates(), st.floats(allow_nan=False),
                     st.sampled_from(["unit_drivers", "proportional", "2026-02-30", "standard", "api_calls", "acme"]))
_YAML_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=6) | _SCALARS.filter(lambda key: key is None), inner,
                                              max_size=3), max_leaves=8)
_VALID = {
    "settings": """partitions_start: 2026-01-01
unattributed_threshold: [{effective_from: 2026-01-01, effective_to: null, value: 0.02}]
snowflake: {idle_policy: separate, credit_price_usd: [{effective_from: 2026-01-01, effective_to: null, price: 3,
  warehouse: WH}]}
warehouse: {memory_limit: 3GB, threads: 2}
""",
    "rate_card": """versions:
  - {version: "1", effective_from: 2026-01-01, effective_to: null, customer_levy: {standard: 500},
     facility_fee: {risk: 200}, variable: {api_calls: {tiers: [{up_to: 10, unit_price: 1},
     {up_to: null, unit_price: 0.5}]}}, pass_through_markup_pct: 10}
""",
    "tenants": """tiers: {standard: {included: {api_calls: 5}}}
tenants:
  acme: {tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}],
         modules: [{module_id: risk, effective_from: 2026-02-01, effective_to: 2026-03-01}]}
""",
    "unit_costs": """unit_types:
  - {unit_type: P, effective_from: 2026-01-01, effective_to: null, items: {a: 0.5, b: 0.5}}
  - {unit_type: C, effective_from: 2026-01-01, effective_to: null, driver: unit_drivers}
""",
}


def _plant(data: st.DataObject, document: object) -> object:
    """The document with one node (possibly the root) replaced by a drawn value."""
    if isinstance(document, (dict, list)) and document and data.draw(st.booleans()):
        keys = list(document) if isinstance(document, dict) else list(range(len(document)))
        key = data.draw(st.sampled_from(keys))
        copy = dict(document) if isinstance(document, dict) else list(document)
        copy[key] = _plant(data, document[key])
        return copy
    return data.draw(_YAML_VALUES)


@hypothesis.settings(max_examples=400, deadline=None)
@given(st.data(), st.sampled_from(list(_VALID)))
def test_any_yaml_value_anywhere_is_a_config_or_one_config_error_line(data: st.DataObject, changed: str) -> None:
    from costattr_pipeline.lib.billing_config import parse_billing_config
    from costattr_pipeline.lib.unit_costs import parse_unit_costs

    files = {name: parse_yaml(text, f"{name}.yaml") for name, text in _VALID.items()}
    files[changed] = _plant(data, files[changed])
    parsers = {"settings": lambda: parse_settings(files["settings"]),
               "unit_costs": lambda: parse_unit_costs(files["unit_costs"]),
               "rate_card": lambda: parse_billing_config(files["rate_card"], files["tenants"])}
    # The billing files are validated together, and a cross-file rule may name the other one.
    named = ("rate_card.yaml", "tenants.yaml") if changed in ("rate_card", "tenants") else (f"{changed}.yaml",)
    try:
        parsers.get(changed, parsers["rate_card"])()
    except ConfigError as error:
        assert "\n" not in str(error) and str(error).startswith(named)


def test_a_credit_price_with_more_than_six_decimals_is_refused_when_read(tmp_path: Path) -> None:
    """Prices are kept to the micro-dollar: refused by validation, before any run writes a price."""
    with pytest.raises(ConfigError) as raised:
        _settings(tmp_path, """
snowflake:
  credit_price_usd:
    - {effective_from: 2026-01-01, effective_to: null, price: 3.0000001}
""")
    assert str(raised.value) == (f"{tmp_path / 'settings.yaml'}: snowflake.credit_price_usd[0]: "
                                 "'price' has more than 6 decimal places, got 3.0000001")


# --- libyaml's parser (FastExactLoader) reads exactly what the pure-Python one does -------------------------

def _loaded(loader_class: type, text: str) -> tuple[str, str]:
    """("ok", repr of the data) or ("error", ""): repr, so Decimal('NaN') equals itself."""
    import yaml

    try:
        loader = loader_class(text)
        try:
            return "ok", repr(loader.get_single_data())
        finally:
            loader.dispose()
    except yaml.YAMLError:
        return "error", ""


_YAML_TEXT = st.text(alphabet=st.sampled_from(list("ab01._-+:,#&*!|>'\"[]{}<?%@` \n\r\t\u00e9\ufeff\x85")),
                     max_size=60)
_YAML_SCALARS = st.sampled_from(["0.02", "1_000.5", ".inf", "-.NaN", "1e3", "1:30.5", "2026-02-30", "2026-02-28",
                                 "2026-02-28T10:00:00Z", "yes", "No", "~", "null", "0x1F", "0o17", "017", "+1",
                                 "'quoted'", '"a\\tb"', "acme", "a b", "-", "? x", "<<"])


@hypothesis.settings(max_examples=600, deadline=None)
@given(st.one_of(_YAML_TEXT,
                 st.lists(st.tuples(st.sampled_from(["acme", "tiers", "price", "<<", "a b"]), _YAML_SCALARS,
                                    st.sampled_from(["", "  "])), max_size=6)
                 .map(lambda entries: "".join(f"{indent}{key}: {value}\n" for key, value, indent in entries))))
@hypothesis.example("\ufeff!")  # found by a CI-sized run: libyaml '' against PyYAML None, the bare-tag difference
def test_libyaml_reads_every_text_as_the_pure_python_loader_does(text: str) -> None:
    """parse_yaml takes libyaml's result when it has one. Where both parsers read a text, the values are the
    same, duplicate keys refused alike. The known differences (docs/configuration.md): libyaml reads a bare
    non-specific tag `!` as '' (PyYAML: None), and reads some texts PyYAML's scanner refuses (a tab as
    separation space, `|#`, a `?` inside a flow scalar) by the YAML spec's rules."""
    from costattr_pipeline.lib.yaml_loading import ExactLoader, FastExactLoader, libyaml_may_read

    if FastExactLoader is None:
        pytest.skip("PyYAML built without libyaml")
    hypothesis.assume(libyaml_may_read(text))  # the others are read by the pure-Python loader only
    fast, pure = _loaded(FastExactLoader, text), _loaded(ExactLoader, text)
    # A bare `!` is the known difference, also first in the text after a byte order mark (the reader drops it).
    if fast[0] == pure[0] == "ok" and not re.search(r"(^\ufeff?|[\s\[{,:-])!(\s|$)", text):
        assert fast == pure


def test_the_sample_configs_load_the_same_with_both_loaders(tmp_path: Path) -> None:
    from costattr_pipeline.lib.yaml_loading import ExactLoader, FastExactLoader
    from costattr_pipeline.sample.generate import generate_sample

    if FastExactLoader is None:
        pytest.skip("PyYAML built without libyaml")
    generate_sample(tmp_path)
    files = sorted(tmp_path.rglob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _loaded(FastExactLoader, text) == _loaded(ExactLoader, text) != ("error", ""), path
