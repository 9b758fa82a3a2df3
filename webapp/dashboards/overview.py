"""The dashboard overview's figures, kept per vendor for a minute in each web process.

The overview is the most expensive page of the app (four reports, 13 statements) and its
figures are weekly: OTIF by week, stock and sales from Amazon's weekly reports, ASN counts.
They are computed at most once per DASHBOARD_OVERVIEW_SECONDS per vendor and process, and at
once again when a sync has brought new data (the feeds' last success times are part of the
key) or a setting they depend on has changed; the page says when they were computed.

The rendered cards are kept with them, per language: they depend on nothing else (the time
zone is part of the figures' version), so a kept overview costs no template work either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

from webapp.core.kept import Kept
from webapp.dashboards import asn, otif, periods, sales, stock
from webapp.vendors.models import Vendor

_OVERVIEWS = Kept("dashboard_overview")


@dataclass(frozen=True)
class Overview:
    """The four cards' figures and when they were computed."""

    otif: otif.OtifReport
    stock: stock.StockReport
    asn: asn.AsnStatus
    sales: sales.SalesReport
    computed_at: datetime
    # The cards rendered from these figures, per language (filled by `cards_html`).
    cards: dict[str, Markup] = field(default_factory=dict, compare=False, repr=False)


def overview(vendor: Vendor, now: datetime) -> Overview:
    """Return the overview's figures for `vendor`, computed now or within the last minute."""
    # New data from a sync, or a changed setting the figures depend on, recomputes at once.
    version = (tuple(sorted(periods.synced_feeds(vendor.id).items())), vendor.timezone,
           vendor.otif_target_percent, vendor.otif_grace_days, vendor.weeks_of_cover_threshold,
           vendor.return_rate_threshold_percent)
    return _OVERVIEWS.get_or_put(vendor.id, lambda: Overview(
        otif=otif.otif_by_week(vendor, now, 13, breakdowns=False),
        stock=stock.stock_report(vendor), asn=asn.asn_status(vendor, now),
        sales=sales.sales_report(vendor, 13), computed_at=now),
        current_app.config["DASHBOARD_OVERVIEW_SECONDS"], version)


def cards_html(figures: Overview) -> Markup:
    """The overview's cards rendered in this request's language, kept with `figures`."""
    language = str(get_locale())
    html = figures.cards.get(language)
    if html is None:
        html = figures.cards[language] = Markup(render_template(  # noqa: S704 - autoescaped
            "dashboards/_overview_cards.html", otif=figures.otif, stock=figures.stock,
            asn=figures.asn, sales=figures.sales, computed_at=figures.computed_at))
    return html
