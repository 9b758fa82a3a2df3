"""The OpenAPI 3 document of /api/v1 purchase orders (served at /api/v1/openapi.json)."""

from __future__ import annotations

from webapp.orders.models import AckCode, AckState, PoState, RejectionReason

NULLABLE_STRING = {"type": ["string", "null"]}
MONEY = {"type": ["object", "null"], "required": ["amount", "currencyCode"],
         "properties": {"amount": {"type": "string"}, "currencyCode": {"type": "string"}}}
QUANTITY = {"type": "object", "required": ["amount"], "properties": {
    "amount": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    "unitOfMeasure": {"type": "string", "enum": ["Eaches", "Cases"]},
    "unitSize": {"type": "integer", "minimum": 1, "maximum": 10_000}}}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}},
                   "risks": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}}}}}}
AMOUNT_PATTERN = "^[0-9]{1,10}(\\.[0-9]{1,4})?$"
NUMBER = {"name": "number", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{1,32}$"}}


def _errors(*codes: int) -> dict:
    described = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
                 409: "Conflict", 422: "Refused", 429: "Too many requests"}
    return {str(c): {"description": described[c], "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}} for c in codes}


def _ok(schema: str, description: str, status: str = "200") -> dict:
    return {status: {"description": description, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


SUMMARY = {"type": "object", "required": ["purchaseOrderNumber", "purchaseOrderState",
                                          "acknowledgementState", "acknowledgeBy", "version"],
           "properties": {
               "purchaseOrderNumber": {"type": "string"},
               "purchaseOrderState": {"type": "string", "enum": [s.value for s in PoState]},
               "purchaseOrderType": {"type": "string"},
               "acknowledgementState": {"type": "string", "enum": [s.value for s in AckState]},
               "orderedAt": {"type": "string", "format": "date-time"},
               "acknowledgeBy": {"type": "string", "format": "date-time"},
               "deadlineBand": {"type": "string", "enum": ["ok", "soon", "urgent", "overdue"]},
               "shipToPartyId": NULLABLE_STRING, "marketplaceId": NULLABLE_STRING,
               "changedByAmazon": {"type": "boolean"}, "version": {"type": "string"}}}


def document() -> dict:
    """Build the document (plain data; cheap enough to build per request)."""
    ack_item = {"type": "object", "required": ["itemSequenceNumber", "acknowledgementCode",
                                               "acknowledgedQuantity"],
                "properties": {
                    "itemSequenceNumber": {"type": "string", "minLength": 1, "maxLength": 8},
                    "acknowledgementCode": {"type": "string", "enum": [c.value for c in AckCode]},
                    "acknowledgedQuantity": QUANTITY,
                    "scheduledShipDate": {"type": "string", "format": "date-time"},
                    "scheduledDeliveryDate": {"type": "string", "format": "date-time"},
                    "rejectionReason": {"type": "string",
                                        "enum": [r.value for r in RejectionReason]},
                    "netCost": {"type": "object", "required": ["amount"], "properties": {
                        "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
                        "currencyCode": {"type": "string"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "ACORN purchase orders", "version": "1.0.0",
                 "description": "Purchase orders of the signed-in vendor. Writes take an "
                                "Idempotency-Key header: the same key replays the first answer."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/purchase-orders": {"get": {
                "operationId": "listPurchaseOrders",
                "summary": "Open purchase orders by acknowledgement deadline",
                "parameters": [
                    _query("state", {"type": "string", "enum": [s.value for s in PoState]}),
                    _query("acknowledgementState",
                           {"type": "string", "enum": [s.value for s in AckState]}),
                    _query("shipToPartyId", {"type": "string", "maxLength": 16}),
                    _query("marketplaceId", {"type": "string", "maxLength": 16}),
                    _query("changedByAmazon", {"type": "string", "enum": ["true", "false"]}),
                    _query("q", {"type": "string", "maxLength": 64}),
                    _query("cursor", {"type": "string", "maxLength": 200}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                ],
                "responses": {**_ok("PurchaseOrderPage", "A page of purchase orders"),
                              **_errors(400, 401, 403)}}},
            "/purchase-orders/{number}": {"get": {
                "operationId": "getPurchaseOrder", "summary": "One purchase order with lines",
                "parameters": [NUMBER],
                "responses": {**_ok("PurchaseOrder", "The purchase order"),
                              **_errors(401, 403, 404)}}},
            "/purchase-orders/{number}/acknowledgement": {
                "get": {"operationId": "getAcknowledgementStatus",
                        "summary": "Where the latest answer stands", "parameters": [NUMBER],
                        "responses": {**_ok("AcknowledgementStatus", "The answer status"),
                                      **_errors(401, 403, 404)}},
                "post": {
                    "operationId": "acknowledgePurchaseOrder",
                    "summary": "Answer a purchase order line by line (Amazon's item shape)",
                    "parameters": [NUMBER, {"name": "Idempotency-Key", "in": "header",
                                            "required": True, "schema": {
                                                "type": "string", "minLength": 1,
                                                "maxLength": 200, "pattern": "^[!-~]+$"}}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object", "required": ["items"], "properties": {
                            "items": {"type": "array", "maxItems": 200, "items": ack_item},
                            "poVersion": {"type": "string", "format": "date-time"},
                            "confirmRisks": {"type": "boolean"}}}}}},
                    "responses": {**_ok("AcknowledgementQueued", "Queued for Amazon", "202"),
                                  **_errors(400, 401, 403, 404, 409, 422)}}},
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The app's own session; writes need X-CSRFToken."}},
            "schemas": {
                "Error": ERROR,
                "Issue": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "itemSequenceNumber": NULLABLE_STRING}},
                "PurchaseOrderSummary": SUMMARY,
                "PurchaseOrderPage": {"type": "object",
                                      "required": ["purchaseOrders", "nextCursor"],
                                      "properties": {
                                          "purchaseOrders": {"type": "array", "items": {
                                              "$ref": "#/components/schemas/PurchaseOrderSummary"}},
                                          "nextCursor": NULLABLE_STRING,
                                          "needsAnswer": {"type": "integer"}}},
                "PurchaseOrder": {"allOf": [{"$ref": "#/components/schemas/PurchaseOrderSummary"},
                                            {"type": "object", "required": ["items"],
                                             "properties": {"items": {"type": "array",
                                                                      "items": {"type": "object"}},
                                                            "totalCost": MONEY}}]},
                "AcknowledgementStatus": {"type": "object", "required": [
                    "purchaseOrderNumber", "acknowledgementState", "latest"], "properties": {
                    "purchaseOrderNumber": {"type": "string"},
                    "acknowledgementState": {"type": "string",
                                             "enum": [s.value for s in AckState]},
                    "latest": {"type": ["object", "null"]}}},
                "AcknowledgementQueued": {"type": "object", "required": [
                    "status", "purchaseOrderNumber", "acknowledgementState"], "properties": {
                    "status": {"type": "string", "enum": ["queued", "approval"]},
                    "purchaseOrderNumber": {"type": "string"},
                    "acknowledgementState": {"type": "string"},
                    "acknowledgementId": {"type": ["integer", "null"]},
                    "approvalId": {"type": ["integer", "null"]},
                    "risks": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}}}},
            },
        },
    }


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}
