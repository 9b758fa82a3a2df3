"""The sandbox over HTTP: Amazon's vendor endpoints, Login with Amazon, `/_sandbox/` control."""

from __future__ import annotations

import json
import time
import uuid

from flask import Flask, Response, g, request

from webapp.amazon import schemas
from webapp.amazon.sandbox.errors import ApiError
from webapp.amazon.sandbox.faults import FaultInjector, Faults
from webapp.amazon.sandbox.rate_limits import RATE_LIMITS, RateLimiter
from webapp.amazon.sandbox.stats import Stats
from webapp.amazon.sandbox.store import SandboxStore
from webapp.amazon.sandbox.submissions import SUBMISSION_KINDS

# Flask endpoint -> (model file, model path) for request-body validation.
BODY_MODELS = {
    "submitAcknowledgement": ("vendorOrders.json", "/vendor/orders/v1/acknowledgements"),
    "submitInvoices": ("vendorInvoices.json", "/vendor/payments/v1/invoices"),
    "submitShipmentConfirmations": (
        "vendorShipments.json",
        "/vendor/shipping/v1/shipmentConfirmations",
    ),
    "createReport": ("reports_2021-06-30.json", "/reports/2021-06-30/reports"),
}


# Flask endpoint -> (model file, model path, method) for response self-checks.
RESPONSE_MODELS = {
    "getPurchaseOrders": ("vendorOrders.json", "/vendor/orders/v1/purchaseOrders", "get"),
    "getPurchaseOrder": (
        "vendorOrders.json",
        "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}",
        "get",
    ),
    "getPurchaseOrdersStatus": (
        "vendorOrders.json",
        "/vendor/orders/v1/purchaseOrdersStatus",
        "get",
    ),
    "submitAcknowledgement": ("vendorOrders.json", "/vendor/orders/v1/acknowledgements", "post"),
    "getTransaction": (
        "vendorTransactionStatus.json",
        "/vendor/transactions/v1/transactions/{transactionId}",
        "get",
    ),
    "submitInvoices": ("vendorInvoices.json", "/vendor/payments/v1/invoices", "post"),
    "submitShipmentConfirmations": (
        "vendorShipments.json",
        "/vendor/shipping/v1/shipmentConfirmations",
        "post",
    ),
    "createReport": ("reports_2021-06-30.json", "/reports/2021-06-30/reports", "post"),
    "getReport": ("reports_2021-06-30.json", "/reports/2021-06-30/reports/{reportId}", "get"),
    "getReportDocument": (
        "reports_2021-06-30.json",
        "/reports/2021-06-30/documents/{reportDocumentId}",
        "get",
    ),
}


class Sandbox:
    """What the app serves from: the store, fault switches, stats and options."""

    def __init__(
        self,
        store: SandboxStore,
        faults: Faults,
        enforce_rate_limits: bool,
        seed: int,
        validate_responses: bool = False,
    ):
        self.store = store
        self.validate_responses = validate_responses
        self.startup_faults = Faults(**faults.as_dict())
        self.injector = FaultInjector(faults, seed)
        self.stats = Stats()
        self.enforce_rate_limits = enforce_rate_limits
        self.limiter = RateLimiter()


def _json(data, status: int = 200) -> Response:
    body = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status=status, mimetype="application/json")


def _error(status: int, code: str, message: str, details: str = "") -> Response:
    return _json({"errors": [{"code": code, "message": message, "details": details}]}, status)


def create_sandbox_app(
    store: SandboxStore | None = None,
    *,
    seed: int = 1,
    faults: Faults | dict | None = None,
    enforce_rate_limits: bool = False,
    validate_responses: bool = False,
    **store_options,
) -> Flask:
    """Build the sandbox Flask app around `store` (a new manual-clock store by default)."""
    store = store or SandboxStore(seed, **store_options)
    if isinstance(faults, dict):
        values, faults = faults, Faults()
        faults.update(values)
    sandbox = Sandbox(store, faults or Faults(), enforce_rate_limits, seed, validate_responses)
    app = Flask(__name__)
    app.extensions["acorn_sandbox"] = sandbox

    @app.before_request
    def _guard():
        g.request_id = str(uuid.uuid4())
        operation = request.endpoint
        if operation not in RATE_LIMITS:
            return None
        sandbox.stats.count(operation)
        decision = sandbox.injector.decide()
        g.decision = decision
        if decision.status:
            sandbox.stats.fault(operation, decision.status)
            if decision.status == 429 and decision.empty_body:
                return Response(b"", status=429)
            code = {429: "QuotaExceeded", 500: "InternalFailure", 503: "ServiceUnavailable"}
            messages = {
                429: "You exceeded your quota for the requested resource.",
                500: "We encountered an internal error. Please try again.",
                503: "Service temporarily unavailable. Please try again.",
            }
            return _error(decision.status, code[decision.status], messages[decision.status])
        if decision.delay:
            time.sleep(decision.delay)
        account = store.account_for_token(request.headers.get("x-amz-access-token"))
        if account is None:
            return _error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            )
        if sandbox.enforce_rate_limits and not sandbox.limiter.allow(
            account["refresh_token"], operation
        ):
            sandbox.stats.fault(operation, 429)
            return _error(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource."
            )
        g.account = account
        return None

    @app.after_request
    def _headers(response: Response):
        operation = request.endpoint
        rate = RATE_LIMITS.get(operation, (10.0, 10))[0]
        response.headers["x-amzn-RateLimit-Limit"] = f"{rate}"
        response.headers["x-amzn-RequestId"] = g.get("request_id") or str(uuid.uuid4())
        if sandbox.validate_responses and operation in RESPONSE_MODELS and response.data:
            _self_check(operation, response)
        decision = g.get("decision")
        if decision is not None and decision.malformed and response.status_code < 300:
            body = response.get_data()
            # Cut mid-document and add junk: the JSON is certainly not parseable.
            response.set_data(body[: max(1, len(body) // 2)] + b"\x00<html>")
            sandbox.stats.fault(operation, 299)
        return response

    def _self_check(operation: str, response: Response) -> None:
        model, path, method = RESPONSE_MODELS[operation]
        try:
            schemas.validate_response(
                model, path, method, response.status_code, json.loads(response.get_data())
            )
        except (schemas.SchemaError, KeyError, ValueError) as exc:
            sandbox.stats.violation(f"{operation} {response.status_code}: {exc}")

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return _json(error.body(), error.status)

    @app.errorhandler(404)
    def _not_found(_error):
        return _error(404, "NotFound", "The requested resource was not found.", request.path)

    @app.errorhandler(405)
    def _not_allowed(_error):
        return _error(405, "MethodNotAllowed", "Method not allowed.", request.method)

    def body_of(endpoint: str) -> dict:
        """Parse and validate the JSON body of a submission; 400 like Amazon when bad."""
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise ApiError(400, "InvalidInput", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidInput", "The request body must be a JSON object.")
        model, path = BODY_MODELS[endpoint]
        try:
            schemas.validate_request_body(model, path, "post", body)
        except schemas.SchemaError as exc:
            raise ApiError(
                400,
                "InvalidInput",
                "The request body does not match the schema.",
                "; ".join(exc.errors[:5]),
            ) from None
        return body

    # -- Login with Amazon -------------------------------------------------------------------

    @app.post("/auth/o2/token")
    def token():
        form = request.form if request.form else (request.get_json(silent=True) or {})
        if form.get("grant_type") != "refresh_token":
            return _json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be refresh_token",
                },
                400,
            )
        if not form.get("client_id") or not form.get("client_secret"):
            return _json(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        issued = store.issue_token(form.get("refresh_token"))
        if issued is None:
            return _json(
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : "
                    "refresh_token",
                },
                400,
            )
        return _json(issued)

    # -- Amazon vendor APIs ------------------------------------------------------------------

    @app.get("/vendor/orders/v1/purchaseOrders", endpoint="getPurchaseOrders")
    def get_purchase_orders():
        return _json(store.list_purchase_orders(g.account, request.args))

    @app.get("/vendor/orders/v1/purchaseOrders/<number>", endpoint="getPurchaseOrder")
    def get_purchase_order(number):
        return _json(store.get_purchase_order(g.account, number))

    @app.get("/vendor/orders/v1/purchaseOrdersStatus", endpoint="getPurchaseOrdersStatus")
    def get_purchase_orders_status():
        return _json(store.list_purchase_order_statuses(g.account, request.args))

    @app.post("/vendor/orders/v1/acknowledgements", endpoint="submitAcknowledgement")
    def submit_acknowledgement():
        body = body_of("submitAcknowledgement")
        transaction_id = store.submit_acknowledgements(g.account, body)
        return _json({"payload": {"transactionId": transaction_id}}, 202)

    @app.post("/vendor/payments/v1/invoices", endpoint="submitInvoices")
    def submit_invoices():
        body = body_of("submitInvoices")
        return _json({"payload": {"transactionId": store.submit_invoices(g.account, body)}}, 202)

    @app.post("/vendor/shipping/v1/shipmentConfirmations", endpoint="submitShipmentConfirmations")
    def submit_shipment_confirmations():
        body = body_of("submitShipmentConfirmations")
        transaction_id = store.submit_shipment_confirmations(g.account, body)
        return _json({"payload": {"transactionId": transaction_id}}, 202)

    @app.get("/vendor/transactions/v1/transactions/<transaction_id>", endpoint="getTransaction")
    def get_transaction(transaction_id):
        return _json(store.get_transaction(g.account, transaction_id))

    @app.post("/reports/2021-06-30/reports", endpoint="createReport")
    def create_report():
        return _json(store.create_report(g.account, body_of("createReport")), 202)

    @app.get("/reports/2021-06-30/reports/<report_id>", endpoint="getReport")
    def get_report(report_id):
        return _json(store.get_report(g.account, report_id))

    @app.get("/reports/2021-06-30/documents/<document_id>", endpoint="getReportDocument")
    def get_report_document(document_id):
        return _json(store.get_report_document(g.account, document_id, request.host_url))

    # -- control API (never faulted) ----------------------------------------------------------

    def control_body() -> dict:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    @app.get("/_sandbox/documents/<document_id>")
    def download_document(document_id):
        data = store.document_bytes(document_id)
        if data is None:
            return _error(404, "NotFound", "No such document.", document_id)
        return Response(data, mimetype="application/octet-stream")

    @app.post("/_sandbox/accounts")
    def add_account():
        body = control_body()
        try:
            account = store.add_account(
                body.get("refresh_token"),
                body.get("vendor_codes"),
                body.get("warehouses"),
                body.get("asins"),
                body.get("name"),
            )
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(
            {
                "refresh_token": account["refresh_token"],
                "vendor_codes": account["vendor_codes"],
                "warehouses": account["warehouses"],
                "asins": account["asins"],
            },
            201,
        )

    @app.post("/_sandbox/purchase-orders")
    def create_purchase_orders():
        body = control_body()
        lines = body.get("lines_per_po", [1, 12])
        try:
            numbers = store.create_purchase_orders(
                body.get("refresh_token"),
                int(body.get("count", 10)),
                float(body.get("days_back", 0)),
                tuple(lines) if isinstance(lines, list) else int(lines),
                bool(body.get("changed", False)),
                bool(body.get("settle", False)),
                body.get("vendor_code"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"purchase_order_numbers": numbers, "count": len(numbers)}, 201)

    @app.post("/_sandbox/tick")
    def tick():
        return _json(store.tick(float(control_body().get("minutes", 1))))

    @app.route("/_sandbox/faults", methods=["GET", "POST"])
    def faults_switches():
        if request.method == "GET":
            return _json(sandbox.injector.faults.as_dict())
        try:
            return _json(sandbox.injector.configure(control_body()))
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)

    @app.get("/_sandbox/submissions")
    def submissions():
        kind = request.args.get("kind")
        if kind is not None and kind not in SUBMISSION_KINDS:
            return _json({"error": f"kind must be one of {', '.join(SUBMISSION_KINDS)}"}, 400)
        return _json(store.submission_summary(kind))

    @app.get("/_sandbox/shipments")
    def shipments():
        return _json(store.shipment_summary())

    @app.post("/_sandbox/receipts")
    def receipts():
        """Amazon receives an ASN: {"shipment_identifier", "missing_cartons": [SSCC],
        "short": {"PO:seq": eaches}}; the status feed then reports the received units."""
        body = control_body()
        try:
            result = store.receive_shipment(
                body.get("refresh_token"), str(body.get("shipment_identifier") or ""),
                missing_cartons=list(body.get("missing_cartons") or []),
                short=dict(body.get("short") or {}))
        except (KeyError, ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(result, 201)

    @app.get("/_sandbox/stats")
    def stats():
        return _json(sandbox.stats.as_dict())

    @app.get("/_sandbox/state")
    def state():
        with store.lock:
            return _json(
                {
                    "now": store.now().isoformat().replace("+00:00", "Z"),
                    "purchase_orders": len(store.pos),
                    "lines": sum(len(po["items"]) for po in store.pos.values()),
                    "accounts": sorted(store.accounts),
                    "seed": store.seed,
                    "real_clock": store.real_clock,
                }
            )

    @app.post("/_sandbox/reset")
    def reset():
        store.reset()
        sandbox.stats.reset()
        sandbox.injector.configure(sandbox.startup_faults.as_dict())
        return _json({"reset": True})

    @app.post("/_sandbox/save")
    def save():
        if not store.state_file:
            return _json({"error": "no state file configured"}, 400)
        store.save()
        return _json({"saved": store.state_file})

    return app
