"""Input with NUL characters is refused cleanly everywhere (PostgreSQL cannot store it)."""

from tests.orders_helpers import add_po
from tests.test_orders_api import _token


def test_nul_in_query_path_and_json_is_refused_not_a_server_error(app, client):
    user, auth = _token()
    add_po(user.vendor_id, "NULTEST1")
    listed = client.get("/api/v1/purchase-orders?q=AB%00C", headers=auth)
    assert listed.status_code == 400
    assert listed.get_json()["error"]["message"] == "Input must not contain NUL characters."
    assert client.get("/api/v1/purchase-orders/NUL%00TEST1", headers=auth).status_code == 404
    assert client.get("/api/v1/dashboards/otif/lines?asin=B0%00", headers=auth).status_code == 400
    posted = client.post("/api/v1/purchase-orders/NULTEST1/acknowledgement",
                         headers={**auth, "Idempotency-Key": "nul-1"},
                         json={"items": [{"itemSequenceNumber": "1\u0000"}]})
    assert posted.status_code == 400
    assert client.get("/api/v1/purchase-orders/NULTEST1", headers=auth).status_code == 200
