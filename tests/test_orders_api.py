"""The purchase-order JSON API: list, read, acknowledge with Idempotency-Key, session + CSRF."""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import func, select

from tests.auth_helpers import csrf_token, make_user, sign_in
from tests.e2e.conftest import LiveServer
from tests.orders_helpers import add_po
from webapp.amazon.models import OutboxMessage
from webapp.auth import tokens
from webapp.extensions import db

ACCEPT_ALL = {"items": [
    {"itemSequenceNumber": "1", "acknowledgementCode": "Accepted",
     "acknowledgedQuantity": {"amount": 10, "unitOfMeasure": "Cases", "unitSize": 12}},
    {"itemSequenceNumber": "2", "acknowledgementCode": "Accepted",
     "acknowledgedQuantity": {"amount": 5, "unitOfMeasure": "Eaches", "unitSize": 1}},
]}


def _token(role: str = "manager"):
    user, _ = make_user(role=role)
    _t, raw = tokens.create_token(user, "erp")
    db.session.commit()
    return user, {"Authorization": f"Bearer {raw}"}


def test_list_read_and_errors_are_json_with_stable_codes(app, client):
    user, auth = _token()
    add_po(user.vendor_id, "AAAA0001", due_in_hours=3)
    add_po(user.vendor_id, "AAAA0002", due_in_hours=1)
    body = client.get("/api/v1/purchase-orders?limit=1", headers=auth).get_json()
    assert [p["purchaseOrderNumber"] for p in body["purchaseOrders"]] == ["AAAA0002"]
    assert body["needsAnswer"] == 2 and body["nextCursor"]
    more = client.get(f"/api/v1/purchase-orders?limit=1&cursor={body['nextCursor']}",
                      headers=auth).get_json()
    assert [p["purchaseOrderNumber"] for p in more["purchaseOrders"]] == ["AAAA0001"]
    po = client.get("/api/v1/purchase-orders/AAAA0001", headers=auth).get_json()
    assert po["items"][0]["orderedQuantity"] == {"amount": 10, "unitOfMeasure": "Cases",
                                                 "unitSize": 12}
    assert po["items"][0]["extendedCost"] == {"amount": "1260", "currencyCode": "USD"}
    assert client.get("/api/v1/purchase-orders/NOPE", headers=auth).get_json()["error"][
        "code"] == "not_found"
    assert client.get("/api/v1/purchase-orders?cursor=zz", headers=auth).get_json()["error"][
        "code"] == "invalid_cursor"
    r = client.post("/api/v1/purchase-orders/AAAA0001/acknowledgement", json=ACCEPT_ALL,
                    headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "idempotency_key_required"
    bad = {"items": [{**ACCEPT_ALL["items"][0], "acknowledgedQuantity": {"amount": 11}},
                     ACCEPT_ALL["items"][1]]}
    r = client.post("/api/v1/purchase-orders/AAAA0001/acknowledgement", json=bad,
                    headers={**auth, "Idempotency-Key": "k1"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "rules_refused"
    assert r.get_json()["error"]["problems"][0]["code"] == "over_ordered"
    # The same key with another body is refused; with the same body it replays.
    r = client.post("/api/v1/purchase-orders/AAAA0001/acknowledgement", json=ACCEPT_ALL,
                    headers={**auth, "Idempotency-Key": "k1"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "idempotency_key_reused"
    status = client.get("/api/v1/purchase-orders/AAAA0001/acknowledgement", headers=auth)
    assert status.get_json() == {"purchaseOrderNumber": "AAAA0001",
                                 "acknowledgementState": "none", "latest": None}


def test_viewer_token_cannot_acknowledge(app, client):
    user, auth = _token(role="viewer")
    add_po(user.vendor_id)
    r = client.post("/api/v1/purchase-orders/2JK3S9VC/acknowledgement", json=ACCEPT_ALL,
                    headers={**auth, "Idempotency-Key": "v1"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_session_works_on_the_api_with_csrf_for_writes(app, client):
    user = sign_in(client)
    add_po(user.vendor_id)
    assert client.get("/api/v1/purchase-orders").status_code == 200
    url = "/api/v1/purchase-orders/2JK3S9VC/acknowledgement"
    r = client.post(url, json=ACCEPT_ALL, headers={"Idempotency-Key": "s1"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf_failed"
    token = csrf_token(client, "/orders")
    r = client.post(url, json=ACCEPT_ALL, headers={"Idempotency-Key": "s1",
                                                   "X-CSRFToken": token})
    assert r.status_code == 202 and r.get_json()["acknowledgementState"] == "pending"


def test_same_key_twenty_times_concurrently_one_outbox_row_one_answer(app):
    user, auth = _token()
    add_po(user.vendor_id)
    key = str(uuid.uuid4())
    answers: list[tuple[int, str]] = []
    with LiveServer(app) as server:
        url = f"{server.url}/api/v1/purchase-orders/2JK3S9VC/acknowledgement"
        start = threading.Barrier(20)

        def send():
            start.wait()
            r = httpx.post(url, json=ACCEPT_ALL, headers={**auth, "Idempotency-Key": key},
                           timeout=60)
            answers.append((r.status_code, r.text))

        threads = [threading.Thread(target=send) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(answers) == 20
    assert {a for a in answers} == {answers[0]} and answers[0][0] == 202, answers[:3]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
