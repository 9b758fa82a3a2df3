"""Realistic, seed-deterministic sandbox data: warehouses, catalogues, purchase orders, plans."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PO_ALPHABET = string.ascii_uppercase + string.digits

# Real Amazon fulfilment-centre codes; street lines are plausible, not authoritative.
WAREHOUSES: dict[str, dict[str, str]] = {
    "ABE2": {
        "addressLine1": "705 Boulder Dr",
        "city": "Breinigsville",
        "stateOrRegion": "PA",
        "postalCode": "18031",
    },
    "LGB8": {
        "addressLine1": "1568 N Linden Ave",
        "city": "Rialto",
        "stateOrRegion": "CA",
        "postalCode": "92376",
    },
    "SBD1": {
        "addressLine1": "1910 E Central Ave",
        "city": "San Bernardino",
        "stateOrRegion": "CA",
        "postalCode": "92408",
    },
    "PHX6": {
        "addressLine1": "4750 W Mohave St",
        "city": "Phoenix",
        "stateOrRegion": "AZ",
        "postalCode": "85043",
    },
    "MDW2": {
        "addressLine1": "250 Emerald Dr",
        "city": "Joliet",
        "stateOrRegion": "IL",
        "postalCode": "60433",
    },
    "BFI4": {
        "addressLine1": "21005 64th Ave S",
        "city": "Kent",
        "stateOrRegion": "WA",
        "postalCode": "98032",
    },
    "ONT8": {
        "addressLine1": "24300 Nandina Ave",
        "city": "Moreno Valley",
        "stateOrRegion": "CA",
        "postalCode": "92551",
    },
    "TPA1": {
        "addressLine1": "3350 Laurel Ridge Ave",
        "city": "Ruskin",
        "stateOrRegion": "FL",
        "postalCode": "33570",
    },
    "CLT2": {
        "addressLine1": "10240 Old Dowd Rd",
        "city": "Charlotte",
        "stateOrRegion": "NC",
        "postalCode": "28214",
    },
    "DFW7": {
        "addressLine1": "944 W Sandy Lake Rd",
        "city": "Coppell",
        "stateOrRegion": "TX",
        "postalCode": "75019",
    },
}
DEFAULT_WAREHOUSES = ["ABE2", "LGB8", "SBD1", "PHX6", "MDW2", "BFI4"]

BUYING_PARTY = {
    "partyId": "AMAZON",
    "address": {
        "name": "Amazon.com Services LLC",
        "addressLine1": "410 Terry Ave N",
        "city": "Seattle",
        "stateOrRegion": "WA",
        "postalCode": "98109",
        "countryCode": "US",
    },
}
BILL_TO_PARTY = {
    "partyId": "AMZN_US",
    "address": {
        "name": "Amazon.com Services LLC",
        "addressLine1": "PO Box 80387",
        "city": "Seattle",
        "stateOrRegion": "WA",
        "postalCode": "98108",
        "countryCode": "US",
    },
    "taxInfo": {"taxRegistrationType": "VAT", "taxRegistrationNumber": "US911986545"},
}
PRODUCT_WORDS = ["Trail", "Oak", "Cedar", "River", "Summit", "Maple", "Harbor", "Ember"]
MARKETPLACE_ID = "ATVPDKIKX0DER"


def iso(moment: datetime) -> str:
    """Format a time the one way the sandbox stores and serves it (UTC, seconds, Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time (Z or offset; naive means UTC)."""
    moment = datetime.fromisoformat(value.strip().replace("z", "Z").replace(" ", "+"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def money(amount: Decimal | str) -> str:
    """Format money as Amazon's decimal string with two places."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def make_catalogue(rng: random.Random, count: int = 60) -> list[dict]:
    """Return `count` ASINs with vendor SKUs, net cost and list price (decimal strings)."""
    catalogue, seen = [], set()
    while len(catalogue) < count:
        asin = "B0" + "".join(rng.choices(PO_ALPHABET, k=8))
        if asin in seen:
            continue
        seen.add(asin)
        net = Decimal(rng.randint(199, 24999)) / 100
        markup = Decimal(rng.randint(140, 220)) / 100
        catalogue.append(
            {
                "asin": asin,
                "sku": f"{rng.choice(PRODUCT_WORDS)[:3].upper()}-{rng.randint(10000, 99999)}",
                "net_cost": money(net),
                "list_price": money(net * markup),
                "currency": "USD",
                "title": f"{rng.choice(PRODUCT_WORDS)} {rng.choice(['Lantern', 'Kettle', 'Pack'])}",
            }
        )
    return catalogue


def new_po_number(rng: random.Random, taken) -> str:
    """Return an unused 8-character alphanumeric PO number."""
    while True:
        number = "".join(rng.choices(PO_ALPHABET, k=8))
        if number not in taken:
            return number


def _line_count(rng: random.Random, lines_per_po) -> int:
    if isinstance(lines_per_po, int):
        return max(1, lines_per_po)
    low, high = lines_per_po
    return rng.randint(max(1, low), max(low, high))


def make_purchase_order(
    seed: int,
    number: str,
    account: dict,
    vendor_code: str,
    ordered_at: datetime,
    lines_per_po=(1, 12),
) -> dict:
    """Build one PO (internal form) and its plan: Amazon changes, receipt time, short lines."""
    rng = random.Random(f"{seed}:{number}")  # per-PO stream: one PO never shifts another
    ordered_at = ordered_at.replace(microsecond=0)
    ship_start = (ordered_at + timedelta(days=rng.randint(2, 5))).replace(
        hour=7, minute=0, second=0
    )
    ship_end = ship_start + timedelta(days=rng.randint(4, 7))
    delivery_start = ship_start + timedelta(days=2)
    delivery_end = ship_end + timedelta(days=3)
    products = rng.sample(
        account["asins"], k=min(len(account["asins"]), _line_count(rng, lines_per_po))
    )
    items = []
    for sequence, product in enumerate(products, start=1):
        if rng.random() < 0.5:
            unit, size, amount = "Cases", rng.choice([6, 12, 24]), rng.randint(1, 40)
        else:
            unit, size, amount = "Eaches", 1, rng.randint(1, 400)
        items.append(
            {
                "seq": str(sequence),
                "asin": product["asin"],
                "sku": product["sku"],
                "amount": amount,
                "unit": unit,
                "unit_size": size,
                "original_amount": amount,
                "backorder": rng.random() < 0.4,
                "net_cost": product["net_cost"],
                "list_price": product["list_price"],
                "currency": product.get("currency", "USD"),
                "cancelled": False,
                "quantity_updated_at": None,
                # Amazon's view of the vendor's answer and of the receipts (all in eaches).
                "confirmation": "UNCONFIRMED",
                "accepted": 0,
                "rejected": 0,
                "ack_date": None,
                "ack_net_cost": None,
                "ever_rejected": False,
                "received": 0,
                "last_received": None,
                "short_factor": rng.choice([60, 75, 85, 95]) if rng.random() < 0.15 else 100,
            }
        )
    late = rng.random() < 0.2
    if late:
        receipt_at = delivery_end + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 20))
    else:
        span = (delivery_end - delivery_start).total_seconds()
        receipt_at = delivery_start + timedelta(seconds=int(span * rng.random()))
    change = None
    roll = rng.random()
    if roll < 0.12:
        change = {
            "at": iso(ordered_at + timedelta(hours=rng.randint(2, 40))),
            "kind": rng.choices(["quantity", "cancel_line", "cancel_po"], [6, 3, 1])[0],
            "line": rng.randrange(len(items)),
            "factor": rng.choice([50, 60, 75, 90]),
        }
    po_type = rng.choices(
        ["RegularOrder", "RushOrder", "NewProductIntroduction", "ConsignedOrder"], [90, 5, 4, 1]
    )[0]
    ordered = iso(ordered_at)
    return {
        "number": number,
        "account": account["refresh_token"],
        "vendor_code": vendor_code,
        "state": "New",
        "type": po_type,
        "payment_method": "Consignment" if po_type == "ConsignedOrder" else "Invoice",
        "ordered_at": ordered,
        "changed_at": None,
        "state_changed_at": ordered,
        "updated_at": ordered,
        "ship_to": rng.choice(account["warehouses"]),
        "ship_window": [iso(ship_start), iso(ship_end)],
        "delivery_window": [iso(delivery_start), iso(delivery_end)],
        "deal_code": f"DEAL-{rng.randint(1000, 9999)}" if rng.random() < 0.05 else None,
        "items": items,
        "plan": {"receipt_at": iso(receipt_at), "late": late, "change": change},
        "version": 0,
    }


def party(party_id: str, name: str | None = None) -> dict:
    """Return a PartyIdentification with a real-looking address (warehouses or vendors)."""
    where = WAREHOUSES.get(party_id)
    if where:
        address = {"name": f"Amazon.com Services LLC {party_id}", **where, "countryCode": "US"}
    else:
        address = {
            "name": name or f"Vendor {party_id}",
            "addressLine1": "100 Industrial Way",
            "city": "Reno",
            "stateOrRegion": "NV",
            "postalCode": "89502",
            "countryCode": "US",
        }
    return {"partyId": party_id, "address": address}


def ack_choice(rng: random.Random, item: dict) -> tuple[str, int]:
    """Pick a typical vendor answer for a line (used when settling history): code and eaches."""
    eaches = item["amount"] * item["unit_size"]
    roll = rng.random()
    if roll < 0.82:
        return "Accepted", eaches
    if roll < 0.92:
        return "Accepted", max(
            item["unit_size"], eaches * 3 // 4 // item["unit_size"] * item["unit_size"]
        )
    return "Rejected", 0
