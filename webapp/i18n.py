"""Language and time zone of the current request: the user's choice, else the browser's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from babel.dates import parse_pattern
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import current_app, has_request_context, request
from flask.globals import _cv_app
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import get_locale, get_timezone, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup


def select_locale() -> str:
    """Pick English or Simplified Chinese for this request (English outside requests)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    choice = request.cookies.get("lang")
    if choice in current_app.config["LANGUAGES"]:
        return choice
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-SG"])
    return "zh_Hans" if best and best.startswith("zh") else "en"


def select_timezone() -> str:
    """Show times in the signed-in user's vendor time zone (UTC when signed out)."""
    if not has_request_context():
        return "UTC"
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.vendor.timezone
    return "UTC"


def request_translations():
    """Flask-Babel's translations for this request's locale, looked up once per locale.

    `flask_babel.get_translations()` re-resolves the locale through several context proxies on
    every call (about 11 µs); a page makes hundreds of calls. The result is kept on Babel's own
    per-request context next to the locale object it was made for, so `force_locale` and
    `flask_babel.refresh()` (which replace that object) still switch languages at once.
    """
    ctx = _babel_context()
    cached = getattr(ctx, "acorn_translations", None)
    if cached is not None and cached[0] is getattr(ctx, "babel_locale", None) \
            and cached[1] is getattr(ctx, "babel_domain", None):
        return cached[2]
    translations = get_translations()
    ctx = _babel_context()
    if ctx is not None and getattr(ctx, "babel_locale", None) is not None:
        ctx.acorn_translations = (ctx.babel_locale, getattr(ctx, "babel_domain", None),
                                  translations)
    return translations


def _babel_context():
    # Flask-Babel keeps its per-request state in g._flask_babel; read it without going through
    # the `g` proxy (a tenth of the cost, and this runs for every string on a page).
    app_ctx = _cv_app.get(None)
    return app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None


def _format(eval_ctx, text: str, variables: dict):
    # Jinja's new-style gettext: escaped like a literal, always a %-format string; `x % {}` of
    # a text without "%" is the text itself, so that case skips the formatting.
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our own catalog, as Jinja itself does
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _gettext(eval_ctx, string: str, **variables):
    return _format(eval_ctx, request_translations().ugettext(string), variables)


@pass_eval_context
def _ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _format(eval_ctx, request_translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _pgettext(eval_ctx, context: str, string: str, **variables):
    variables.setdefault("context", context)
    return _format(eval_ctx, request_translations().upgettext(context, string), variables)


@pass_eval_context
def _npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _format(eval_ctx, request_translations().unpgettext(context, singular, plural, num),
                   variables)


# Amounts the fast path takes: finite, without a sign (not even -0), and far from Decimal's
# 28-digit precision (Babel normalises an amount in the context precision first).
_FAST_MONEY_LIMIT = Decimal(10) ** 15


@lru_cache(maxsize=256)
def money_formatter(currency: str, locale) -> Callable[[Decimal], str] | None:
    """A formatter giving Babel's standard text for unsigned amounts in `currency`, or None.

    Babel formats an amount in about 30 µs: it looks the currency's symbol, digits and the
    locale's symbols up on every call. For a locale whose pattern is plain (a prefix or suffix
    around `#,##0.00`, groups of three), the text is Python's own `{:,.2f}` with the locale's
    group and decimal symbols, between the prefix and suffix Babel itself gives (about 2 µs).
    The formatter is checked against Babel on sample amounts before it is used; a locale or
    currency that does not fit gets None, and Babel formats every amount as before.
    """
    pattern = locale.currency_formats.get("standard")
    if pattern is None or pattern.grouping != (3, 3) or pattern.scale != 0 \
            or pattern.exp_prec or "@" in pattern.pattern or pattern.int_prec[0] != 1:
        return None
    digits = get_currency_precision(currency)
    symbols = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    spec = f",.{digits}f"

    def number(amount: Decimal) -> str:
        return format(amount, spec).translate(symbols)

    probe = Decimal("1234567.5")
    reference = format_currency(probe, currency, locale=locale)
    if reference.count(number(probe)) != 1:
        return None
    prefix, suffix = reference.split(number(probe))

    def fast(amount: Decimal) -> str:
        return prefix + number(amount) + suffix

    samples = ("0", "0.005", "0.015", "0.5", "1", "12.345", "999.995", "1000", "1E+3",
               "123456789012.125", "0.0001")
    if any(fast(Decimal(text)) != format_currency(Decimal(text), currency, locale=locale)
           for text in samples):
        return None
    return fast


@lru_cache(maxsize=4096)
def _money_text(amount: str, currency: str, locale) -> str:
    # Keyed by the amount's text: -0.00 == 0.00 (and hashes alike) but shows a sign. Babel
    # reads a float through str() itself.
    return format_currency(Decimal(amount), currency, locale=locale)


def money_text(amount, currency: str, locale) -> str:
    """Babel's `format_currency(amount, currency, locale=locale)`, faster (money_formatter)."""
    if type(amount) is Decimal and amount.is_finite() and not amount.is_signed() \
            and amount < _FAST_MONEY_LIMIT:
        fast = money_formatter(currency, locale)
        if fast is not None:
            return fast(amount)
    if isinstance(amount, Decimal | int | float) and not isinstance(amount, bool):
        return _money_text(str(amount), currency, locale)
    return format_currency(amount, currency, locale=locale)


def currency_format(amount, currency: str, format=None, currency_digits=True,  # noqa: A002
                    format_type="standard") -> str:
    """Flask-Babel's `currencyformat` filter, with the common case made fast (money_text)."""
    if format is not None or not currency_digits or format_type != "standard":
        return format_currency(amount, currency, format=format, locale=_request_locale(),
                               currency_digits=currency_digits, format_type=format_type)
    return money_text(amount, currency, _request_locale())


def _request_locale():
    # Flask-Babel's locale of this request (or of force_locale), without its proxies.
    ctx = _babel_context()
    return getattr(ctx, "babel_locale", None) or get_locale()


def install_template_gettext(app) -> None:
    """Give templates `_()`, `gettext()`... with Jinja's new-style semantics, minus the cost.

    Same strings and escaping as Flask-Babel's callables; about 1 µs a call instead of about
    11 (two `Context.call` hops and a proxy-resolved translations lookup per call).
    """
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext,
                                 pgettext=_pgettext, npgettext=_npgettext)
    app.jinja_env.filters["currencyformat"] = currency_format
    app.jinja_env.filters["datetimeformat"] = datetime_format


def datetime_formatter(pattern: str):
    """A function showing UTC datetimes with `pattern` in this request's locale and time zone.

    Same text as the `datetimeformat` filter, whose every call re-resolves the locale and time
    zone through Flask-Babel's proxies; a list page formats one date per row.
    """
    tz, locale, compiled = get_timezone(), get_locale(), parse_pattern(pattern)

    def format_datetime(dt: datetime) -> str:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return compiled.apply(tz.normalize(dt.astimezone(tz)), locale)

    return format_datetime


def datetime_format(value=None, format=None, rebase=True) -> str:  # noqa: A002
    """Flask-Babel's `datetimeformat` filter, each pattern's formatter made once a request.

    Flask-Babel resolves the locale and time zone through its proxies and Babel parses the
    pattern on every call; pages show a date per row. Kept on Babel's per-request context with
    the locale and time zone it was made for, so `force_locale` and `refresh()` still apply.
    """
    ctx = _babel_context()
    if ctx is None or not isinstance(value, datetime) or not rebase \
            or format in (None, "short", "medium", "long", "full"):
        return babel_format_datetime(value, format, rebase)
    kept = getattr(ctx, "acorn_datetime", None)
    if kept is not None and (kept[0] is not getattr(ctx, "babel_locale", None)
                             or kept[1] is not getattr(ctx, "babel_tzinfo", None)):
        kept = None
    formatter = kept[2].get(format) if kept is not None else None
    if formatter is None:
        formatter = datetime_formatter(format)  # resolves this request's locale and zone
        if kept is None:
            kept = ctx.acorn_datetime = (ctx.babel_locale, ctx.babel_tzinfo, {})
        kept[2][format] = formatter
    return formatter(value)
