"""Every model, imported once so Alembic and `create_app` see the whole schema."""

from webapp.amazon.models import OutboxMessage, OutboxState, SyncState
from webapp.api.models import IdempotencyKey
from webapp.audit.models import AuditEntry
from webapp.auth.models import (
    ApiToken,
    Invite,
    RecoveryCode,
    Role,
    User,
    UserSession,
    WebAuthnCredential,
)
from webapp.dashboards.models import OtifDirty, OtifFact, OtifFactState
from webapp.events.models import Event
from webapp.invoices.models import Invoice, InvoiceLine, InvoicePayment, InvoicePhoto
from webapp.orders.models import (
    AckApproval,
    Acknowledgement,
    AcknowledgementLine,
    AckState,
    PoState,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
)
from webapp.push.models import Alert, AlertPreference, PushDelivery, PushSubscription
from webapp.shipments.models import Shipment, ShipmentItem
from webapp.shipments.sscc import SsccCounter
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.models import Vendor, VendorCode, VendorEmailDomain

__all__ = [
    "Acknowledgement", "AcknowledgementLine", "AckState", "ApiToken", "AuditEntry", "Event",
    "InventoryWeek", "Invite", "Invoice", "InvoiceLine", "InvoicePayment", "InvoicePhoto",
    "OutboxMessage",
    "OutboxState", "PoState", "PurchaseOrder", "PurchaseOrderLine", "Receipt", "RecoveryCode",
    "Role", "SalesWeek", "Shipment", "ShipmentItem", "SyncState", "User", "UserSession", "Vendor",
    "VendorCode", "VendorEmailDomain", "WebAuthnCredential",
    # Web push (issue 6)
    "Alert", "AlertPreference", "PushDelivery", "PushSubscription",
    # Purchase orders (issue 5)
    "AckApproval", "IdempotencyKey",
    # Dashboards (issue 8)
    "OtifDirty", "OtifFact", "OtifFactState",
    # SSCC serials (issue 11)
    "SsccCounter",
]
