"""Render paper-invoice images with Pillow for OCR tests, benchmarks and browser tests.

    from tests.invoice_images import random_invoice, render_invoice
    invoice = random_invoice(seed=3)                 # an InvoiceData with the expected fields
    jpeg = render_invoice(invoice, variant="photo")  # bytes of a JPEG image

`render_invoice()` alone renders a random invoice (seed 0) as a clean image. Variants
(`VARIANTS`): clean, rotated (a few degrees), rotated90, upside_down, blurred, jpeg (low quality
plus noise) and photo (perspective, uneven light, a table around the page). The only font is
Pillow's bundled one (`ImageFont.load_default(size=...)`), so renders are the same everywhere.
"""

from __future__ import annotations

import io
import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFilter, ImageFont

VARIANTS = ("clean", "rotated", "rotated90", "upside_down", "blurred", "jpeg", "photo")
PO_ALPHABET = string.ascii_uppercase + string.digits  # as the SP-API sandbox generates them
PAGE = (1240, 1754)  # A4 at 150 dpi
CENT = Decimal("0.01")

VENDORS = ("Acme Kitchenware Co., Ltd.", "Ningbo Brightway Lighting Ltd.",
           "Green Valley Outdoor Goods Inc.", "Shenzhen Homely Tech Co., Ltd.",
           "Northwind Home Supplies LLC")
PRODUCTS = ("Stainless Steel Kettle 1.7L", "LED Camping Lantern", "Silicone Baking Mat Set",
            "Cast Iron Skillet 10in", "Bamboo Cutting Board", "Insulated Water Bottle",
            "USB-C Charging Cable 2m", "Ceramic Mug Set of 4", "Folding Camp Chair")
# Only "$" among currency signs has a glyph in Pillow's bundled font; others print their code.
CURRENCIES = (("USD", "$"), ("USD", "$"), ("EUR", "EUR "), ("GBP", "GBP "), ("CAD", "CAD "))


@dataclass
class InvoiceLineData:
    """One printed invoice line."""

    asin: str
    description: str
    quantity: int
    unit_cost: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(CENT)


@dataclass
class InvoiceData:
    """What a rendered invoice says: the fields OCR should read back."""

    vendor: str
    invoice_number: str
    invoice_date: date
    date_format: str
    purchase_order_number: str
    currency: str
    symbol: str
    tax_rate: Decimal
    lines: list[InvoiceLineData] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.tax_rate).quantize(CENT)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def random_invoice(seed: int = 0) -> InvoiceData:
    """A plausible vendor invoice for an Amazon PO, the same for the same seed."""
    rng = random.Random(seed)
    prefix = rng.choice(("INV-", "INV", "SI-", "AC", ""))
    number = f"{prefix}{rng.randint(2024, 2026)}-{rng.randint(1, 99999):05d}" if prefix.endswith(
        "-") else f"{prefix}{rng.randint(100000, 9999999)}"
    currency, symbol = rng.choice(CURRENCIES)
    lines = [
        InvoiceLineData(
            asin="B0" + "".join(rng.choices(PO_ALPHABET, k=8)),
            description=rng.choice(PRODUCTS),
            quantity=rng.choice((6, 12, 24, 36, 48, 60, 100, 120, 250)),
            unit_cost=Decimal(rng.randint(150, 9999)) / 100,
        )
        for _ in range(rng.randint(3, 5))
    ]
    return InvoiceData(
        vendor=rng.choice(VENDORS),
        invoice_number=number,
        invoice_date=date(2026, 1, 1) + timedelta(days=rng.randint(0, 364)),
        date_format=rng.choice(("%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y", "%d %b %Y")),
        purchase_order_number="".join(rng.choices(PO_ALPHABET, k=8)),
        currency=currency,
        symbol=symbol,
        tax_rate=rng.choice((Decimal("0"), Decimal("0.05"), Decimal("0.08"), Decimal("0.13"))),
        lines=lines,
    )


def _money(invoice: InvoiceData, amount: Decimal, sign: bool = False) -> str:
    text = f"{amount:,.2f}"
    return f"{invoice.symbol}{text}" if sign else text


def draw_page(invoice: InvoiceData) -> Image.Image:
    """The invoice as a clean white page."""
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    big, body, small = (ImageFont.load_default(size=s) for s in (46, 26, 22))
    ink, grey = (20, 20, 25), (90, 90, 100)
    draw.text((90, 90), invoice.vendor, font=ImageFont.load_default(size=34), fill=ink)
    draw.text((90, 140), "88 Harbour Industrial Road, Ningbo, Zhejiang, China", font=small,
              fill=grey)
    draw.text((880, 90), "INVOICE", font=big, fill=ink)
    fields = (("Invoice No:", invoice.invoice_number),
              ("Invoice Date:", invoice.invoice_date.strftime(invoice.date_format)),
              ("PO Number:", invoice.purchase_order_number),
              ("Currency:", invoice.currency))
    for row, (label, value) in enumerate(fields):
        y = 240 + row * 46
        draw.text((90, y), label, font=body, fill=grey)
        draw.text((330, y), value, font=body, fill=ink)
    draw.text((720, 240), "Bill to:", font=body, fill=grey)
    for row, text in enumerate(("Amazon.com Services LLC", "410 Terry Ave N",
                                "Seattle, WA 98109")):
        draw.text((720, 286 + row * 40), text, font=small, fill=ink)

    columns = ((90, "ASIN"), (330, "Description"), (760, "Qty"), (880, "Unit Cost"),
               (1050, "Amount"))
    top = 520
    draw.line((90, top - 12, 1150, top - 12), fill=ink, width=2)
    for x, title in columns:
        draw.text((x, top), title, font=body, fill=ink)
    draw.line((90, top + 44, 1150, top + 44), fill=ink, width=2)
    for row, line in enumerate(invoice.lines):
        y = top + 70 + row * 52
        values = (line.asin, line.description, str(line.quantity), _money(invoice, line.unit_cost),
                  _money(invoice, line.amount))
        for (x, _title), value in zip(columns, values, strict=True):
            draw.text((x, y), value, font=small, fill=ink)
    y = top + 70 + len(invoice.lines) * 52 + 10
    draw.line((90, y, 1150, y), fill=ink, width=2)
    tax_label = f"Tax ({invoice.tax_rate * 100:.0f}%):"
    for row, (label, value) in enumerate((("Subtotal:", invoice.subtotal),
                                          (tax_label, invoice.tax),
                                          ("Total Due:", invoice.total))):
        font = body if row < 2 else ImageFont.load_default(size=30)
        draw.text((760, y + 30 + row * 52), label, font=font, fill=ink)
        draw.text((1000, y + 30 + row * 52), _money(invoice, value, sign=True), font=font,
                  fill=ink)
    draw.text((90, 1560), "Payment terms: Net 60. Bank: Bank of Ningbo, SWIFT BKNBCN2N.",
              font=small, fill=grey)
    draw.text((90, 1600), "Thank you for your business.", font=small, fill=grey)
    return page


def _photographed(page: Image.Image, rng: random.Random) -> Image.Image:
    """The page lying on a table, shot at an angle under uneven light."""
    w, h = page.size
    table = Image.new("RGB", (w + 300, h + 300), (96, 84, 70))
    table.paste(page, (150, 150))
    tw, th = table.size

    def jitter() -> float:
        return rng.uniform(40, 130)

    # QUAD maps the output's four corners to these source corners (nw, sw, se, ne).
    quad = (jitter(), jitter(), jitter(), th - jitter(), tw - jitter(), th - jitter(),
            tw - jitter(), jitter())
    shot = table.transform((1500, 2000), Image.Transform.QUAD, quad,
                           Image.Resampling.BICUBIC)
    # Light falls off from one corner: multiply by a gradient from 1.0 to about 0.55.
    ramp = Image.linear_gradient("L").resize(shot.size).rotate(rng.choice((0, 90, 180, 270)))
    light = ramp.point(lambda v: 255 - int(v * 0.45))
    shaded = Image.composite(shot, Image.new("RGB", shot.size, "black"), light)
    shaded = Image.blend(shot, shaded, 0.9).filter(ImageFilter.GaussianBlur(0.8))
    return shaded


def _noisy(image: Image.Image, rng: random.Random, amount: int) -> Image.Image:
    noise = Image.effect_noise(image.size, amount).convert("RGB")
    return Image.blend(image, noise, 0.12 + rng.random() * 0.06)


def render_variant(invoice: InvoiceData, variant: str, seed: int = 0) -> Image.Image:
    """The invoice page as the named variant, as a Pillow image."""
    rng = random.Random(f"{seed}-{variant}")
    page = draw_page(invoice)
    if variant == "clean":
        return page
    if variant == "rotated":
        angle = rng.choice((-1, 1)) * rng.uniform(2.0, 6.0)
        return page.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    if variant == "rotated90":
        return page.transpose(rng.choice((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)))
    if variant == "upside_down":
        return page.transpose(Image.Transpose.ROTATE_180)
    if variant == "blurred":
        return page.filter(ImageFilter.GaussianBlur(rng.uniform(1.6, 2.2)))
    if variant == "jpeg":
        return _noisy(page, rng, 60)
    if variant == "photo":
        return _photographed(page, rng)
    raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


def render_invoice(invoice: InvoiceData | None = None, variant: str = "clean", seed: int = 0,
                   image_format: str = "JPEG") -> bytes:
    """Encode `invoice` (default: `random_invoice(seed)`) as the named variant; return bytes."""
    invoice = invoice or random_invoice(seed)
    image = render_variant(invoice, variant, seed)
    out = io.BytesIO()
    if image_format.upper() == "JPEG":
        quality = 18 if variant == "jpeg" else 88
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, image_format)
    return out.getvalue()
