"""The SP-API operations ACORN calls: path, method, model file and Amazon's usage plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One SP-API operation: where it lives, which model describes it and its usage plan."""

    name: str
    method: str
    path: str  # the model's path template
    model: str
    rate: float  # requests per second
    burst: int
    repeatable: bool = False  # a POST whose accidental repeat harms nothing (createReport)


OPERATIONS = {
    op.name: op
    for op in (
        Operation("getPurchaseOrders", "GET", "/vendor/orders/v1/purchaseOrders",
                  "vendorOrders.json", 10, 10),
        Operation("getPurchaseOrder", "GET",
                  "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}",
                  "vendorOrders.json", 10, 10),
        Operation("submitAcknowledgement", "POST", "/vendor/orders/v1/acknowledgements",
                  "vendorOrders.json", 10, 10),
        Operation("getPurchaseOrdersStatus", "GET", "/vendor/orders/v1/purchaseOrdersStatus",
                  "vendorOrders.json", 10, 10),
        Operation("getTransaction", "GET", "/vendor/transactions/v1/transactions/{transactionId}",
                  "vendorTransactionStatus.json", 10, 20),
        Operation("submitInvoices", "POST", "/vendor/payments/v1/invoices",
                  "vendorInvoices.json", 10, 10),
        Operation("SubmitShipmentConfirmations", "POST",
                  "/vendor/shipping/v1/shipmentConfirmations", "vendorShipments.json", 10, 10),
        # Reports API usage plans from reports_2021-06-30.json.
        Operation("createReport", "POST", "/reports/2021-06-30/reports",
                  "reports_2021-06-30.json", 0.0167, 15, repeatable=True),
        Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}",
                  "reports_2021-06-30.json", 2, 15),
        Operation("getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}",
                  "reports_2021-06-30.json", 0.0167, 15),
    )
}
