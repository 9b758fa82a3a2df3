"""Parse OCR'd tokens: amounts, dates, currencies and identifiers, forgiving OCR's confusions."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

# OCR reads these for one another in identifiers (I/l/1, O/0, ...); the cost of swapping them
# is small in match_po_number, any other substitution costs 1.
CONFUSABLE = [set("I1L|"), set("O0DQ"), set("S5"), set("B8"), set("Z2"), set("G6")]
TO_DIGIT = {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "L": "1",
            "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"}
TO_LETTER = {"0": "O", "1": "I", "l": "I", "|": "I", "5": "S", "8": "B", "2": "Z"}
NEUTRAL = set("OoIl|01")  # characters that take the kind (letter or digit) of their neighbours
PO_SHAPE = re.compile(r"^[A-Z0-9]{8}$")
ASIN_SHAPE = re.compile(r"^(B0[A-Z0-9]{8}|\d{9}[0-9X])$")

MONTHS = {m: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for m in names}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?" \
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE_PATTERNS = (
    ("ymd", re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")),
    ("dmy?", re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})(?!\d)")),
    ("mdy", re.compile(_MONTH + r"\.?\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})", re.I)),
    ("dmy", re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s*[- ]?\s*" + _MONTH + r"\.?\s*[-,]?\s*(\d{4})",
                       re.I)),
)

# Longest first, so "US$" wins over "$" and "CNY" over "¥".
CURRENCY_SIGNS = (("US$", "USD"), ("CA$", "CAD"), ("C$", "CAD"), ("A$", "AUD"), ("AU$", "AUD"),
                  ("MX$", "MXN"), ("R$", "BRL"), ("S$", "SGD"), ("RMB", "CNY"), ("人民币", "CNY"),
                  ("円", "JPY"), ("元", "CNY"), ("€", "EUR"), ("£", "GBP"), ("₹", "INR"),
                  ("￥", "CNY"), ("¥", "CNY"), ("$", "USD"))
CURRENCY_CODES = ("USD", "EUR", "GBP", "CNY", "JPY", "CAD", "AUD", "MXN", "BRL", "INR", "SGD",
                  "AED", "SEK", "PLN", "TRY", "SAR", "EGP", "HKD", "CHF")
_CODE = re.compile(r"(?<![A-Z])(" + "|".join(CURRENCY_CODES) + r")(?![A-Z])")
_AMOUNT = re.compile(r"[-(]?\d[\d,.'\u00a0]*")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")


def fix_kinds(token: str) -> str:
    """Give each confusable character the kind of its neighbours: "lNV-2O26" -> "INV-2026"."""
    return "".join(_fix_segment(part) for part in re.split(r"([-/_. ])", token))


def _fix_segment(segment: str) -> str:
    letters = [i for i, c in enumerate(segment) if c.isalpha() and c not in NEUTRAL]
    digits = [i for i, c in enumerate(segment) if c.isdigit() and c not in NEUTRAL]
    chars = list(segment)
    for i, ch in enumerate(segment):
        if ch not in NEUTRAL:
            continue
        if letters and digits and max(letters) < min(digits):
            # A letter prefix then a number ("INV2O26", "A1O43972"): the number starts at the
            # first character after the last sure letter.
            kind = "letter" if i < max(letters) else "digit"
        elif letters and not digits:
            kind = "letter"
        elif digits and not letters:
            kind = "digit"
        else:
            left = next((segment[j] for j in reversed(range(i)) if segment[j] not in NEUTRAL), "")
            right = next((c for c in segment[i + 1:] if c not in NEUTRAL), "")
            kinds = {"digit" if c.isdigit() else "letter" for c in (left, right) if c}
            kind = kinds.pop() if len(kinds) == 1 else None
        if kind == "digit":
            chars[i] = TO_DIGIT.get(ch, ch)
        elif kind == "letter":
            chars[i] = TO_LETTER.get(ch, ch).upper()
    return "".join(chars)


def clean_identifier(text: str) -> str:
    """An invoice number as printed: first token, OCR confusions fixed from context."""
    token = text.strip().strip(":：#.,;").split()[0] if text.strip() else ""
    return fix_kinds(token.strip(":：#.,;"))


def _upper_token(text: str) -> str:
    """Capitals of an identifier; a lone "l" among capitals is an I read in lower case."""
    token = re.sub(r"[\s\-_.:：#]", "", text).replace("|", "I")
    if not any(c.islower() for c in token.replace("l", "")):
        token = token.replace("l", "I")
    return token.upper()


def normalize_po(text: str) -> str | None:
    """An Amazon PO number (8 capitals and digits) from OCR text, or None."""
    token = _upper_token(text)
    return token if PO_SHAPE.match(token) else None


def normalize_asin(text: str) -> str | None:
    """An ASIN (B0 + 8, or an ISBN-10) from OCR text, or None."""
    token = re.sub(r"[\s\-_.]", "", text).upper()
    if token[:2] in ("BO", "8O", "80", "B0"):
        token = "B0" + token[2:]
    return token if ASIN_SHAPE.match(token) else None


def _char_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return 0.25 if any(a in group and b in group for group in CONFUSABLE) else 1.0


def po_distance(candidate: str, known: str) -> float:
    """Edit distance where OCR confusions (I/1, O/0, ...) cost a quarter."""
    previous = [float(j) for j in range(len(known) + 1)]
    for i, a in enumerate(candidate, start=1):
        current = [float(i)]
        for j, b in enumerate(known, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + _char_cost(a, b)))
        previous = current
    return previous[-1]


def confusion_pattern(token: str) -> str:
    """A SQL LIKE pattern for every spelling OCR could confuse with `token` ("2OK" -> "__K")."""
    return "".join("_" if any(c in g for g in CONFUSABLE) else c for c in token.upper())


def match_po_number(candidate: str | None, known_numbers) -> str | None:
    """The known PO number the OCR'd `candidate` most plausibly is, or None when unclear.

    Accepted when the distance (confusions cost 0.25, other edits 1) is at most 1 and no other
    known number is as close.
    """
    return match_identifier(candidate, known_numbers)


def match_identifier(candidate: str | None, known) -> str | None:
    """The closest of `known` identifiers (PO numbers, ASINs) to an OCR'd one, if unambiguous."""
    if not candidate:
        return None
    token = _upper_token(candidate)
    scored = sorted((po_distance(token, k.upper()), k) for k in set(known) if k)
    if not scored or scored[0][0] > 1.0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]


def parse_amount(text: str) -> Decimal | None:
    """The last amount in `text` as a Decimal: "$1,234.50", "1.234,50 €", "USD1234" -> Decimal."""
    text = _PERCENT.sub(" ", text)
    # Digits misread as letters inside a number ("1,2O4.5O"); letters elsewhere stay.
    text = re.sub(r"(?<=[\d,.])[OoD](?=[\d,.]|$)|(?<=[\d,.])[Il|](?=[\d,.])",
                  lambda m: TO_DIGIT[m.group()], text)
    found = [m.group().strip() for m in _AMOUNT.finditer(text)]
    found = [f for f in found if any(c.isdigit() for c in f)]
    if not found:
        return None
    raw = found[-1]
    negative = raw.startswith(("-", "("))
    digits = re.sub(r"[^\d,.]", "", raw)
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    decimal_sep = None
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        # "1,234" groups thousands; "12,50" is a decimal comma.
        decimal_sep = "," if len(digits) - last_comma - 1 in (1, 2) else None
    elif last_dot >= 0:
        decimal_sep = "." if digits.count(".") == 1 else None  # "1.234.567" groups
    if decimal_sep:
        whole, _, frac = digits.rpartition(decimal_sep)
        whole = re.sub(r"[^\d]", "", whole)
        number = f"{whole or '0'}.{frac}"
    else:
        number = re.sub(r"[^\d]", "", digits)
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return -value if negative else value


def parse_date(text: str, prefer_month_first: bool = False) -> tuple[date, float] | None:
    """The first date in `text` and how sure the reading is (day/month order can be unclear)."""
    for kind, pattern in DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        a, b, c = match.groups()
        certainty = 1.0
        try:
            if kind == "ymd":
                return date(int(a), int(b), int(c)), certainty
            if kind == "mdy":
                return date(int(c), MONTHS[a.lower()], int(b)), certainty
            if kind == "dmy":
                return date(int(c), MONTHS[b.lower()], int(a)), certainty
            year = int(c) + (2000 if len(c) == 2 else 0)
            first, second = int(a), int(b)
            if first > 12 or (second <= 12 and not prefer_month_first):
                day, month = first, second
            else:
                day, month = second, first
            if first <= 12 and second <= 12 and first != second:
                certainty = 0.5  # 03/04/2026: April 3 or March 4?
            return date(year, month, day), certainty
        except (ValueError, KeyError):
            continue
    return None


def find_currency(text: str) -> tuple[str, float] | None:
    """An ISO currency from a code (sure) or a sign (less sure: "$" is several currencies)."""
    match = _CODE.search(text.upper())
    if match:
        return match.group(1), 0.95
    for sign, code in CURRENCY_SIGNS:
        if sign in text:
            return code, 0.9 if len(sign) > 1 else 0.7
    return None
