"""Amounts on pages: the fast money text is Babel's `format_currency`, character for character."""

from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.i18n import money_formatter, money_text

LOCALES = ["en", "zh_Hans", "zh_Hans_CN", "de_DE", "fr_FR", "de_CH", "ar_EG", "hi_IN", "ja_JP"]
CURRENCIES = ["USD", "CNY", "EUR", "GBP", "JPY", "BHD", "INR"]

amounts = st.one_of(
    st.decimals(min_value=-10**16, max_value=10**16, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**9).map(lambda cents: Decimal(cents).scaleb(-2)),
    st.integers(0, 10**7).map(lambda mills: Decimal(mills).scaleb(-3)),  # half-way roundings
    st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0.005"), Decimal("2.675"),
                     Decimal("1E+5"), Decimal("999999999999999.995"), Decimal(10) ** 15]),
)


@settings(max_examples=400, deadline=None)
@given(amount=amounts, locale=st.sampled_from(LOCALES), currency=st.sampled_from(CURRENCIES))
def test_money_text_is_babels_text(amount, locale, currency):
    parsed = Locale.parse(locale)
    assert money_text(amount, currency, parsed) == format_currency(amount, currency,
                                                                   locale=parsed)


def test_negative_zero_keeps_its_sign_whatever_was_formatted_before():
    # -0.00 == 0.00 and they hash alike: a cache keyed by the amount mixed them up (India's
    # locale, which Babel formats, showed "-CN¥0.00" for a zero after a negative zero).
    hindi = Locale.parse("hi_IN")
    for amount in (Decimal("-0.00"), Decimal("0.00"), Decimal("-0.00"), 0, -0.0, 0.0):
        assert money_text(amount, "CNY", hindi) == format_currency(amount, "CNY", locale=hindi)


def test_plain_locales_take_the_fast_path_and_others_keep_babel():
    for locale in ("en", "zh_Hans", "de_DE"):
        assert money_formatter("USD", Locale.parse(locale)) is not None
    # India groups by two after the first three (12,34,567.00): Babel formats those.
    assert money_formatter("INR", Locale.parse("hi_IN")) is None


@pytest.mark.parametrize(("locale", "text"), [("en", "$1,234,567.50"),
                                              ("zh_Hans", "US$1,234,567.50")])
def test_the_filter_formats_in_the_request_language(app, locale, text):
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(locale):
        rendered = app.jinja_env.from_string(
            "{{ amount|currencyformat('USD') }}").render(amount=Decimal("1234567.5"))
    assert rendered == text
