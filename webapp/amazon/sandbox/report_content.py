"""What the weekly vendor inventory and sales reports say, computed from POs and receipts.

A weekly ledger per ASIN (received, ordered, accepted, open units, seeded demand, sales and
stock on hand) turned into Amazon's report rows and weekly aggregates. Mixed into
`SandboxStore` (see store.py), whose `seed`, `pos`, `accounts` and `now()` it reads.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from webapp.amazon.sandbox import generator as gen
from webapp.amazon.sandbox.generator import iso, parse_iso


def week_start(day: date) -> date:
    """Return the Sunday that starts Amazon's retail week holding `day`."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


class ReportContent:
    """Build report documents: the weekly ledger, rows per ASIN and weekly totals."""

    def build_report(self, report: dict) -> dict:
        """Compute a weekly inventory or sales report from the POs and their receipts."""
        account = self.accounts[report["account"]]
        first = week_start(parse_iso(report["start"]).date())
        last = week_start(parse_iso(report["end"]).date())
        weeks = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
        ledger = self._weekly_ledger(account, weeks[-1] + timedelta(days=6))
        by_asin, totals = [], {}
        for week in weeks:
            rows = [
                self._report_row(report["type"], week, product, ledger)
                for product in account["asins"]
            ]
            by_asin += rows
            totals[week] = self._aggregate(report["type"], week, rows)
        spec = {
            "reportType": report["type"],
            "reportOptions": report["options"],
            "lastUpdatedDate": self.now().date().isoformat(),
            "dataStartTime": first.isoformat(),
            "dataEndTime": (weeks[-1] + timedelta(days=6)).isoformat(),
            "marketplaceIds": report["marketplace_ids"],
        }
        if report["type"] == "GET_VENDOR_SALES_REPORT":
            return {
                "reportSpecification": spec,
                "salesAggregate": list(totals.values()),
                "salesByAsin": by_asin,
            }
        return {
            "reportSpecification": spec,
            "inventoryAggregate": list(totals.values()),
            "inventoryByAsin": by_asin,
        }

    def _weekly_ledger(self, account: dict, until: date) -> dict:
        """Per (asin, week): received, ordered, accepted, open units, sold and on hand."""
        stats: dict[tuple[str, date], dict] = {}

        def cell(asin, week):
            return stats.setdefault(
                (asin, week),
                {
                    "received": 0,
                    "ordered": 0,
                    "accepted": 0,
                    "received_cost": Decimal(0),
                    "open": 0,
                    "lead_days": [],
                },
            )

        until_iso = iso(datetime.combine(until, datetime.max.time(), tzinfo=UTC))
        earliest = until
        for po in self.pos.values():
            if po["account"] != account["refresh_token"] or po["ordered_at"] > until_iso:
                continue
            ordered_day = parse_iso(po["ordered_at"]).date()
            earliest = min(earliest, ordered_day)
            for item in po["items"]:
                entry = cell(item["asin"], week_start(ordered_day))
                entry["ordered"] += item["amount"] * item["unit_size"]
                entry["accepted"] += item["accepted"]
                if item["received"] and item["last_received"]:
                    received_day = parse_iso(item["last_received"]).date()
                    got = cell(item["asin"], week_start(received_day))
                    got["received"] += item["received"]
                    got["received_cost"] += (
                        Decimal(item["ack_net_cost"] or item["net_cost"]) * item["received"]
                    )
                    got["lead_days"].append((received_day - ordered_day).days)
        ledger = {}
        weeks = []
        week = week_start(earliest)
        while week <= until:
            weeks.append(week)
            week += timedelta(weeks=1)
        today = self.now().date()
        for product in account["asins"]:
            asin = product["asin"]
            rng = random.Random(f"{self.seed}:stock:{asin}")
            on_hand = rng.randint(50, 600)
            for week in weeks:
                entry = cell(asin, week)
                week_rng = random.Random(f"{self.seed}:demand:{asin}:{week.isoformat()}")
                demand = week_rng.randint(0, 120) if week <= today else 0  # no future sales
                available = on_hand + entry["received"]
                sold = min(demand, available)
                entry.update(
                    on_hand_start=on_hand,
                    demand=demand,
                    sold=sold,
                    returns=sold * week_rng.randint(0, 4) // 100,
                    unsellable=week_rng.randint(0, 12),
                )
                on_hand = available - sold
                entry["on_hand_end"] = on_hand
                ledger[(asin, week)] = entry
        # Open PO units at each week's end: accepted but not received by then.
        for po in self.pos.values():
            if po["account"] != account["refresh_token"] or po["state"] == "New":
                continue
            ordered_day = parse_iso(po["ordered_at"]).date()
            for item in po["items"]:
                if not item["accepted"]:
                    continue
                received_day = (
                    parse_iso(item["last_received"]).date() if item["last_received"] else None
                )
                for week in weeks:
                    end = week + timedelta(days=6)
                    entry = ledger.get((item["asin"], week))
                    if (
                        entry is not None
                        and ordered_day <= end
                        and (received_day is None or received_day > end)
                    ):
                        entry["open"] += item["accepted"]
        return ledger

    @staticmethod
    def _amount(value: Decimal, currency: str = "USD") -> dict:
        # The report schemas type amounts as JSON numbers; two-place decimals print exactly.
        return {"amount": float(value.quantize(gen.CENT)), "currencyCode": currency}

    def _report_row(self, report_type: str, week: date, product: dict, ledger: dict) -> dict:
        entry = ledger.get((product["asin"], week)) or {
            "received": 0,
            "ordered": 0,
            "accepted": 0,
            "received_cost": Decimal(0),
            "open": 0,
            "lead_days": [],
            "on_hand_start": 0,
            "demand": 0,
            "sold": 0,
            "returns": 0,
            "unsellable": 0,
            "on_hand_end": 0,
        }
        cost, price = Decimal(product["net_cost"]), Decimal(product["list_price"])
        row = {
            "startDate": week.isoformat(),
            "endDate": (week + timedelta(days=6)).isoformat(),
            "asin": product["asin"],
        }
        if report_type == "GET_VENDOR_SALES_REPORT":
            row.update(
                customerReturns=entry["returns"],
                orderedRevenue=self._amount(price * entry["demand"]),
                orderedUnits=entry["demand"],
                shippedCogs=self._amount(cost * entry["sold"]),
                shippedRevenue=self._amount(price * entry["sold"]),
                shippedUnits=entry["sold"],
            )
            return row
        row.update(
            netReceivedInventoryCost=self._amount(entry["received_cost"]),
            netReceivedInventoryUnits=entry["received"],
            openPurchaseOrderUnits=entry["open"],
            sellableOnHandInventoryCost=self._amount(cost * entry["on_hand_end"]),
            sellableOnHandInventoryUnits=entry["on_hand_end"],
            unsellableOnHandInventoryCost=self._amount(cost * entry["unsellable"]),
            unsellableOnHandInventoryUnits=entry["unsellable"],
            unfilledCustomerOrderedUnits=entry["demand"] - entry["sold"],
        )
        if entry["ordered"]:
            row["vendorConfirmationRate"] = round(entry["accepted"] / entry["ordered"], 4)
        if entry["lead_days"]:
            row["averageVendorLeadTimeDays"] = round(
                sum(entry["lead_days"]) / len(entry["lead_days"]), 2
            )
        stock = entry["on_hand_start"] + entry["received"]
        if stock:
            row["sellThroughRate"] = round(entry["sold"] / stock, 4)
        return row

    def _aggregate(self, report_type: str, week: date, rows: list[dict]) -> dict:
        total = {"startDate": week.isoformat(), "endDate": (week + timedelta(days=6)).isoformat()}

        def add_amount(name):
            value = sum((Decimal(str(r[name]["amount"])) for r in rows), Decimal(0))
            total[name] = self._amount(value)

        def add_units(name):
            total[name] = sum(r[name] for r in rows)

        if report_type == "GET_VENDOR_SALES_REPORT":
            for name in ("orderedRevenue", "shippedCogs", "shippedRevenue"):
                add_amount(name)
            for name in ("customerReturns", "orderedUnits", "shippedUnits"):
                add_units(name)
            return total
        for name in (
            "netReceivedInventoryCost",
            "sellableOnHandInventoryCost",
            "unsellableOnHandInventoryCost",
        ):
            add_amount(name)
        for name in (
            "netReceivedInventoryUnits",
            "openPurchaseOrderUnits",
            "sellableOnHandInventoryUnits",
            "unsellableOnHandInventoryUnits",
            "unfilledCustomerOrderedUnits",
        ):
            add_units(name)
        return total
