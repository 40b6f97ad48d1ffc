"""The canonical forms approvals, capability tokens and idempotency keys bind to."""

from __future__ import annotations

import hashlib

from core.execution import canonical_args_hash, canonical_json, idempotency_key


def test_canonical_json_sorts_keys_without_whitespace_or_escaping() -> None:
    text = canonical_json({"b": [1, {"z": 1, "a": "Grüße"}], "a": None})
    assert text == '{"a":null,"b":[1,{"a":"Grüße","z":1}]}'


def test_args_hash_ignores_key_order_but_not_values_or_tool() -> None:
    first = canonical_args_hash("create_po", {"part": "P-100", "qty": 500})
    assert first == canonical_args_hash("create_po", {"qty": 500, "part": "P-100"})
    assert first != canonical_args_hash("create_po", {"qty": 501, "part": "P-100"})
    assert first != canonical_args_hash("delete_po", {"qty": 500, "part": "P-100"})
    expected = canonical_json({"tool": "create_po", "args": {"part": "P-100", "qty": 500}})
    assert first == hashlib.sha256(expected.encode("utf-8")).hexdigest()


def test_idempotency_key_is_stable_per_call_and_distinct_across_calls() -> None:
    key = idempotency_key("run-1", 2, 0)
    assert key == idempotency_key("run-1", 2, 0)
    others = {
        idempotency_key("run-1", 2, 1),
        idempotency_key("run-1", 3, 0),
        idempotency_key("run-2", 2, 0),
        idempotency_key("run-12", 2, 0),
    }
    assert key not in others and len(others) == 4
    assert key.isascii() and len(key) <= 64
