"""Find an invoice's fields in OCR'd text lines: labels, the values beside them, the item table."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from decimal import Decimal

from webapp.invoices.reading import (
    clean_identifier,
    find_currency,
    match_po_number,
    normalize_asin,
    normalize_po,
    parse_amount,
    parse_date,
)

FIELDS = ("invoice_number", "invoice_date", "purchase_order_number", "currency", "subtotal",
          "tax_amount", "total_amount", "lines")
# Label patterns, tolerant to OCR dropping spaces; earlier patterns of a field rank higher.
LABELS = {
    "invoice_number": [r"[il1|]nv(?:oice)?\s*(?:no\b\.?|number|num\b|#|id\b)"
                       r"|发票号码|发票号|发票编号"],
    "invoice_date": [r"[il1|]nv(?:oice)?\s*date|开票日期|发票日期",
                     r"(?<![a-z])date(?![a-z])|日期"],
    "purchase_order_number": [
        r"(?:purchase\s*order|(?<![a-z])p\.?\s*o\.?)\s*(?:no\b\.?|number|num\b|#)|采购订单号?",
        r"purchase\s*order|(?<![a-z])p\.?\s*o(?![a-z])(?!\.?\s*box)|订单号",
    ],
    "currency": [r"currency|币种|货币"],
    "total_amount": [r"total\s*due|amount\s*due|balance\s*due|grand\s*total|invoice\s*total"
                     r"|total\s*amount|价税合计|应付金额|总计|合计",
                     r"(?<!sub)(?<!sub-)(?<!sub )total(?!\s*(?:qty|quantity|units|before))"],
    "tax_amount": [r"(?<!before )(?<!before)"
                   r"(?:(?:sales\s*|vat\s*|gst\s*)?tax|(?<![a-z])(?:vat|gst))(?!\s*(?:id|no\b|number|reg|#|able))|税额|税金"],
    "subtotal": [r"sub\s*-?\s*total|net\s*amount|total\s*before\s*tax|小计|不含税金额"],
}
ID_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_.|]{2,}")
TABLE_HEADERS = {
    "item": r"asin|sku|item\s*(?:no|code|#)?|model|product\s*code|货号|商品编码",
    "quantity": r"qty|quantity|units|数量",
    "unit_cost": r"unit\s*(?:cost|price)|price|cost|单价",
    "amount": r"amount|line\s*total|ext(?:ended)?|total|金额",
}


@dataclass
class Box:
    """A text line with its position on the deskewed page."""

    text: str
    confidence: float
    x: float  # centre, after deskew
    y: float
    left: float
    right: float
    height: float


def _as_boxes(lines) -> list[Box]:
    """Accept TextLine objects, their dicts, or plain strings (one per row, for tests)."""
    raw = []
    for i, line in enumerate(lines):
        if isinstance(line, str):
            raw.append((line, 1.0, [(0, i * 40), (20 * len(line), i * 40),
                                    (20 * len(line), i * 40 + 30), (0, i * 40 + 30)]))
        elif isinstance(line, dict):
            raw.append((line["text"], float(line.get("confidence", 1.0)), line["box"]))
        else:
            raw.append((line.text, float(line.confidence), line.box))
    angles = [math.atan2(b[1][1] - b[0][1], b[1][0] - b[0][0]) for _t, _c, b in raw
              if math.dist(b[0], b[1]) > 2 * math.dist(b[0], b[3])]
    skew = statistics.median(angles) if angles else 0.0
    cos, sin = math.cos(-skew), math.sin(-skew)
    boxes = []
    for text, confidence, box in raw:
        points = [(x * cos - y * sin, x * sin + y * cos) for x, y in box]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append(Box(text.strip(), confidence, sum(xs) / 4, sum(ys) / 4, min(xs), max(xs),
                         max(ys) - min(ys)))
    return [b for b in boxes if b.text]


def _field(value=None, confidence: float = 0.0, **extra) -> dict:
    return {"value": value, "confidence": round(min(max(confidence, 0.0), 1.0), 3), **extra}


def _same_row(a: Box, b: Box) -> bool:
    return abs(a.y - b.y) <= 0.6 * max(a.height, b.height)


def _candidates(boxes: list[Box], field: str, below: bool):
    """(rank, label box, text after the label, value boxes to try), best rank first."""
    found = []
    for rank, pattern in enumerate(LABELS[field]):
        for box in boxes:
            match = re.search(pattern, box.text, re.I)
            if not match:
                continue
            rest = box.text[match.end():].lstrip(" :：.#")
            right = sorted((b for b in boxes if b is not box and _same_row(box, b)
                            and b.left >= box.right - box.height), key=lambda b: b.left)
            under = sorted((b for b in boxes if b.y > box.y
                            and b.y - box.y < 2.5 * box.height and b.right > box.left
                            and b.left < box.right), key=lambda b: b.y) if below else []
            found.append((rank, box, rest, right[:1] + under[:1]))
    return found


def _labelled(boxes, field, parse, below=True):
    """The first label of `field` with a value `parse` accepts: (value, confidence, rank)."""
    for rank, box, rest, neighbours in _candidates(boxes, field, below):
        if rest:
            value = parse(rest)
            if value is not None:
                return value, box.confidence, rank
        for other in neighbours:
            value = parse(other.text)
            if value is not None:
                return value, min(box.confidence, other.confidence) * 0.97, rank
    return None


def _invoice_number(boxes):
    def parse(text):
        match = ID_VALUE.search(text)
        if not match or not any(c.isdigit() for c in match.group()):
            return None
        return clean_identifier(match.group())

    found = _labelled(boxes, "invoice_number", parse)
    return _field(found[0], found[1] * (0.98 - 0.1 * found[2])) if found else _field()


def _po_number(boxes, known):
    found = _labelled(boxes, "purchase_order_number", normalize_po)
    if known:
        if found:
            matched = match_po_number(found[0], known)
            if matched:
                return _field(matched, found[1] * (1.0 if matched == found[0] else 0.9),
                              read=found[0])
        # No label, or its value is none of ours: any token that is one of the vendor's POs.
        for box in boxes:
            for token in re.findall(r"[A-Za-z0-9|]+", box.text):
                token = normalize_po(token)
                if token and token in known:
                    return _field(token, box.confidence * 0.8, read=token)
    if not found:
        return _field()
    ambiguous = sum(c in "IO01L" for c in found[0])
    return _field(found[0], found[1] * (0.95 - 0.1 * found[2]) * 0.97 ** ambiguous)


def _date(boxes, prefer_month_first):
    found = _labelled(boxes, "invoice_date", lambda t: parse_date(t, prefer_month_first))
    if found:
        (day, certainty), confidence, rank = found
        return _field(day.isoformat(), confidence * certainty * (0.98 - 0.15 * rank))
    for box in boxes:  # an unlabelled date is probably the invoice's, but less surely
        parsed = parse_date(box.text, prefer_month_first)
        if parsed:
            return _field(parsed[0].isoformat(), box.confidence * parsed[1] * 0.6)
    return _field()


def _currency(boxes):
    found = _labelled(boxes, "currency", find_currency)
    if found:
        (code, certainty), confidence, _rank = found
        return _field(code, confidence * max(certainty, 0.9))
    codes = [c for c in (find_currency(b.text) for b in boxes) if c]
    if codes:
        code, certainty = max(codes, key=lambda c: c[1])
        return _field(code, certainty * 0.9)
    return _field()


def _amount(boxes, field):
    found = _labelled(boxes, field, parse_amount, below=False)
    if not found:
        return _field()
    value, confidence, rank = found
    return _field(str(value), confidence * (0.9 - 0.15 * rank))


def _table(boxes):
    """Item lines under a header row naming at least quantity and unit cost columns."""
    for header in boxes:
        row = sorted((b for b in boxes if _same_row(header, b)), key=lambda b: b.x)
        columns: list[tuple[str, Box]] = []
        for box in row:
            name = next((n for n, pattern in TABLE_HEADERS.items() if re.fullmatch(
                rf"\s*(?:{pattern})\s*[:.]?\s*", box.text, re.I)), "other")
            taken = {n for n, _b in columns}
            columns.append((name if name not in taken else "other", box))
        names = {n for n, _b in columns}
        if {"quantity", "unit_cost"} <= names:
            return _table_rows(boxes, header, columns)
    return None


def _column_of(box: Box, columns) -> str:
    """The header column a cell sits under: the most overlap, else the nearest centre."""
    def overlap(head: Box) -> float:
        return min(box.right, head.right) - max(box.left, head.left)

    best = max(columns, key=lambda c: (overlap(c[1]), -abs(c[1].x - box.x)))
    if overlap(best[1]) <= 0:
        best = min(columns, key=lambda c: abs(c[1].x - box.x))
    return best[0]


def _table_rows(boxes, header, columns):
    end = min((b.y for b in boxes if b.y > header.y and re.search(
        LABELS["subtotal"][0] + "|" + LABELS["total_amount"][0] + "|total", b.text, re.I)),
        default=math.inf)
    body = sorted((b for b in boxes if header.y + 0.6 * header.height < b.y < end),
                  key=lambda b: b.y)
    rows: list[list[Box]] = []
    for box in body:
        if rows and abs(box.y - statistics.mean(b.y for b in rows[-1])) <= 0.6 * box.height:
            rows[-1].append(box)
        else:
            rows.append([box])
    items = []
    for row in rows:
        cells: dict[str, Box] = {}
        for box in sorted(row, key=lambda b: b.x):
            cells.setdefault(_column_of(box, columns), box)
        item = _table_item(row, cells)
        if item:
            items.append(item)
    return items or None


def _table_item(row, cells):
    asin = next((a for a in (normalize_asin(b.text) for b in row) if a), None)
    sku = None if asin or "item" not in cells else clean_identifier(cells["item"].text)
    qty_text = cells["quantity"].text if "quantity" in cells else ""
    quantity = re.sub(r"[^\d]", "", qty_text.replace("O", "0").replace("o", "0"))
    unit_cost = parse_amount(cells["unit_cost"].text) if "unit_cost" in cells else None
    amount = parse_amount(cells["amount"].text) if "amount" in cells else None
    if not quantity or unit_cost is None or not (asin or sku):
        return None
    used = [cells[n].confidence for n in ("quantity", "unit_cost", "amount") if n in cells]
    adds_up = amount is not None and (unit_cost * int(quantity)).quantize(
        Decimal("0.01")) == amount.quantize(Decimal("0.01"))
    return {"asin": asin, "vendor_sku": sku, "quantity": int(quantity),
            "unit_cost": str(unit_cost), "amount": None if amount is None else str(amount),
            "confidence": round(min(used) * (1.0 if adds_up else 0.6), 3)}


def _cross_check(fields: dict) -> None:
    """Totals that add up (lines = subtotal, subtotal + tax = total) are surely read right."""
    def value(name):
        v = fields[name]["value"]
        return None if v is None else Decimal(v)

    subtotal, tax, total = value("subtotal"), value("tax_amount"), value("total_amount")
    if None not in (subtotal, tax, total) and subtotal + tax == total:
        for name in ("subtotal", "tax_amount", "total_amount"):
            fields[name]["confidence"] = max(fields[name]["confidence"], 0.99)
    lines = fields["lines"]
    if lines and subtotal is not None and all(line["amount"] for line in lines):
        if sum(Decimal(line["amount"]) for line in lines) == subtotal:
            for line in lines:
                line["confidence"] = max(line["confidence"], 0.95)


def extract_invoice_fields(lines, known_po_numbers=None) -> dict:
    """Each invoice field as {"value", "confidence" 0..1}; value None when not found.

    "lines" is a list of {asin, vendor_sku, quantity, unit_cost, amount, confidence} (None
    without an item table). `lines` are OCR text lines (TextLine, their dicts, or plain
    strings one per row). With the vendor's `known_po_numbers`, the PO number read is matched
    to the closest of them.
    """
    boxes = _as_boxes(lines)
    known = set(known_po_numbers or ())
    currency = _currency(boxes)
    fields = {
        "invoice_number": _invoice_number(boxes),
        "invoice_date": _date(boxes, prefer_month_first=currency["value"] == "USD"),
        "purchase_order_number": _po_number(boxes, known),
        "currency": currency,
        "subtotal": _amount(boxes, "subtotal"),
        "tax_amount": _amount(boxes, "tax_amount"),
        "total_amount": _amount(boxes, "total_amount"),
    }
    fields["lines"] = _table(boxes)
    _cross_check(fields)
    return fields
