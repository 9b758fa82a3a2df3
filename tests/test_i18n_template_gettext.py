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
