"""4x6 inch carton and pallet labels as one PDF: ship-from/ship-to, POs, n of N, GS1-128 SSCC.

The layout follows the GS1 logistic label: free text on top, the SSCC barcode at the bottom.
The barcode is reportlab's Code 128 with FNC1 in first position (which makes it GS1-128)
followed by AI (00) and the 18 digits; X-dimension 0.02 in (0.508 mm) and bar height 1.25 in,
inside GS1's ranges for logistic labels (X 0.495-1.016 mm, height at least 31.75 mm).

Label wording is English on purpose: it is read by carriers and Amazon's receiving docks, not
by the vendor's users, and Amazon's carton label requirements are in English.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from webapp.shipments.sscc import format_sscc, is_valid_sscc

PAGE_WIDTH, PAGE_HEIGHT = 4 * inch, 6 * inch
MARGIN = 12
X_DIMENSION = 0.02 * inch
BAR_HEIGHT = 1.25 * inch
FNC1 = "\xf1"  # reportlab's Code128 spelling of the FNC1 function character
CJK_FONT = "STSong-Light"  # Adobe's standard CID font: Chinese names and addresses, no embedding
MAX_LABELS = 2000


class LabelError(ValueError):
    """Label data that would print a wrong or unreadable label."""


@dataclass(frozen=True)
class LabelParty:
    """A ship-from or ship-to block: a name, address lines, and a party code if any."""

    name: str
    address_lines: tuple[str, ...] = ()
    code: str | None = None  # Amazon party id, e.g. the warehouse code "ABE2"

    @classmethod
    def from_amazon(cls, party: Mapping | None, default_name: str = "") -> LabelParty:
        """Build from a vendorOrders PartyIdentification ({partyId, address{...}})."""
        party = party or {}
        address = party.get("address") or {}
        city_line = " ".join(p for p in (
            address.get("city"), address.get("stateOrRegion"), address.get("postalCode"),
        ) if p)
        lines = [address.get(k) for k in ("addressLine1", "addressLine2", "addressLine3")]
        lines += [city_line, address.get("countryCode")]
        return cls(name=address.get("name") or default_name or party.get("partyId") or "",
                   address_lines=tuple(str(x) for x in lines if x),
                   code=party.get("partyId"))


@dataclass(frozen=True)
class LabelData:
    """One label: one carton or pallet of a shipment."""

    sscc: str
    ship_from: LabelParty
    ship_to: LabelParty
    po_numbers: tuple[str, ...]
    number: int  # this carton's (or pallet's) position, 1-based
    total: int  # cartons (or pallets) in the shipment
    kind: str = "carton"  # "carton" or "pallet"
    company_prefix_length: int | None = None  # groups the human-readable SSCC
    shipment_identifier: str | None = None
    carrier: str | None = None  # SCAC or carrier name
    bill_of_lading: str | None = None
    tracking_number: str | None = None
    contents: tuple[str, ...] = ()  # a few short lines, e.g. "B07XYZ1234 x 24"


def render_labels_pdf(labels: Sequence[LabelData]) -> bytes:
    """Render one 4x6 inch page per label; return the PDF bytes (serve as application/pdf)."""
    if not labels:
        raise LabelError("no labels to print")
    if len(labels) > MAX_LABELS:
        raise LabelError(f"at most {MAX_LABELS} labels in one PDF")
    for label in labels:
        _check(label)
    out = io.BytesIO()
    # invariant=1: no timestamps or random ids, so the same labels give the same bytes.
    pdf = canvas.Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1,
                        pageCompression=1)
    pdf.setTitle("Carton labels" if len(labels) > 1 else f"Label {labels[0].sscc}")
    pdf.setAuthor("ACORN")
    for label in labels:
        _draw_label(pdf, label)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _check(label: LabelData) -> None:
    if not is_valid_sscc(label.sscc):
        raise LabelError(f"not a valid SSCC: {label.sscc!r}")
    if label.kind not in ("carton", "pallet"):
        raise LabelError(f"a label is for a carton or a pallet, not {label.kind!r}")
    if not 1 <= label.number <= label.total:
        raise LabelError(f"{label.kind} {label.number} of {label.total} is impossible")


def _font(text: str, bold: bool = False) -> str:
    """Helvetica for Latin text; Adobe's CID Song font for anything Helvetica cannot show."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT
    return "Helvetica-Bold" if bold else "Helvetica"


def _text(pdf, x: float, y: float, text: str, size: float, bold: bool = False,
          max_width: float | None = None) -> None:
    """Draw one line, shrunk to fit `max_width` (never below 6 pt, then cut)."""
    font = _font(text, bold)
    if max_width is not None:
        while size > 6 and pdfmetrics.stringWidth(text, font, size) > max_width:
            size -= 0.5
        while text and pdfmetrics.stringWidth(text, font, size) > max_width:
            text = text[:-2] + "…" if len(text) > 1 else ""
    pdf.setFont(font, size)
    pdf.drawString(x, y, text)


def _lines(pdf, x: float, top: float, lines: Sequence[str], size: float, width: float,
           max_lines: int) -> None:
    """Draw wrapped lines from `top` down, at most `max_lines`."""
    wrapped: list[str] = []
    for line in lines:
        wrapped += simpleSplit(line, _font(line), size, width) or [""]
    for i, line in enumerate(wrapped[:max_lines]):
        _text(pdf, x, top - (i + 1) * (size + 1.5), line, size, max_width=width)


def _caption(pdf, x: float, y: float, text: str) -> None:
    pdf.setFont("Helvetica-Bold", 6.5)
    pdf.drawString(x, y, text)


def _rule(pdf, y: float) -> None:
    pdf.setLineWidth(0.8)
    pdf.line(MARGIN / 2, y, PAGE_WIDTH - MARGIN / 2, y)


def _party(pdf, x: float, top: float, width: float, title: str, party: LabelParty,
           max_lines: int) -> None:
    _caption(pdf, x, top - 8, title)
    _text(pdf, x, top - 19, party.name, 9, bold=True, max_width=width)
    _lines(pdf, x, top - 21, party.address_lines, 8, width, max_lines)


def _draw_label(pdf, label: LabelData) -> None:
    left, mid, right = MARGIN, PAGE_WIDTH / 2 + 4, PAGE_WIDTH - MARGIN
    half = PAGE_WIDTH / 2 - MARGIN - 6
    top = PAGE_HEIGHT - MARGIN / 2

    # Ship from / ship to.
    _party(pdf, left, top, half, "SHIP FROM", label.ship_from, max_lines=6)
    _party(pdf, mid, top, half, "SHIP TO", label.ship_to, max_lines=6)
    pdf.setLineWidth(0.8)
    pdf.line(PAGE_WIDTH / 2, top - 96, PAGE_WIDTH / 2, top)
    y = top - 100
    _rule(pdf, y)

    # Destination code and transport.
    _caption(pdf, left, y - 9, "DESTINATION")
    _text(pdf, left, y - 38, label.ship_to.code or "", 26, bold=True, max_width=half)
    transport = [("CARRIER", label.carrier), ("BOL", label.bill_of_lading),
                 ("PRO / TRACKING", label.tracking_number),
                 ("SHIPMENT", label.shipment_identifier)]
    row = y - 9
    for title, value in transport:
        if value:
            _caption(pdf, mid, row, title)
            _text(pdf, mid + 52, row, value, 8, bold=True, max_width=right - mid - 52)
            row -= 11
    y -= 50
    _rule(pdf, y)

    # Purchase orders and "n of N".
    _caption(pdf, left, y - 9, "PO NUMBERS" if len(label.po_numbers) > 1 else "PO NUMBER")
    _lines(pdf, left, y - 11, [", ".join(label.po_numbers)], 11, half, max_lines=3)
    _caption(pdf, mid, y - 9, label.kind.upper())
    _text(pdf, mid, y - 36, f"{label.number} of {label.total}", 22, bold=True, max_width=half)
    y -= 56
    _rule(pdf, y)

    # Contents, if given.
    if label.contents:
        _caption(pdf, left, y - 9, "CONTENTS")
        _lines(pdf, left, y - 11, label.contents, 8, right - left, max_lines=4)

    # SSCC: data title, human-readable text and the GS1-128 symbol.
    barcode = Code128(FNC1 + "00" + label.sscc, barWidth=X_DIMENSION, barHeight=BAR_HEIGHT,
                      humanReadable=False, quiet=True)
    human = format_sscc(label.sscc, label.company_prefix_length)
    y = MARGIN + 16 + BAR_HEIGHT + 8
    _rule(pdf, y + 30)
    _caption(pdf, left, y + 21, "SSCC")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString(PAGE_WIDTH / 2, y + 4, human)
    barcode.drawOn(pdf, (PAGE_WIDTH - barcode.width) / 2, MARGIN + 16)
    pdf.setFont("Helvetica", 9)
    pdf.drawCentredString(PAGE_WIDTH / 2, MARGIN + 4, human)
