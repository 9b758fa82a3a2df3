"""The demo vendor's product catalogue and the Amazon warehouses it ships to."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from random import Random

ASIN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SKU_FAMILIES = ("KIT", "LAMP", "BOT", "MUG", "TOOL", "BAG", "TOY", "CBL", "FAN", "TOWEL")


@dataclass(frozen=True, slots=True)
class Warehouse:
    """An Amazon fulfilment centre (ship-to party) and how often POs name it."""

    party_id: str
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    weight: float


WAREHOUSES = (
    Warehouse("ABE2", "Amazon.com Services LLC", "705 Boulder Drive", "Breinigsville", "PA",
              "18031", 3),
    Warehouse("LGB8", "Amazon.com Services LLC", "1568 N Linden Avenue", "Rialto", "CA",
              "92376", 3),
    Warehouse("SBD1", "Amazon.com Services LLC", "2020 E Central Avenue", "San Bernardino", "CA",
              "92408", 2),
    Warehouse("ONT8", "Amazon.com Services LLC", "24300 Nandina Avenue", "Moreno Valley", "CA",
              "92551", 2),
    Warehouse("FTW1", "Amazon.com Services LLC", "33333 LBJ Freeway", "Dallas", "TX",
              "75241", 2),
    Warehouse("MDW2", "Amazon.com Services LLC", "250 Emerald Drive", "Joliet", "IL",
              "60433", 1),
)

BILL_TO = {
    "partyId": "AMZN_US",
    "address": {
        "name": "Amazon.com Services LLC", "addressLine1": "PO Box 80387", "city": "Seattle",
        "stateOrRegion": "WA", "postalCode": "98108", "countryCode": "US",
        "phone": "206-266-1000",
    },
}


def party_objects(vendor_code: str, warehouse: Warehouse) -> dict:
    """Return the PO's party objects as Amazon's vendorOrders API sends them."""
    address = {
        "name": warehouse.name, "addressLine1": warehouse.street, "city": warehouse.city,
        "stateOrRegion": warehouse.state, "postalCode": warehouse.postal_code,
        "countryCode": "US",
    }
    return {
        "buyingParty": {"partyId": warehouse.party_id, "address": address},
        "sellingParty": {
            "partyId": vendor_code,
            "address": {
                "name": "Demo Trading Co.", "addressLine1": "88 Keyuan Road, Nanshan District",
                "city": "Shenzhen", "stateOrRegion": "Guangdong", "postalCode": "518057",
                "countryCode": "CN",
            },
        },
        "shipToParty": {"partyId": warehouse.party_id, "address": address},
        "billToParty": BILL_TO,
    }


@dataclass(frozen=True, slots=True)
class Item:
    """One ASIN the demo vendor sells to Amazon, with its costs and ordering habits."""

    index: int
    asin: str
    sku: str
    unit_of_measure: str  # how Amazon orders it: Cases of unit_size, or Eaches
    unit_size: int
    net_cost: Decimal
    list_price: Decimal
    popularity: float  # relative share of PO lines
    line_eaches: int  # typical units on one PO line
    back_order_allowed: bool
    profile: str  # normal, low (sells faster than it is replenished) or slow (piles up)
    return_rate: float


def make_catalogue(rng: Random, currency: str = "USD", size: int = 60) -> list[Item]:
    """Return `size` items with distinct ASINs; popularity falls off like real catalogues."""
    asins: set[str] = set()
    items = []
    for index in range(size):
        asin = "B0" + "".join(rng.choices(ASIN_CHARS, k=8))
        while asin in asins:
            asin = "B0" + "".join(rng.choices(ASIN_CHARS, k=8))
        asins.add(asin)
        cases = rng.random() < 0.7
        unit_size = rng.choice((6, 12, 24)) if cases else 1
        cost = Decimal(rng.randint(250, 6000)) / 100
        # Shelf prices end in .99 and sit well above the wholesale cost.
        price = (cost * Decimal(str(round(rng.uniform(1.6, 2.4), 2)))).to_integral_value()
        price = price - Decimal("0.01") if price > 1 else Decimal("0.99")
        popularity = 1 / (index + 1) ** 0.8
        roll = rng.random()
        profile = "low" if roll < 0.1 else "slow" if roll < 0.2 else "normal"
        family = SKU_FAMILIES[index % len(SKU_FAMILIES)]
        items.append(Item(
            index=index, asin=asin, sku=f"DTC-{family}-{1000 + index * 7}",
            unit_of_measure="Cases" if cases else "Eaches", unit_size=unit_size,
            net_cost=cost, list_price=price, popularity=popularity,
            line_eaches=max(unit_size, round(rng.uniform(40, 400) * popularity ** 0.5)),
            back_order_allowed=rng.random() < 0.3, profile=profile,
            return_rate=rng.uniform(0.01, 0.12),
        ))
    return items
