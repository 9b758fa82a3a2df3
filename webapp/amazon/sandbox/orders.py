"""Purchase orders over their life: creation, Amazon-side changes, receipts, auto-answers.

Mixed into `SandboxStore` (see store.py), whose `lock`, `rng`, `seed`, `pos`, `order_keys`,
`now()`, `account()`, `run_due_events()` and `_schedule()` it uses. The event loop in store.py
calls `_new_po`, `_apply_amazon_change`, `_apply_receipt` and `_auto_acknowledge` when their
events fall due; submissions.py applies a vendor's answer with `_set_line_answer`, `_touch` and
`_after_answer`.
"""

from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta

from webapp.amazon.sandbox import generator as gen
from webapp.amazon.sandbox.generator import iso


class OrderLife:
    """Create purchase orders and move them through Amazon's side of their life."""

    def create_purchase_orders(
        self,
        refresh_token: str | None = None,
        count: int = 10,
        days_back: float = 0,
        lines_per_po=(1, 12),
        changed: bool = False,
        settle: bool = False,
        vendor_code: str | None = None,
    ) -> list[str]:
        """Create `count` POs spread over the last `days_back` days; return their numbers."""
        with self.lock:
            account = self.account(refresh_token)
            now = self.now()
            span = timedelta(days=float(days_back)).total_seconds()
            moments = sorted(
                now - timedelta(seconds=int(span * self.rng.random())) for _ in range(count)
            )
            numbers = [
                self._new_po(
                    account,
                    moment,
                    lines_per_po,
                    settle=settle,
                    changed=changed,
                    vendor_code=vendor_code,
                )["number"]
                for moment in moments
            ]
            self.run_due_events()
            self.dirty = True
            return numbers

    def _new_po(
        self,
        account: dict,
        moment: datetime,
        lines_per_po,
        *,
        settle: bool,
        changed: bool = False,
        vendor_code: str | None = None,
    ) -> dict:
        number = gen.new_po_number(self.rng, self.pos)
        code = vendor_code or self.rng.choice(account["vendor_codes"])
        po = gen.make_purchase_order(self.seed, number, account, code, moment, lines_per_po)
        if changed and po["plan"]["change"] is None:
            po["plan"]["change"] = {
                "at": iso(moment + timedelta(hours=1)),
                "kind": "quantity",
                "line": 0,
                "factor": 50,
            }
        self.pos[number] = po
        bisect.insort(self.order_keys, (po["ordered_at"], number))
        if po["plan"]["change"]:
            self._schedule(po["plan"]["change"]["at"], "change", number)
        self._schedule(po["plan"]["receipt_at"], "receipt", number)
        po["plan"]["receipt_pending"] = True
        if settle:
            hours = random.Random(f"{self.seed}:ack:{number}").randint(2, 20)
            self._schedule(iso(moment + timedelta(hours=hours)), "auto_ack", number)
        return po

    def _touch(self, po: dict, moment: datetime, state: str | None = None) -> None:
        stamp = iso(moment)
        if state and state != po["state"]:
            po["state"] = state
            po["state_changed_at"] = max(stamp, po["ordered_at"])
        po["updated_at"] = max(stamp, po["updated_at"])
        po["version"] += 1

    def _apply_amazon_change(self, number: str, moment: datetime) -> int:
        po = self.pos.get(number)
        change = po and po["plan"]["change"]
        if not change or po["state"] == "Closed":
            return 0
        stamp = iso(moment)
        live = [item for item in po["items"] if not item["cancelled"]]
        if not live:
            return 0
        targets = live if change["kind"] == "cancel_po" else [live[change["line"] % len(live)]]
        for item in targets:
            if change["kind"] == "quantity":
                item["amount"] = max(1, item["amount"] * change["factor"] // 100)
            else:
                item["amount"], item["cancelled"] = 0, True
            item["quantity_updated_at"] = stamp
            ordered = item["amount"] * item["unit_size"]
            if item["accepted"] > ordered:  # Amazon trims what it no longer wants
                item["accepted"] = ordered
        po["changed_at"] = stamp
        closed = all(item["cancelled"] for item in po["items"])
        self._touch(po, moment, "Closed" if closed else None)
        return 1

    def _apply_receipt(self, number: str, moment: datetime) -> int:
        po = self.pos.get(number)
        if po is None or po["state"] == "Closed":
            return 0
        if po["plan"].get("asn_receipts"):  # received against ASNs (shipments.py) instead
            po["plan"]["receipt_pending"] = False
            return 0
        if po["state"] == "New":
            # Not answered by the delivery date: the goods come a few days after the answer.
            po["plan"]["receipt_pending"] = False
            return 0
        po["plan"]["receipt_pending"] = False
        stamp = iso(moment)
        for item in po["items"]:
            if item["accepted"] > 0:
                item["received"] = max(1, item["accepted"] * item["short_factor"] // 100)
                item["last_received"] = stamp
        self._touch(po, moment, "Closed")
        return 1

    def _auto_acknowledge(self, number: str, moment: datetime) -> None:
        po = self.pos.get(number)
        if po is None or po["state"] != "New":
            return
        rng = random.Random(f"{self.seed}:answer:{number}")
        stamp = iso(moment)
        for item in po["items"]:
            if item["cancelled"]:
                continue
            _, accepted = gen.ack_choice(rng, item)
            self._set_line_answer(item, accepted, stamp, item["net_cost"])
        closed = all(i["accepted"] == 0 for i in po["items"])
        self._touch(po, moment, "Closed" if closed else "Acknowledged")
        self._after_answer(po, moment)

    def _after_answer(self, po: dict, moment: datetime) -> None:
        """Schedule a late receipt when the answer came after the planned delivery."""
        if po["state"] == "Acknowledged" and not po["plan"].get("receipt_pending", True):
            days = random.Random(f"{self.seed}:late:{po['number']}").randint(3, 6)
            self._schedule(iso(moment + timedelta(days=days)), "receipt", po["number"])
            po["plan"]["receipt_pending"] = True

    @staticmethod
    def _set_line_answer(item: dict, accepted: int, stamp: str, net_cost: str | None) -> None:
        ordered = item["amount"] * item["unit_size"]
        item["accepted"], item["rejected"] = accepted, ordered - accepted
        item["ack_date"], item["ack_net_cost"] = stamp, net_cost
        if accepted == 0:
            item["confirmation"], item["ever_rejected"] = "REJECTED", True
        elif accepted >= ordered:
            item["confirmation"] = "ACCEPTED"
        else:
            item["confirmation"] = "PARTIALLY_ACCEPTED"
