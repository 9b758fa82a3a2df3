"""The inbox, PO detail and answering a PO with plain forms (no JavaScript)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.auth_helpers import make_vendor, post, sign_in
from tests.orders_helpers import add_po
from webapp.amazon.models import OutboxMessage
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder


def test_inbox_sorted_by_deadline_with_bands_search_and_paging(app, client):
    user = sign_in(client)
    add_po(user.vendor_id, "LATER001", due_in_hours=20)
    add_po(user.vendor_id, "SOON0001", due_in_hours=3)
    add_po(user.vendor_id, "LATE0001", due_in_hours=-1)
    add_po(user.vendor_id, "URGENT01", due_in_hours=0.5)
    html = client.get("/orders").get_data(as_text=True)
    order = [html.index(n) for n in ("LATE0001", "URGENT01", "SOON0001", "LATER001")]
    assert order == sorted(order)
    for band in ("band-overdue", "band-urgent", "band-soon", "band-ok"):
        assert band in html
    assert 'data-badge>4<' in html
    found = client.get("/orders?q=sku-cup-2").get_data(as_text=True)
    assert "LATE0001" in found  # SKU search matches every PO with the SKU
    only = client.get("/orders?q=SOON").get_data(as_text=True)
    assert "SOON0001" in only and "LATER001" not in only
    # Another vendor's PO never shows.
    other = make_vendor("Other Co")
    add_po(other.id, "OTHER001")
    assert "OTHER001" not in client.get("/orders").get_data(as_text=True)
    assert client.get("/orders/OTHER001").status_code == 404


def test_keyset_pagination_walks_every_po_once(app, client):
    from webapp.orders import inbox

    user = sign_in(client)
    for n in range(30):
        add_po(user.vendor_id, f"PAGE{n:04d}", due_in_hours=5 + (n % 3))  # ties on deadline
    seen, cursor = [], None
    while True:
        page = inbox.inbox_page(user.vendor_id, inbox.InboxQuery(after=cursor, limit=7))
        seen += [po.po_number for po in page.orders]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 30 and len(set(seen)) == 30
    assert 'rel="next"' in client.get("/orders").get_data(as_text=True)


def test_inbox_first_page_statement_built_once_answers_like_the_general_one(app, client):
    from webapp.orders import inbox

    user = sign_in(client)
    other = make_vendor("Other Co")
    for n in range(9):
        add_po(user.vendor_id, f"FIRST{n:03d}", due_in_hours=5 + (n % 4),
               state="Acknowledged" if n % 3 == 0 else "New")
        add_po(other.id, f"OTHER{n:03d}", due_in_hours=1)
    add_po(user.vendor_id, "CLOSED01", due_in_hours=1, state="Closed")
    for limit in (4, 25):
        first = inbox.inbox_page(user.vendor_id, inbox.InboxQuery(limit=limit),
                                 only=inbox.LIST_COLUMNS)  # the statement built once
        general = inbox.inbox_page(user.vendor_id, inbox.InboxQuery(limit=limit))  # ORM path
        assert [po.po_number for po in first.orders] == \
            [po.po_number for po in general.orders]
        assert first.next_cursor == general.next_cursor
        assert len(first.orders) == min(limit, 9)
        assert all(n.startswith("FIRST") for n in (po.po_number for po in first.orders))
    assert inbox._first_page_statement.cache_info().currsize == 1


def test_detail_shows_cases_eaches_costs_and_accept_all_queues_once(app, client):
    user = sign_in(client)
    add_po(user.vendor_id)
    html = client.get("/orders/2JK3S9VC").get_data(as_text=True)
    assert "10 cases × 12 = 120 eaches" in html
    assert "$1,260.00" in html  # 10.50 per each x 120, in the reader's locale
    r = post(client, "/orders/2JK3S9VC/accept-all", token_from="/orders/2JK3S9VC")
    assert r.status_code == 302
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == "2JK3S9VC"))
    db.session.refresh(po)
    assert po.ack_state == "pending"
    html = client.get("/orders/2JK3S9VC").get_data(as_text=True)
    assert "Pending" in html and "po.acknowledge" in html
    # A second tap is refused with the plain message, never a second outbox row.
    r = post(client, "/orders/2JK3S9VC/accept-all", token_from="/orders/2JK3S9VC")
    assert r.status_code == 422 and "already on its way" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_line_answers_with_rules_and_risk_confirmation(app, client):
    user = sign_in(client)
    add_po(user.vendor_id)
    page = "/orders/2JK3S9VC"
    # Over the ordered quantity: refused with the rule's message.
    r = post(client, f"{page}/acknowledge", {"code-1": "Accepted", "qty-1": "11",
                                              "code-2": "Accepted", "qty-2": "5"},
             token_from=page)
    assert r.status_code == 422 and "never confirm more than ordered" in r.get_data(as_text=True)
    # A short confirmation is a risk: shown on a confirm page, sent only after "Send anyway".
    data = {"code-1": "Accepted", "qty-1": "4", "code-2": "Rejected",
            "reason-2": "ObsoleteProduct"}
    r = post(client, f"{page}/acknowledge", data, token_from=page)
    assert r.status_code == 200 and "lowers your confirmation rate" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    r = post(client, f"{page}/acknowledge", {**data, "confirmed": "1"}, token_from=page)
    assert r.status_code == 302
    message = db.session.scalar(select(OutboxMessage))
    items = message.payload["acknowledgements"][0]["items"]
    assert items[0]["itemAcknowledgements"][0]["acknowledgedQuantity"]["amount"] == 4
    assert items[1]["itemAcknowledgements"][0]["rejectionReason"] == "ObsoleteProduct"


def test_viewer_cannot_answer(app, client):
    user = sign_in(client, role="viewer")
    add_po(user.vendor_id)
    assert "Accept all as ordered" not in client.get("/orders/2JK3S9VC").get_data(as_text=True)
    r = post(client, "/orders/2JK3S9VC/accept-all", token_from="/orders/2JK3S9VC")
    assert r.status_code == 403


def test_second_manager_approves_a_large_rejection_on_the_page(app, client):
    from decimal import Decimal

    first = sign_in(client)
    first.vendor.dual_control_reject_above = Decimal("10")
    db.session.commit()
    add_po(first.vendor_id)
    page = "/orders/2JK3S9VC"
    data = {"code-1": "Rejected", "reason-1": "ObsoleteProduct", "code-2": "Accepted",
            "qty-2": "5", "confirmed": "1"}
    assert post(client, f"{page}/acknowledge", data, token_from=page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Waiting for a second manager" in html and "Approve and send" not in html
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    second = app.test_client()
    sign_in(second, vendor=first.vendor)
    html = second.get(page).get_data(as_text=True)
    approval_id = html.split('data-approval="')[1].split('"')[0]
    r = post(second, f"/orders/approvals/{approval_id}/approve", token_from=page)
    assert r.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_search_for_a_common_item_walks_pos_in_deadline_order(app, client, monkeypatch):
    from webapp.orders import inbox

    user = sign_in(client)
    add_po(user.vendor_id, "COMMON01", due_in_hours=3)
    add_po(user.vendor_id, "COMMON02", due_in_hours=1)
    monkeypatch.setattr(inbox, "MANY_LINES", 0)  # every item counts as common
    page = inbox.inbox_page(user.vendor_id, inbox.InboxQuery(q="b07dfvdrab"))
    assert [po.po_number for po in page.orders] == ["COMMON02", "COMMON01"]
    assert not inbox.inbox_page(user.vendor_id, inbox.InboxQuery(q="B000000000")).orders
