"""What model tokens cost: a price table per model, editable and overridable from a file.

``DEFAULT_PRICES`` holds the published list prices (USD per 1M tokens, standard tier, uncached
input) of a few well-known models of OpenAI, Anthropic and Amazon Bedrock (on-demand, US
regions) as of early 2026. Bedrock ids are looked up without their cross-region prefix,
provider and version (``us.anthropic.claude-haiku-4-5-20251001-v1:0`` finds
``claude-haiku-4-5``), so a Claude model costs the same on either. Prices change: edit the table,
or point ``PADDOCK_PRICE_TABLE`` at a JSON or YAML file whose entries are laid over it::

    gpt-4o-mini: {prompt: 0.15, completion: 0.60}
    my-azure-deployment: {prompt: 0.40, completion: 1.60}

A model the table does not know costs 0.0; the table remembers it in ``unknown_models`` and
logs one warning per model, so a budget in USD is never silently enforced on zeros.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError
from core.settings import ModelSettings

__all__ = [
    "DEFAULT_PRICES",
    "PRICE_TABLE_ENV",
    "Price",
    "PriceTable",
    "cost_usd",
    "default_table",
]

log = logging.getLogger(__name__)

PRICE_TABLE_ENV = "PADDOCK_PRICE_TABLE"
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|au|ca|jp|us-gov|global)\.")
_BEDROCK_PROVIDER = re.compile(
    r"^(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\."
)
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)*$")


@dataclass(frozen=True)
class Price:
    """USD per one million prompt (input) and completion (output) tokens."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-5.2": Price(1.75, 14.00),
    "gpt-5.1": Price(1.25, 10.00),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    # Anthropic (the same on Bedrock)
    "claude-opus-4-5": Price(5.00, 25.00),
    "claude-opus-4-1": Price(15.00, 75.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-sonnet-4-5": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-3-haiku": Price(0.25, 1.25),
    # Amazon Bedrock on-demand
    "nova-micro": Price(0.035, 0.14),
    "nova-lite": Price(0.06, 0.24),
    "nova-pro": Price(0.80, 3.20),
    "nova-premier": Price(2.50, 12.50),
    "llama3-1-8b-instruct": Price(0.22, 0.22),
    "llama3-1-70b-instruct": Price(0.72, 0.72),
    "llama3-3-70b-instruct": Price(0.72, 0.72),
    "mistral-large": Price(4.00, 12.00),
    "mistral-small": Price(1.00, 3.00),
}
"""The editable default: list prices, USD per 1M tokens (early 2026)."""


class PriceTable:
    """Prices by model name; looks names up without a date suffix or provider prefix."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        source = DEFAULT_PRICES if prices is None else prices
        self._prices = {name.lower(): price for name, price in source.items()}
        self._unknown: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, *, base: Mapping[str, Price] | None = None) -> PriceTable:
        """The default table (or ``base``) with the file's entries laid over it.

        Raises ``ConfigError`` when the file is missing or malformed.
        """
        merged = dict(DEFAULT_PRICES if base is None else base)
        merged.update(_read_prices(Path(path)))
        return cls(merged)

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> PriceTable:
        """The default table, overridden by the file ``PADDOCK_PRICE_TABLE`` names, if any."""
        return cls.from_file(settings.price_table) if settings.price_table else cls()

    def lookup(self, model: str) -> Price | None:
        """The price of ``model`` (``gpt-4o-mini-2024-07-18`` finds ``gpt-4o-mini``)."""
        name = model.strip().lower()
        for candidate in _candidates(name):
            found = self._prices.get(candidate) or self._prices.get(_DATED.sub("", candidate))
            if found is not None:
                return found
        return None

    @property
    def prices(self) -> dict[str, Price]:
        """A copy of the table, by lower-cased model name."""
        return dict(self._prices)

    def is_known(self, model: str) -> bool:
        return self.lookup(model) is not None

    def cost_usd(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        """The cost of the tokens in USD; 0.0 (remembered and warned once) for unknown models."""
        price = self.lookup(model)
        if price is None:
            self._note_unknown(model)
            return 0.0
        return price.cost(prompt_tokens, completion_tokens)

    @property
    def unknown_models(self) -> frozenset[str]:
        """Models that were priced at 0.0 because the table does not know them."""
        with self._lock:
            return frozenset(self._unknown)

    def _note_unknown(self, model: str) -> None:
        with self._lock:
            if model in self._unknown:
                return
            self._unknown.add(model)
        log.warning(
            "no price known for model %r: its tokens count as 0 USD (set %s to a "
            "price file to fix)",
            model,
            PRICE_TABLE_ENV,
        )


def _candidates(name: str) -> list[str]:
    """The name as given, without a path (an ARN, ``org/model``), then as a Bedrock id without
    region prefix, provider and version."""
    short = name.rsplit("/", 1)[-1]
    bare = _BEDROCK_VERSION.sub("", _BEDROCK_PROVIDER.sub("", _BEDROCK_REGION.sub("", short)))
    return [name, short, bare]


def cost_usd(
    model: str, prompt_tokens: int, completion_tokens: int, table: PriceTable | None = None
) -> float:
    """The cost in USD of one model call; ``table`` defaults to ``default_table()``."""
    return (table or default_table()).cost_usd(model, prompt_tokens, completion_tokens)


def default_table() -> PriceTable:
    """The process-wide table: defaults plus the ``PADDOCK_PRICE_TABLE`` file of the process
    environment, read once per file."""
    return _table_for(ModelSettings.from_env().price_table or "")


@lru_cache(maxsize=8)
def _table_for(path: str) -> PriceTable:
    return PriceTable.from_file(path) if path else PriceTable()


def _read_prices(path: Path) -> dict[str, Price]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the price table {path}: {exc.strerror}") from exc
    try:
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"the price table {path} is not valid JSON/YAML: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("models"), dict):
        data = data["models"]
    if not isinstance(data, dict):
        raise ConfigError(
            f"the price table {path} must map model names to "
            "{prompt: USD, completion: USD} per 1M tokens"
        )
    return {str(name): _price(path, str(name), entry) for name, entry in data.items()}


def _price(path: Path, name: str, entry: Any) -> Price:
    if isinstance(entry, dict):
        prompt = entry.get("prompt", entry.get("input"))
        completion = entry.get("completion", entry.get("output"))
        if (
            isinstance(prompt, int | float)
            and isinstance(completion, int | float)
            and _is_amount(prompt)
            and _is_amount(completion)
        ):
            return Price(float(prompt), float(completion))
    raise ConfigError(
        f"the price table {path}: {name!r} needs numeric 'prompt' and "
        "'completion' (USD per 1M tokens, >= 0)"
    )


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
