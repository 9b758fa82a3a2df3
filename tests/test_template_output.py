"""Template output escaped as plain text (webapp/template_output.py): same pages, fewer objects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, Undefined
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape
from sqlalchemy import select

from tests.auth_helpers import sign_in
from webapp.demo.seed import seed_demo
from webapp.extensions import db
from webapp.orders.models import PoState, PurchaseOrder
from webapp.template_output import EscapedTextCodeGenerator, escaped_text
from webapp.vendors.models import Vendor


class _Html:
    def __html__(self):
        return "<b>safe</b>"


@pytest.mark.parametrize("value", [
    "plain", "<script>&'\"", "", Markup("<i>kept</i>"), 5, -3, Decimal("1.50"), 2.5, None,
    True, _Html(), Undefined(), datetime(2026, 11, 23, 9, 30, tzinfo=UTC), ["<a>"],
    type("StrSubclass", (str,), {})("<sub>"),
])
def test_escaped_text_is_markupsafes_escape_as_text(value):
    assert escaped_text(value) == str(escape(value))
    assert type(escaped_text(value)) in (str, Markup)


@given(st.text())
def test_escaped_text_matches_escape_for_any_text(text):
    assert escaped_text(text) == str(escape(text))


def _compiled(generator, source: str) -> str:
    env = Environment(autoescape=True)
    env.code_generator_class = generator
    return env.compile(source, raw=True)


def test_outputs_call_escaped_text_and_volatile_autoescape_keeps_jinjas_code():
    code = _compiled(EscapedTextCodeGenerator, "{{ a }}{% for x in b %}{{ x.y }}{% endfor %}")
    assert code.count("environment.escaped_text(") == 2 and "escape(" not in code.replace(
        "escaped_text(", "")
    volatile = _compiled(EscapedTextCodeGenerator,
                         "{% autoescape on_off %}{{ a }}{% endautoescape %}")
    assert "(escape if context.eval_ctx.autoescape else str)(" in volatile
    assert "escaped_text" not in _compiled(CodeGenerator, "{{ a }}")


def test_macros_set_blocks_and_filters_still_give_markup(app):
    template = app.jinja_env.from_string(
        "{% macro m(v) %}<b>{{ v }}</b>{% endmacro %}"
        "{% set block %}<i>{{ v }}</i>{% endset %}"
        "{{ m(v) }}|{{ block }}|{{ m(v) | upper }}|{% filter lower %}{{ v }}{% endfilter %}"
        "|{{ v ~ m(v) }}|{{ '%s' % v }}")
    assert template.render(v="<X&>") == (
        "<b>&lt;X&amp;&gt;</b>|<i>&lt;X&amp;&gt;</i>|<B>&LT;X&AMP;&GT;</B>|&lt;x&amp;&gt;"
        "|&lt;X&amp;&gt;<b>&lt;X&amp;&gt;</b>|&lt;X&amp;&gt;")


_CSRF = re.compile(r'(name="csrf_token"[^>]*value="|data-csrf=")[^"]*"')
# The overview's "Figures as of" time: each environment computes the cards at its own moment.
_COMPUTED = re.compile(r"<p class=\"meta\" data-computed>.*?</p>")
_CHART_IDS = re.compile(r"\bc\d+([td])\b")  # charts number their titles process-wide


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    text = _CSRF.sub(r'\1"', response.get_data(as_text=True))
    return _CHART_IDS.sub(r"cN\1", _COMPUTED.sub("", text))


def test_every_page_is_the_same_as_with_jinjas_own_code(app, client):
    """Pages of a seeded vendor in both languages, byte for byte (CSRF tokens aside).

    Each page is rendered twice in a row, by the app's environment and by an overlay of it
    (same loader, globals, filters and translations; a cache of its own) that compiles with
    Jinja's own code generator, so both see the same clock.
    """
    result = seed_demo(pos=60, now=datetime.now(UTC) - timedelta(minutes=1))
    user = sign_in(client, vendor=db.session.get(Vendor, result.vendor_id), role="admin")
    numbers = {state: db.session.scalar(select(PurchaseOrder.po_number).where(
        PurchaseOrder.vendor_id == result.vendor_id, PurchaseOrder.state == state.value)
        .limit(1)) for state in PoState}
    paths = ["/orders", "/orders?state=Closed", "/dashboards", "/dashboards/otif",
             "/dashboards/otif/lines", "/dashboards/stock", "/dashboards/sales",
             "/dashboards/shipments", "/dashboards/metrics", "/invoices/", "/invoices/capture",
             "/shipments/", "/settings", "/settings/notifications",
             "/settings/security", "/settings/sessions", "/settings/tokens",
             "/settings/shipping", "/alerts", "/admin/users", "/admin/users/invite",
             "/admin/audit", "/admin/sync/", "/offline"]
    paths += [f"/orders/{number}" for number in numbers.values() if number]
    assert len(paths) >= 26  # a new, an acknowledged and a closed PO page among them

    ours = app.jinja_env
    assert ours.code_generator_class is EscapedTextCodeGenerator
    jinjas = ours.overlay()
    jinjas.code_generator_class = CodeGenerator
    compared = 0
    for language in ("en", "zh_Hans"):
        user.locale = language
        db.session.commit()
        for path in paths:
            page = _page(client, path)
            app.__dict__["jinja_env"] = jinjas  # Flask's cached property, swapped
            try:
                other = _page(client, path)
            finally:
                app.__dict__["jinja_env"] = ours
            at = next((i for i, (a, b) in enumerate(zip(page, other, strict=False)) if a != b),
                      min(len(page), len(other)))
            assert page == other, (language, path, page[at - 300:at + 100], other[at:at + 100])
            compared += 1
    assert compared == 2 * len(paths)
    with app.test_request_context():  # and the app's pages did run the new code
        inbox = ours.get_template("orders/inbox.html")
    assert "escaped_text" in inbox.blocks["content"].__code__.co_names
