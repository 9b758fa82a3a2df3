"""Templates' `_()` / `ngettext()`: per-request cached translations with Jinja's semantics."""

from flask_babel import force_locale, refresh


def _render(app, source: str, **values) -> str:
    return app.jinja_env.from_string(source).render(**values)


def test_language_follows_the_request(app):
    # Each request in its own app context, as in production (a shared one shares `g`).
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert _render(app, "{{ _('Orders') }}") == "订单"
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _render(app, "{{ _('Orders') }}") == "Orders"


def test_force_locale_and_refresh_switch_the_cached_translations(app, monkeypatch):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _render(app, "{{ _('Orders') }}") == "Orders"
        with force_locale("zh_Hans"):
            assert _render(app, "{{ _('Orders') }}") == "订单"
        assert _render(app, "{{ _('Orders') }}") == "Orders"
        # The user picks Chinese in the settings: the view calls refresh() and the rest of
        # the same request is in Chinese.
        monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "zh_Hans")
        assert _render(app, "{{ _('Orders') }}") == "Orders"  # cached until refresh()
        refresh()
        assert _render(app, "{{ _('Orders') }}") == "订单"


def test_new_style_formatting_and_escaping(app):
    with app.test_request_context("/"):
        assert _render(app, "{{ _('%(h)sh %(m)sm left', h=3, m=5) }}") == "3h 5m left"
        # Variables are escaped, the text is trusted; "%%" is a literal percent sign.
        assert _render(app, "{{ _('Hi %(name)s', name='<b>') }}") == "Hi &lt;b&gt;"
        assert _render(app, "{{ _('100%%') }}") == "100%"
        assert _render(app, "{{ _('plain <i>') }}") == "plain <i>"
        assert _render(app, "{{ ngettext('%(num)s carton', '%(num)s cartons', 1) }}") == \
            "1 carton"
        assert _render(app, "{{ ngettext('%(num)s carton', '%(num)s cartons', n) }}", n=4) == \
            "4 cartons"
        assert _render(app, "{{ gettext('Orders') }}") == "Orders"


def test_chinese_plural_and_placeholders(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        text = _render(app, "{{ _('%(h)sh %(m)sm left', h=2, m=7) }}")
        assert "2" in text and "7" in text and "left" not in text


# Templates compiled per language (webapp/i18n_templates.py): constant strings are translated
# when the template is compiled, the rest stays a call at render time.

_PAGES = {
    "t/base.html": "<{% block body %}{% endblock %}>{% include 't/part.html' %}",
    "t/part.html": "[{{ _('Orders') }}]",
    "t/page.html": "{% extends 't/base.html' %}{% block body %}{{ _('Orders') }}|"
                   "{{ _('Hi %(name)s', name=who) }}|{{ _('plain <i>') }}|{{ _('100%%') }}|"
                   "{{ gettext('Orders') }}{% endblock %}",
    "t/left.html": "{{ _('%(h)sh %(m)sm left', h=[1, 2]|sum, m=(who ~ '!'),) }}|"
                   "{{ _('%(h)sh %(m)sm left', h=3, **{'m': 4}) }}|{{ x._('Orders') }}",
    "t/mail.txt": "{{ _('plain <i>') }} {{ _('Hi %(name)s', name=who) }}",
    "t/mixed.html": "{{ _('Hi %(name)s', name=who) ~ '?' }}|"
                    "{{ _('%(n)s%% of %(name)s', n=5, name=who) }}",
    "t/order.html": "{{ _('%(h)sh %(m)sm left', m=m, h=n) }}|",
}


def _with_test_templates(app):
    from jinja2 import ChoiceLoader, DictLoader

    loader = app.jinja_env.loader
    loader.inner = ChoiceLoader([DictLoader(_PAGES), loader.inner])


def test_pages_render_in_the_request_language_with_includes_and_extends(app):
    from flask import render_template

    _with_test_templates(app)
    for language, orders in (("en", "Orders"), ("zh-CN", "订单"), ("en", "Orders")):
        with app.app_context(), app.test_request_context(
                "/", headers={"Accept-Language": language}):
            assert render_template("t/page.html", who="<b>") == (
                f"<{orders}|Hi &lt;b&gt;|plain <i>|100%|"
                f"{orders}>[{orders}]")
            # Without autoescaping the text and the values stay as they are.
            assert render_template("t/mail.txt", who="<b>") == "plain <i> Hi <b>"
            left = ("3h &lt;b&gt;!m left|3h 4m left" if language == "en"
                    else "剩余 3 小时 &lt;b&gt;! 分|剩余 3 小时 4 分")
            assert render_template("t/left.html", who="<b>",
                                   x={"_": lambda text: text.upper()}) == left + "|ORDERS"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        with force_locale("zh_Hans"):
            assert render_template("t/part.html") == "[订单]"
        assert render_template("t/part.html") == "[Orders]"


def test_strings_are_translated_in_the_compiled_code(app):
    from webapp.i18n_templates import PREFIX

    _with_test_templates(app)
    env = app.jinja_env

    def code(name):
        name = f"{PREFIX}zh_Hans/{name}"
        return env.compile(env.loader.get_source(env, name)[0], name, raw=True)

    page = code("t/page.html")
    assert "订单" in page  # the translation itself is in the compiled template ...
    assert "'Orders'" not in page  # ... and gettext is not called for it
    assert "'100%%'" in page  # a constant holding "%" is still a call
    left = code("t/left.html")
    # A whole `{{ _("...", name=value) }}`: the translation's pieces are template data, each
    # value its own escaped output; nothing is formatted at render time.
    assert "yield '剩余 3 小时 '" in left and "yield ' 分|'" in left
    assert "剩余 %(h)s" not in left
    assert left.count("'%(h)sh %(m)sm left'") == 1  # **kwargs: still a call
    mixed = code("t/mixed.html")
    assert "Markup('Hi %(name)s') %" in mixed  # part of a larger expression: formatted
    assert "yield '|5% of '" in mixed  # "%%" is a literal percent sign


def test_inlined_placeholders_escape_values_and_are_matched_by_name(app):
    from flask import render_template

    _with_test_templates(app)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template("t/mixed.html", who="<b>") == "Hi &lt;b&gt;?|5% of &lt;b&gt;"
        assert render_template("t/order.html", n=None, m="&") == "Noneh &amp;m left|"
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        # The Chinese text: its own words around the same two values.
        assert render_template("t/order.html", n=1, m=2) == "剩余 1 小时 2 分|"


def test_every_template_compiles_in_every_language(app):
    from webapp.i18n_templates import PREFIX, compile_all

    assert compile_all(app) == []
    for language in app.config["LANGUAGES"]:
        assert app.jinja_env.get_template(f"{PREFIX}{language}/base.html") is not None


def test_currency_format_is_babels_in_the_language_of_the_moment(app):
    from decimal import Decimal

    page = "{{ a|currencyformat('USD') }} {{ a|currencyformat('CNY') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for _ in range(2):  # the second time from the kept texts
            assert _render(app, page, a=Decimal("1234.5")) == "$1,234.50 CN¥1,234.50"
            with force_locale("zh_Hans"):
                assert _render(app, page, a=Decimal("1234.5")) == "US$1,234.50 ¥1,234.50"
        assert _render(app, "{{ a|currencyformat('USD', format_type='accounting') }}",
                       a=Decimal("-3")) == "($3.00)"


def test_datetime_format_is_flask_babels_in_the_language_and_zone_of_the_moment(app,
                                                                               monkeypatch):
    from datetime import UTC, datetime

    from flask_babel import format_datetime

    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    page = "{{ t|datetimeformat('yyyy-MM-dd HH:mm EEE') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        # Signed out: UTC. The second time from the formatter kept for the request.
        for _ in range(2):
            assert _render(app, page, t=moment) == "2026-11-22 23:30 Sun" == \
                format_datetime(moment, "yyyy-MM-dd HH:mm EEE")
            with force_locale("zh_Hans"):
                assert _render(app, page, t=moment) == "2026-11-22 23:30 周日"
        monkeypatch.setattr(app.extensions["babel"], "timezone_selector", lambda: "Asia/Shanghai")
        refresh()
        assert _render(app, page, t=moment) == "2026-11-23 07:30 Mon"
        assert _render(app, "{{ t|datetimeformat('short') }}", t=moment) == \
            format_datetime(moment, "short")
