"""Inbox rows computed in the view and the cached Orders badge (issue 10's load work)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_datetime

from tests.auth_helpers import post, sign_in
from tests.orders_helpers import add_po
from webapp.extensions import db
from webapp.i18n import datetime_formatter
from webapp.orders import inbox


def test_datetime_formatter_matches_the_datetimeformat_filter(app, monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "timezone_selector", lambda: "Asia/Shanghai")
    moments = [datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
               datetime(2026, 11, 1, 23, 5, tzinfo=UTC), datetime(2026, 7, 4, 12, 0)]
    with app.test_request_context("/"):
        fmt = datetime_formatter("yyyy-MM-dd HH:mm")
        for dt in moments:
            assert fmt(dt) == format_datetime(dt, "yyyy-MM-dd HH:mm")
        assert fmt(moments[0]) == "2026-03-08 14:59"  # UTC+8


def test_row_links_and_countdowns_match_url_for_and_the_bands(app, client):
    user = sign_in(client)
    add_po(user.vendor_id, "LATE0001", due_in_hours=-1.5)
    add_po(user.vendor_id, "A B7", due_in_hours=3)
    html = client.get("/orders").get_data(as_text=True)
    with app.test_request_context("/"):
        for number in ("LATE0001", "A B7"):
            assert f'href="{url_for("orders.detail_page", number=number)}"' in html
    assert 'class="countdown band-overdue"' in html and "1h 30m overdue" in html
    assert 'class="countdown band-soon"' in html and "h 59m left" in html
    assert 'data-ack-state="none">Not answered<' in html
    assert 'data-fmt-left="{h}h {m}m left"' in html


def test_badge_is_cached_and_one_less_on_an_answer_without_a_recount(app, client):
    user = sign_in(client)
    for number in ("FIRST001", "SECOND01"):
        add_po(user.vendor_id, number)
    assert 'data-badge>2<' in client.get("/orders").get_data(as_text=True)
    add_po(user.vendor_id, "THIRD001")  # a sync adds one: shown within BADGE_TTL_SECONDS
    assert 'data-badge>2<' in client.get("/orders").get_data(as_text=True)
    counts = []

    def note_count(_conn, _cursor, statement, *_args):
        if "count(*)" in statement:
            counts.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", note_count)
    try:
        r = post(client, "/orders/FIRST001/accept-all", token_from="/orders/FIRST001")
        assert r.status_code in (302, 303)
        html = client.get("/orders").get_data(as_text=True)
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", note_count)
    assert 'data-badge>1<' in html and counts == []  # FIRST001 answered: one less, not counted
    # Asked again (already answered): the badge stays as it is.
    post(client, "/orders/FIRST001/accept-all", token_from="/orders/FIRST001")
    assert 'data-badge>1<' in client.get("/orders").get_data(as_text=True)
    with app.app_context():
        assert inbox.badge_count(user.vendor_id) == 2  # counted afresh: SECOND01 and THIRD001
