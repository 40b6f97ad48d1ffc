"""Webhook signatures: what a receiver accepts and the attacks it refuses."""

from __future__ import annotations

import pytest

from core.events.signing import SignatureError, signed_headers, verify

SECRET = "webhook-secret-0123456789"
BODY = b'{"id":"run_1:run.succeeded","type":"com.paddock.run.succeeded"}'
NOW = 1_800_000_000.0


def test_a_signed_request_verifies_and_names_its_event() -> None:
    headers = signed_headers((SECRET,), "run_1:run.succeeded", BODY, now=NOW)
    assert verify(SECRET, headers, BODY, now=NOW + 10) == "run_1:run.succeeded"


def test_a_tampered_body_is_refused() -> None:
    headers = signed_headers((SECRET,), "run_1:run.succeeded", BODY, now=NOW)
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        verify(SECRET, headers, BODY.replace(b"succeeded", b"failed"), now=NOW)


def test_another_event_id_on_the_same_body_is_refused() -> None:
    headers = signed_headers((SECRET,), "run_1:run.succeeded", BODY, now=NOW)
    headers["webhook-id"] = "run_2:run.succeeded"
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY, now=NOW)


def test_a_replay_after_the_tolerance_is_refused_and_a_restamped_one_too() -> None:
    headers = signed_headers((SECRET,), "run_1:run.succeeded", BODY, now=NOW)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, headers, BODY, now=NOW + 301)
    restamped = dict(headers, **{"webhook-timestamp": str(int(NOW + 300))})
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        verify(SECRET, restamped, BODY, now=NOW + 301)


def test_the_wrong_secret_and_missing_headers_are_refused() -> None:
    headers = signed_headers(("another-secret-0123456",), "e1", BODY, now=NOW)
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY, now=NOW)
    with pytest.raises(SignatureError, match="missing"):
        verify(SECRET, {}, BODY, now=NOW)
    with pytest.raises(SignatureError, match="not a number"):
        verify(SECRET, dict(headers, **{"webhook-timestamp": "soon"}), BODY, now=NOW)


def test_during_rotation_either_secret_verifies() -> None:
    old, new = "old-secret-0123456789", "new-secret-0123456789"
    headers = signed_headers((old, new), "e1", BODY, now=NOW)
    assert verify(old, headers, BODY, now=NOW) == "e1"
    assert verify(new, headers, BODY, now=NOW) == "e1"
