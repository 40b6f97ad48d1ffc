"""High-risk argument kinds: arguments that name where money or data goes, or how much.

Credentials (``password``, ``token``, ``api_key``...) are a fifth kind: an agent must never
set one that the operator did not give. A write's argument of one of these kinds must trace
to a trusted source (positive provenance). The kind comes from, in order:

1. the operator's marker ``x-paddock-risk`` on the parameter or property in the spec:
   ``recipient``, ``destination``, ``account``, ``amount``, ``credential``, or ``none`` to
   opt out;
2. the JSON-schema ``format`` (``email`` -> recipient; ``uri``, ``url``, ``hostname`` ->
   destination);
3. the argument's name (``to``, ``cc``, ``email``... ``url``, ``domain``... ``iban``,
   ``account_number``... ``amount``, ``quantity``, ``price``...).

Whatever the kind, e-mail addresses and IBANs found anywhere in a write's arguments are
checked as recipients and accounts.
"""

from __future__ import annotations

import re
from typing import Any

RISK_KEY = "x-paddock-risk"
KINDS = ("recipient", "destination", "account", "amount", "credential")

_BY_NAME = (
    (
        "recipient",
        re.compile(
            r"^(to|cc|bcc|recipients?|receivers?|emails?|e_?mail_?address(es)?|\w+_emails?|"
            r"reply_to|participants?|attendees?|invitees?|user|users)$"
        ),
    ),
    (
        "destination",
        re.compile(
            r"^(urls?|uri|link|href|host|hostname|domain|website|webhook|callback|endpoint|"
            r"\w+_url|\w+_uri|\w+_domain)$"
        ),
    ),
    (
        "account",
        re.compile(
            r"^(iban|bic|swift|account|account_(number|no|id)|bank_account|\w+_iban|"
            r"routing_number|sort_code|card_number)$"
        ),
    ),
    (
        "amount",
        re.compile(
            r"^(amount|quantity|qty|total|price|unit_price|\w+_amount|\w+_quantity|\w+_price)$"
        ),
    ),
)
_CREDENTIAL = (
    "credential",
    re.compile(
        r"^(password|passphrase|new_password|pin|secret|\w+_secret|token|\w+_token|api_key)$"
    ),
)
_BY_FORMAT = {
    "email": "recipient",
    "idn-email": "recipient",
    "uri": "destination",
    "url": "destination",
    "iri": "destination",
    "hostname": "destination",
    "idn-hostname": "destination",
}


def risk_kind(path: tuple[str | int, ...], schema: Any) -> str | None:
    """The high-risk kind of the argument at ``path`` (``None``: an ordinary argument)."""
    sub = schema if isinstance(schema, dict) else {}
    marked = sub.get(RISK_KEY)
    if isinstance(marked, str):
        return marked if marked in KINDS else None
    fmt = sub.get("format")
    if isinstance(fmt, str) and fmt in _BY_FORMAT:
        return _BY_FORMAT[fmt]
    name = next((p for p in reversed(path) if isinstance(p, str)), None)
    if name is None:
        return None
    lowered = name.lower()
    for kind, pattern in (*_BY_NAME, _CREDENTIAL):
        if pattern.match(lowered):
            return kind
    return None
