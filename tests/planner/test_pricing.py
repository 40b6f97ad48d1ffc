"""Price table: defaults, name normalisation, file overrides, unknown models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.planner.pricing import (
    DEFAULT_PRICES,
    PRICE_TABLE_ENV,
    Price,
    PriceTable,
    cost_usd,
    default_table,
)
from core.settings import ModelSettings


def test_cost_of_a_known_model() -> None:
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000, PriceTable()) == pytest.approx(0.75)
    assert cost_usd("gpt-4o", 2000, 500, PriceTable()) == pytest.approx(
        (2000 * 2.50 + 500 * 10.00) / 1e6
    )


@pytest.mark.parametrize(
    "name", ["gpt-4o-mini-2024-07-18", "GPT-4o-Mini", "openai/gpt-4o-mini", "gpt-4o-mini-0718"]
)
def test_dated_and_prefixed_names_find_their_price(name: str) -> None:
    assert PriceTable().lookup(name) == DEFAULT_PRICES["gpt-4o-mini"]


def test_unknown_model_costs_zero_and_is_flagged(caplog: pytest.LogCaptureFixture) -> None:
    table = PriceTable()
    assert table.cost_usd("llama-local", 10_000, 10_000) == 0.0
    assert table.cost_usd("llama-local", 1, 1) == 0.0
    assert not table.is_known("llama-local")
    assert table.unknown_models == {"llama-local"}
    assert [r.getMessage() for r in caplog.records].count(
        "no price known for model 'llama-local': its tokens count as 0 USD "
        f"(set {PRICE_TABLE_ENV} to a price file to fix)"
    ) == 1


def test_yaml_file_overrides_and_extends(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "gpt-4o-mini: {prompt: 1, completion: 2}\nmy-deployment: {input: 0.5, output: 1.5}\n"
    )
    table = PriceTable.from_settings(ModelSettings.from_env({PRICE_TABLE_ENV: str(path)}))
    assert table.lookup("gpt-4o-mini") == Price(1.0, 2.0)
    assert table.lookup("my-deployment") == Price(0.5, 1.5)
    assert table.lookup("gpt-4o") == DEFAULT_PRICES["gpt-4o"]


def test_json_file_with_models_key(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"x-1": {"prompt": 3, "completion": 6}}}))
    assert PriceTable.from_file(path).cost_usd("x-1", 1_000_000, 0) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpt-4o: {prompt: cheap, completion: 1}", "needs numeric 'prompt' and 'completion'"),
        ("gpt-4o: {prompt: -1, completion: 1}", "needs numeric"),
        ("- just a list", "must map model names"),
        ("a: [unclosed", "not valid JSON/YAML"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        PriceTable.from_file(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the price table"):
        PriceTable.from_settings(ModelSettings(price_table=str(tmp_path / "nope.yaml")))


def test_default_table_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("house-model: {prompt: 10, completion: 20}\n")
    monkeypatch.setenv(PRICE_TABLE_ENV, str(path))
    assert cost_usd("house-model", 100_000, 100_000) == pytest.approx(3.0)
    assert default_table() is default_table()
    monkeypatch.delenv(PRICE_TABLE_ENV)
    assert not default_table().is_known("house-model")


@pytest.mark.parametrize(
    ("model", "listed"),
    [
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1", "claude-opus-4-1"),
        ("eu.amazon.nova-lite-v1:0", "nova-lite"),
        ("meta.llama3-3-70b-instruct-v1:0", "llama3-3-70b-instruct"),
        ("mistral.mistral-large-2402-v1:0", "mistral-large"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5",
        ),
    ],
)
def test_bedrock_and_anthropic_ids_find_their_list_price(model: str, listed: str) -> None:
    table = PriceTable()
    assert table.lookup(model) == DEFAULT_PRICES[listed]
    assert not table.unknown_models
