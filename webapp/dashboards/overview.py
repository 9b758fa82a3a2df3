"""The dashboard overview's figures, kept per vendor for a minute in each web process.

The overview is the most expensive page of the app (four reports, 13 statements) and its
figures are weekly: OTIF by week, stock and sales from Amazon's weekly reports, ASN counts.
They are computed at most once per DASHBOARD_OVERVIEW_SECONDS per vendor and process, and at
once again when a sync has brought new data (the feeds' last success times are part of the
key) or a setting they depend on has changed; the page says when they were computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

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


def overview(vendor: Vendor, now: datetime) -> Overview:
    """Return the overview's figures for `vendor`, computed now or within the last minute."""
    # New data from a sync, or a changed setting the figures depend on, recomputes at once.
    version = (tuple(sorted(periods.synced_feeds(vendor.id).items())), vendor.timezone,
           vendor.otif_target_percent, vendor.otif_grace_days, vendor.weeks_of_cover_threshold,
           vendor.return_rate_threshold_percent)
    figures = _OVERVIEWS.get(vendor.id, version)
    if figures is not None:
        return figures
    figures = Overview(otif=otif.otif_by_week(vendor, now, 13, breakdowns=False),
                       stock=stock.stock_report(vendor), asn=asn.asn_status(vendor, now),
                       sales=sales.sales_report(vendor, 13), computed_at=now)
    _OVERVIEWS.put(vendor.id, figures, current_app.config["DASHBOARD_OVERVIEW_SECONDS"],
                   version)
    return figures
