"""What an alert says: title, body, link and topic, in the user's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask_babel import gettext as _

from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders.models import AckApproval, PurchaseOrder

# Imported here (not lazily) so the worker process loads pywebpush and the crypto stack once
# and every forked work horse inherits them instead of importing them per job.

# --- alert content --------------------------------------------------------------------------

def _when(moment: datetime | None, tz: ZoneInfo, locale: str) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=tz, locale=locale)


def _po_data(po: PurchaseOrder | None) -> dict:
    if po is None:
        return {}
    return {"po_number": po.po_number, "deadline": po.ack_due_at.isoformat(),
            "warehouse": po.ship_to_party_id or ""}


def _po_topic(po_id: int | None) -> str | None:
    # RFC 8030: at most 32 characters of the URL-safe base64 alphabet.
    return f"po-{po_id}" if po_id else None


@dataclass
class Draft:
    """An alert's content before it is stored for one user."""

    category: str
    kind: str
    title: str
    body: str
    url: str
    topic: str | None
    data: dict
    po_id: int | None = None


def _event_draft(event: Event, category: str, po: PurchaseOrder | None, tz: ZoneInfo,
                 locale: str) -> Draft:
    """Write the alert for one event in the reader's language."""
    p = event.payload or {}
    number = po.po_number if po else p.get("po_number", "")
    wh = (po.ship_to_party_id if po else p.get("warehouse")) or "—"
    due = _when(po.ack_due_at if po else None, tz, locale)
    url = f"/orders/{number}" if number else "/alerts"
    kind = event.kind
    if kind == "po.new":
        title = _("New PO %(po)s", po=number)
        body = _("Acknowledge by %(due)s · Ship to %(wh)s", due=due, wh=wh)
    elif kind == "po.cancelled" or (po is not None and p.get("cancelled_lines") and po.lines
                                    and all(line.cancelled for line in po.lines)):
        title = _("PO %(po)s cancelled by Amazon", po=number)
        body = _("Ship to %(wh)s · Check the PO before shipping.", wh=wh)
    elif category == "po_changed":
        title = _("PO %(po)s changed by Amazon", po=number)
        body = _("Ship to %(wh)s · Review the new quantities and dates.", wh=wh)
    elif kind == "outbox.unknown":
        title = _("PO %(po)s: Amazon has not confirmed a submission", po=number)
        body = _("Check the PO before sending again.")
    elif kind.startswith("invoice.") and category == "submission_failed":
        title = _("Invoice %(inv)s failed at Amazon", inv=p.get("invoice_number", number))
        body = _first_error(p) or _("Open the invoice to see Amazon's errors.")
        url = f"/invoices/{p['invoice_id']}" if p.get("invoice_id") else url
    elif kind.startswith("shipment.") and category == "submission_failed":
        title = _("ASN %(asn)s failed at Amazon", asn=p.get("shipment_identifier") or number)
        body = _first_error(p) or _("Open the shipment to see Amazon's errors and correct it.")
        url = _shipment_url(p, url)
    elif category == "asn_overdue":
        title = _("ASN not sent: shipment %(asn)s", asn=p.get("shipment_identifier", ""))
        body = _("The ship date passed at %(when)s · Send the ASN now.",
                 when=_when(_parse_time(p.get("shipped_at")), tz, locale) or "—")
        url = _shipment_url(p, url)
    elif category == "shipment_shortage":
        title = _("Amazon received %(n)s units fewer than ASN %(asn)s",
                  n=p.get("short_eaches", "?"), asn=p.get("shipment_identifier", ""))
        body = _("Open the shipment for the gap and the dispute pack.")
        url = _shipment_url(p, url)
    elif category == "submission_failed":
        title = _("Acknowledgement of PO %(po)s failed", po=number)
        body = _first_error(p) or _("Deadline %(due)s · Open the PO to resend.", due=due)
    elif category == "ack_mismatch":
        title = _("PO %(po)s: Amazon's record differs from your acknowledgement", po=number)
        body = p.get("detail") or _("Open the PO to compare.")
    elif category == "invoice_mismatch":
        title = _("Invoice check found a mismatch on PO %(po)s", po=number)
        body = p.get("detail") or _("Open the invoice to compare with the acknowledgement.")
        url = f"/invoices/{p['invoice_id']}" if p.get("invoice_id") else url
    elif category == "low_stock":
        title = _("Stock low: %(item)s", item=p.get("asin") or p.get("sku") or "")
        body = _("%(weeks)s weeks of cover left", weeks=p.get("weeks_of_cover", "?"))
        url = "/dashboards"
    elif category == "otif_below_target":
        title = _("Weekly OTIF %(otif)s%% is below target %(target)s%%",
                  otif=p.get("otif_percent", "?"), target=p.get("target_percent", "?"))
        body = _("Week of %(week)s", week=p.get("week", ""))
        url = "/dashboards"
    elif category == "approval":
        title = _("PO %(po)s: a rejection waits for your approval", po=number)
        body = _("Rejecting %(value)s needs a second manager · Deadline %(due)s",
                 value=_approval_value(p, locale), due=due)
    elif category == "sync_failing":
        title = _("Amazon sync failing for an hour")
        body = _("%(feed)s: %(error)s", feed=p.get("feed", ""), error=p.get("error") or "?")
        url = "/settings"
    else:
        title, body = kind, p.get("detail", "")
    data = _po_data(po) or ({"po_number": number} if number else {})
    return Draft(category, kind, title[:200], str(body), url, _po_topic(event.purchase_order_id),
                 data, po.id if po else event.purchase_order_id)


def _shipment_url(payload: dict, fallback: str) -> str:
    return f"/shipments/{payload['shipment_id']}" if payload.get("shipment_id") else fallback


def _parse_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _approval_value(payload: dict, locale: str) -> str:
    """The rejected value of a dual-control request, with its currency."""
    approval = db.session.get(AckApproval, payload["approval_id"]) \
        if payload.get("approval_id") else None
    if approval is None or not payload.get("value"):
        return payload.get("value", "")
    return format_currency(Decimal(payload["value"]), approval.currency, locale=locale)


def _first_error(payload: dict) -> str | None:
    errors = payload.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("code") or "")[:300] or None
    return payload.get("error")


def _summary_draft(pos: list[PurchaseOrder], tz: ZoneInfo, locale: str) -> Draft:
    numbers = [po.po_number for po in pos]
    first_due = min(po.ack_due_at for po in pos)
    shown = ", ".join(numbers[:3])
    more = len(numbers) - 3
    body = (_("%(list)s and %(n)d more", list=shown, n=more) if more > 0 else shown)
    body += " · " + _("First deadline %(due)s", due=_when(first_due, tz, locale))
    return Draft("new_po", "po.new.summary", _("%(n)d new purchase orders", n=len(pos)), body,
                 "/orders", "po-new-summary", {"po_numbers": numbers,
                                               "deadline": first_due.isoformat()})


def _deadline_draft(po: PurchaseOrder, stage: str, hours: int | None, tz: ZoneInfo,
                    locale: str) -> Draft:
    due = _when(po.ack_due_at, tz, locale)
    wh = po.ship_to_party_id or "—"
    if stage == "overdue":
        title = _("PO %(po)s is overdue", po=po.po_number)
        body = _("The acknowledgement deadline passed at %(due)s · Ship to %(wh)s", due=due,
                 wh=wh)
    else:
        title = _("PO %(po)s: acknowledge within %(h)d h", po=po.po_number, h=hours)
        body = _("Deadline %(due)s · Ship to %(wh)s", due=due, wh=wh)
    return Draft("deadline", f"deadline.{stage}", title, body, f"/orders/{po.po_number}",
                 _po_topic(po.id), _po_data(po), po.id)
