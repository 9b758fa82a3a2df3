"""The dispute pack: one PDF with the ASN, gaps, cartons and SSCCs, labels, photos, carrier proof.

Written in English like the labels: it goes to Amazon's Vendor Central support, not to users.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from webapp.shipments.evidence import photo_bytes
from webapp.shipments.models import Shipment
from webapp.shipments.printing import labels_pdf
from webapp.shipments.receipts import item_gaps
from webapp.shipments.sscc import format_sscc

MARGIN = 18 * mm
LINE = 14
KIND_TITLES = {"truck": "Loaded truck", "pallet_label": "Pallet label",
               "bol": "Signed bill of lading", "other": "Evidence"}


class _Writer:
    """Lines of text top to bottom, starting a new page when one is full."""

    def __init__(self, pdf: canvas.Canvas) -> None:
        self.pdf = pdf
        self.width, self.height = A4
        self.y = self.height - MARGIN

    def line(self, text: str, size: int = 10, bold: bool = False, indent: float = 0) -> None:
        if self.y < MARGIN + LINE:
            self.pdf.showPage()
            self.y = self.height - MARGIN
        self.pdf.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.pdf.drawString(MARGIN + indent, self.y, text[:110])
        self.y -= LINE + (size - 10)

    def gap(self) -> None:
        self.y -= LINE / 2


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _summary(pdf: canvas.Canvas, shipment: Shipment) -> None:
    w = _Writer(pdf)
    w.line(f"Shortage dispute - shipment {shipment.shipment_identifier}", 16, bold=True)
    w.gap()
    for label, value in (
        ("Selling party", shipment.selling_party_id), ("Ship to", shipment.ship_to_party_id),
        ("ASN status", shipment.status), ("ASN sent", _when(shipment.asn_submitted_at)),
        ("Shipped", _when(shipment.shipped_at)),
        ("Estimated delivery", _when(shipment.estimated_delivery_at)),
        ("Shipment type", shipment.shipment_type), ("Transport", shipment.transport_mode),
        ("Carrier SCAC", shipment.carrier_scac), ("Bill of lading", shipment.bill_of_lading),
        ("Tracking / PRO", shipment.tracking_number),
    ):
        w.line(f"{label}: {value or '-'}")
    w.gap()
    w.line("Items: shipped versus received (eaches)", 12, bold=True)
    for gap in item_gaps(shipment):
        line = gap.item.line
        received = "not yet received" if gap.received is None else str(gap.received)
        w.line(f"PO {line.purchase_order.po_number} line {line.item_sequence_number} "
               f"{line.asin or ''} {line.vendor_sku or ''}: shipped {gap.shipped}, "
               f"received {received}, short {gap.gap}", indent=6)
    w.gap()
    cartons = [c for c in shipment.cartons if not c.excluded]
    w.line(f"Cartons ({len(cartons)}) and SSCCs", 12, bold=True)
    for carton in cartons:
        contents = ", ".join(
            f"{c.item.line.asin or c.item.line.vendor_sku} x {c.quantity} {c.unit_of_measure}"
            for c in carton.contents)
        scanned = f"loaded (scanned {_when(carton.scanned_at)})" if carton.scanned_at \
            else "not scanned"
        w.line(f"{carton.sequence_number:03d}  {format_sscc(carton.sscc)}  {contents}  "
               f"[{scanned}]", 9, indent=6)
    for pallet in shipment.pallets:
        w.line(f"Pallet {pallet.sequence_number:03d}  {format_sscc(pallet.sscc)}  "
               f"{len(pallet.cartons)} cartons", 9, indent=6)
    w.gap()
    w.line(f"Evidence photos attached: {len(shipment.photos)}", 12, bold=True)
    pdf.showPage()


def _photos(pdf: canvas.Canvas, shipment: Shipment) -> None:
    width, height = A4
    for photo in shipment.photos:
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(MARGIN, height - MARGIN, f"{KIND_TITLES.get(photo.kind, 'Evidence')} - "
                       f"uploaded {_when(photo.created_at)}")
        image = ImageReader(io.BytesIO(photo_bytes(photo)))
        iw, ih = image.getSize()
        box_w, box_h = width - 2 * MARGIN, height - 3 * MARGIN
        scale = min(box_w / iw, box_h / ih)
        pdf.drawImage(image, MARGIN, height - 1.5 * MARGIN - ih * scale, iw * scale,
                      ih * scale)
        pdf.showPage()


def dispute_pack(shipment: Shipment) -> bytes:
    """Build the dispute pack PDF: summary, photos, then the labels (4x6 pages)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(f"Dispute pack {shipment.shipment_identifier}")
    pdf.setAuthor("ACORN")
    _summary(pdf, shipment)
    _photos(pdf, shipment)
    pdf.save()
    pack = pdfium.PdfDocument(out.getvalue())
    try:
        labels = pdfium.PdfDocument(labels_pdf(shipment))
        try:
            pack.import_pages(labels)
        finally:
            labels.close()
        merged = io.BytesIO()
        pack.save(merged)
        return merged.getvalue()
    finally:
        pack.close()
