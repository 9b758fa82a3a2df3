"""Alert categories: which event kinds feed them, their defaults, urgency and quiet-hours rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Category:
    """A setting a user can switch on or off, and how its alerts travel."""

    name: str
    label: object  # lazy string, rendered in the reader's language
    default_on: bool = True
    urgency: str = "normal"  # RFC 8030 Urgency: very-low, low, normal, high
    # Deadline and failure alerts ring through quiet hours; everything else waits for morning.
    ignores_quiet_hours: bool = False
    roles: tuple[str, ...] | None = None  # who may get it (None: every role)

    def allows(self, role: str) -> bool:
        """Tell whether a user of `role` gets (and sees the setting of) this category."""
        return self.roles is None or role in self.roles


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("new_po", _l("New purchase orders")),
    Category("deadline", _l("Acknowledgement deadline approaching or overdue"), urgency="high",
             ignores_quiet_hours=True),
    Category("po_changed", _l("PO changed or cancelled by Amazon")),
    Category("asn_overdue", _l("Ship date passed without an ASN"), urgency="high",
             ignores_quiet_hours=True),
    Category("submission_failed", _l("Acknowledgement or invoice failed at Amazon"),
             urgency="high", ignores_quiet_hours=True),
    Category("ack_mismatch", _l("Acknowledgement watchdog found a mismatch")),
    Category("invoice_mismatch", _l("Invoice check found a mismatch")),
    Category("shipment_shortage", _l("Amazon received fewer units than a shipment's ASN")),
    Category("low_stock", _l("Stock below the weeks-of-cover threshold"), urgency="low"),
    Category("otif_below_target", _l("Weekly OTIF below target"), urgency="low"),
    # Dual control: a large rejection waits for a second manager while the deadline runs.
    Category("approval", _l("A rejection waits for your approval"), urgency="high",
             ignores_quiet_hours=True, roles=("admin", "manager")),
    Category("sync_failing", _l("Amazon sync failing for an hour"), urgency="high",
             ignores_quiet_hours=True),
    Category("test", _l("Test notifications"), ignores_quiet_hours=True),
)}

# Event.kind -> category. Several spellings map to one category so that the raising features
# (sync, outbox, watchdog, dashboards) need not agree with this module on one word.
EVENT_CATEGORIES: dict[str, str] = {
    "po.new": "new_po",
    "po.changed": "po_changed",
    "po.cancelled": "po_changed",
    "ack.failed": "submission_failed",
    "acknowledgement.failed": "submission_failed",
    "invoice.failed": "submission_failed",
    "shipment.failed": "submission_failed",
    "shipment.asn_overdue": "asn_overdue",
    "shipment.shortage": "shipment_shortage",
    "outbox.unknown": "submission_failed",  # a submission whose fate Amazon has not told us
    "ack.mismatch": "ack_mismatch",
    "watchdog.mismatch": "ack_mismatch",
    "invoice.mismatch": "invoice_mismatch",
    "invoice.check_mismatch": "invoice_mismatch",
    "stock.low": "low_stock",
    "otif.below_target": "otif_below_target",
    "otif.low": "otif_below_target",
    "sync.failing": "sync_failing",
    "ack.approval": "approval",
}

DEFAULT_DEADLINE_HOURS = (6, 1)
# Overdue POs older than this are not news any more (e.g. on the first deploy).
OVERDUE_WINDOW_HOURS = 24
# Roles that may acknowledge a PO, and so get an "Accept all" action on the notification.
ACCEPTING_ROLES = ("admin", "manager")
