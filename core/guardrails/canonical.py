"""Canonical forms for provenance matching: text is cut into typed *atoms* that compare equal
however a value was written.

An atom is a short string with a kind prefix:

- ``e:`` an e-mail address (after undoing ``(at)``/``[dot]`` obfuscations),
- ``u:`` a URL and ``h:`` a host (of a URL or an address, or a bare domain),
- ``i:`` an IBAN (separators removed, mod-97 checked), ``d:`` a digit run of 7 or more
  (phone, account and card numbers, whatever the grouping),
- ``x:`` an identifier with letters and digits (``PO-2024-17`` is ``x:po202417``),
- ``n:`` a number, parsed in the common locale formats (``90,000`` ``90.000`` ``90 000``
  ``90'000`` ``9e4``); an ambiguous form yields every reading,
- ``t:`` a calendar day (``t:05-01``) and ``D:`` a full date (``D:2024-05-01``),
  ``c:`` a clock time,
- ``v:`` a whole short string value (names, channel ids).

Every text is first NFKC-normalised, stripped of format characters (zero-width spaces,
direction marks) and case-folded. ``evidence`` says which atoms are distinctive enough to
say where a value came from: years, small numbers and short ids are not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import urlsplit

SHINGLE = 6
"""Words per window when looking for a stretch of copied free text."""
MIN_ID_CHARS = 5
MIN_DIGITS = 7
MIN_NUMBER = Decimal(100)
"""Numbers below this (ids like 24, amounts like 10.0) are too common to attribute."""
MAX_VALUE_CHARS = 80
"""Whole string values up to this long are kept as ``v:`` atoms."""

_FORMAT = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_AT = re.compile(r"\s*[\(\[\{<]\s*(?:at|@)\s*[\)\]\}>]\s*")
_DOT = re.compile(r"\s*[\(\[\{<]\s*(?:dot|\.)\s*[\)\]\}>]\s*")
_WORD_DOT = re.compile(r"(?<=\w)\s+dot\s+(?=\w)")
_WORD_AT = re.compile(r"(?<=[\w.+-])\s+at\s+(?=[\w-]+\.[\w.-]*[a-z]{2})")
_SPACED_AT = re.compile(r"(?<=[\w.+-])\s*@\s*(?=[\w-])")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>()\[\]{}]+")
_DOMAIN = re.compile(r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])")
_IBAN = re.compile(r"(?<![a-z0-9])[a-z]{2}\d{2}(?:[ .-]?[a-z0-9]){10,32}")
_DIGITS = re.compile(r"(?<![\w.,])\+?\d(?:[ ./()-]{0,2}\d){6,}(?![\w])")
_ID = re.compile(r"(?<![\w-])[a-z0-9]+(?:[-_/.][a-z0-9]+)*(?![\w])")
_NUMBER = re.compile(r"(?<![\w.,'])[-+]?\d(?:[\d.,'\u2019\u00a0\u202f ]*\d)?(?:e[-+]?\d+)?(?![\w])")
_WORDS = re.compile(r"[^\W_]+")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUM_DATE = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})(?![\d.])")
_MON_DAY = re.compile(rf"\b{_MON}\s+{_ORD}\b(?:,?\s+(\d{{4}}))?")
_DAY_MON = re.compile(rf"\b{_ORD}\s+(?:of\s+)?{_MON}(?:,?\s+(\d{{4}}))?")
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::\d{2})?\s*(am|pm)?(?![\d:])")


def clean(text: str) -> str:
    """NFKC, without format characters, case-folded: the form every comparison uses."""
    return _FORMAT.sub("", unicodedata.normalize("NFKC", text)).casefold()


def deobfuscate(text: str) -> str:
    """Undo the usual address obfuscations of cleaned text (``a (at) b (dot) c``)."""
    out = _DOT.sub(".", _AT.sub("@", text))
    out = _WORD_AT.sub("@", _WORD_DOT.sub(".", out))
    return _SPACED_AT.sub("@", out)


def words(text: str) -> list[str]:
    return _WORDS.findall(clean(text))


def shingles(text: str) -> set[int]:
    """Hashes of every ``SHINGLE``-word window of the text (empty for shorter texts)."""
    found = words(text)
    return {hash(" ".join(found[i : i + SHINGLE])) for i in range(len(found) - SHINGLE + 1)}


def value_atom(text: str) -> str:
    return "v:" + " ".join(_WORDS.findall(clean(text)))


@lru_cache(maxsize=16384)
def atoms(text: str) -> frozenset[str]:
    """Every atom of one text (see the module docstring)."""
    base = clean(text)
    found: set[str] = set()
    variants = {base, deobfuscate(base)}
    for variant in variants:
        _addresses(variant, found)
    _identifiers(base, found)
    found.update("n:" + number_key(n) for n in numbers(base))
    found.update(_dates(base))
    if len(base) <= MAX_VALUE_CHARS:
        value = value_atom(base)
        if len(value) > 2:
            found.add(value)
    return frozenset(found)


def number_atom(value: Decimal) -> str:
    return "n:" + number_key(value)


def number_key(value: Decimal) -> str:
    normal = value.normalize()
    return f"{normal:f}"


def evidence(atom: str) -> bool:
    """Whether finding ``atom`` in a source says the value came from there."""
    kind, body = atom[:2], atom[2:]
    if kind == "n:":
        number = Decimal(body)
        if abs(number) < MIN_NUMBER:
            return False
        return not (number == number.to_integral_value() and 1900 <= number <= 2100)
    return kind != "v:"  # whole short values (names, subjects) coincide too easily


def _addresses(text: str, found: set[str]) -> None:
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        found.add("u:" + url)
        host = host_of(url)
        if host:
            found.add("h:" + host)
    for match in _EMAIL.finditer(text):
        address = match.group(0).strip(".")
        found.add("e:" + address)
        found.add("h:" + address.rsplit("@", 1)[1])
    for match in _DOMAIN.finditer(text):
        found.add("h:" + match.group(0))


@lru_cache(maxsize=4096)
def host_of(url: str) -> str | None:
    """The lower-case host of a URL, or ``None``."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _identifiers(text: str, found: set[str]) -> None:
    for match in _IBAN.finditer(text):
        iban = _valid_iban(re.sub(r"[ .-]", "", match.group(0)))
        if iban:
            found.add("i:" + iban)
    for match in _DIGITS.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= MIN_DIGITS:
            found.add("d:" + digits)
    for match in _ID.finditer(text):
        token = match.group(0)
        compact = re.sub(r"[-_/.]", "", token)
        if (
            len(compact) >= MIN_ID_CHARS
            and any(c.isdigit() for c in compact)
            and any(c.isalpha() for c in compact)
        ):
            found.add("x:" + compact)


_IBAN_LENGTHS = {
    "ad": 24, "ae": 23, "al": 28, "at": 20, "az": 28, "ba": 20, "be": 16, "bg": 22, "bh": 22,
    "br": 29, "ch": 21, "cr": 22, "cy": 28, "cz": 24, "de": 22, "dk": 18, "do": 28, "ee": 20,
    "eg": 29, "es": 24, "fi": 18, "fo": 18, "fr": 27, "gb": 22, "ge": 22, "gi": 23, "gl": 18,
    "gr": 27, "hr": 21, "hu": 28, "ie": 22, "il": 23, "is": 26, "it": 27, "jo": 30, "kw": 30,
    "kz": 20, "lb": 28, "li": 21, "lt": 20, "lu": 20, "lv": 21, "mc": 27, "md": 24, "me": 22,
    "mk": 19, "mr": 27, "mt": 31, "mu": 30, "nl": 18, "no": 15, "pk": 24, "pl": 28, "ps": 29,
    "pt": 25, "qa": 29, "ro": 24, "rs": 22, "sa": 24, "se": 24, "si": 19, "sk": 24, "sm": 27,
    "tn": 24, "tr": 26, "ua": 29, "vg": 24, "xk": 20,
}  # fmt: skip
"""IBAN length by country: a registry's fixed length, so a checksum never spans into the
words that follow an IBAN."""


def _valid_iban(compact: str) -> str | None:
    known = _IBAN_LENGTHS.get(compact[:2])
    if known is not None:
        return compact[:known] if len(compact) >= known and _mod97(compact[:known]) else None
    for end in range(min(len(compact), 34), 14, -1):
        candidate = compact[:end]
        if _mod97(candidate):
            return candidate
    return None


def _mod97(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    try:
        digits = "".join(str(int(ch, 36)) for ch in moved)
    except ValueError:
        return False
    return int(digits) % 97 == 1


def numbers(text: str) -> set[Decimal]:
    """Every reading of every number in (cleaned) text."""
    found: set[Decimal] = set()
    for match in _NUMBER.finditer(text):
        found.update(_readings(match.group(0)))
    return found


def _readings(token: str) -> Iterator[Decimal]:
    token = token.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    pieces = token.split(" ")
    if len(pieces) > 1:
        if all(len(p) == 3 and p.isdigit() for p in pieces[1:]) and _grouped_head(pieces[0]):
            yield from _readings("".join(pieces))
        for piece in pieces:
            if piece:
                yield from _readings(piece)
        return
    token = token.replace("'", "")
    sign = -1 if token.startswith("-") else 1
    token = token.lstrip("+-")
    if "e" in token:
        yield from _decimal(token, sign)
        return
    dots, commas = token.count("."), token.count(",")
    if dots and commas:
        decimal_sep = "." if token.rfind(".") > token.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        head, _, tail = token.rpartition(decimal_sep)
        if _groups_ok(head, thousands):
            yield from _decimal(head.replace(thousands, "") + "." + tail, sign)
        return
    sep = "." if dots else "," if commas else ""
    if not sep:
        yield from _decimal(token, sign)
        return
    parts = token.split(sep)
    if (len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3)) and _groups_ok(token, sep):
        yield from _decimal(token.replace(sep, ""), sign)
    if len(parts) == 2:
        yield from _decimal(parts[0] + "." + parts[1], sign)


def _grouped_head(head: str) -> bool:
    return head.isdigit() and 1 <= len(head) <= 3


def _groups_ok(text: str, sep: str) -> bool:
    groups = text.split(sep)
    return _grouped_head(groups[0]) and all(len(g) == 3 and g.isdigit() for g in groups[1:])


def _decimal(text: str, sign: int) -> Iterator[Decimal]:
    try:
        number = Decimal(text) * sign
    except (InvalidOperation, ValueError):
        return
    if number.is_finite() and abs(number) < Decimal("1e18"):
        yield number


def _dates(text: str) -> Iterator[str]:
    for y, m, d in _ISO_DATE.findall(text):
        yield from _day(int(y), int(m), int(d))
    for a, b, y in _NUM_DATE.findall(text):
        year = int(y) + (2000 if len(y) == 2 else 0)
        yield from _day(year, int(b), int(a))
        yield from _day(year, int(a), int(b))
    for mon, d, y in _MON_DAY.findall(text):
        yield from _day(int(y) if y else None, _MONTHS[mon], int(d))
    for d, mon, y in _DAY_MON.findall(text):
        yield from _day(int(y) if y else None, _MONTHS[mon], int(d))
    for h, mi, half in _TIME.findall(text):
        hour = int(h) % 12 + (12 if half == "pm" else 0) if half else int(h)
        if hour < 24 and int(mi) < 60:
            yield f"c:{hour:02d}:{mi}"


def _day(year: int | None, month: int, day: int) -> Iterator[str]:
    try:
        date(year or 2000, month, day)  # 2000: a leap year, so 29 February is a day
    except ValueError:
        return
    yield f"t:{month:02d}-{day:02d}"
    if year is not None:
        yield f"D:{year:04d}-{month:02d}-{day:02d}"
