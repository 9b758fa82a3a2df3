"""Alerts from events, deadlines and failing syncs; their dispatch; the in-app inbox."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from webapp.amazon.models import SyncState
from webapp.auth.models import User
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders.models import AckApproval, AckState, PoState, PurchaseOrder

# Imported here (not lazily) so the worker process loads pywebpush and the crypto stack once
# and every forked work horse inherits them instead of importing them per job.
from webapp.push.delivery import queue_deliveries
from webapp.push.devices import list_devices, remove_device, subscribe  # noqa: F401
from webapp.push.drafts import (  # noqa: F401
    Draft,
    _deadline_draft,
    _event_draft,
    _po_topic,
    _summary_draft,
    _when,
)
from webapp.push.kinds import (
    ACCEPTING_ROLES,
    CATEGORIES,
    DEFAULT_DEADLINE_HOURS,
    EVENT_CATEGORIES,
    OVERDUE_WINDOW_HOURS,
)
from webapp.push.models import (
    Alert,
    AlertPreference,
    DeliveryState,
    PushDelivery,
    PushSubscription,
)
from webapp.push.preferences import (  # noqa: F401
    DEFAULT_PREFERENCES,
    Preferences,
    PushError,
    _preferences_for_users,
    parse_clock,
    preferences_for,
    quiet_until,
    save_preferences,
)
from webapp.vendors.models import Vendor

SYNC_FAILING_AFTER = timedelta(hours=1)
NEVER_SYNCED_FAILURES = 3
EVENT_SCAN_LIMIT = 2000


# --- alerts ---------------------------------------------------------------------------------

def _ttl_for(category: str, po: PurchaseOrder | None, now: datetime) -> int:
    ttl = int(current_app.config["PUSH_TTL_SECONDS"])
    if category == "deadline" and po is not None:
        # A reminder is useless after the deadline has long passed; never 0 though.
        ttl = min(ttl, max(600, int((po.ack_due_at - now).total_seconds()) + 3600))
    return max(ttl, 60)


def _store_alert(user: User, draft: Draft, dedupe_key: str, *, now: datetime,
                 prefs: Preferences, tz: ZoneInfo, event_id: int | None = None,
                 po: PurchaseOrder | None = None) -> Alert | None:
    """Add one alert for one user unless it exists already."""
    if db.session.scalar(select(Alert.id).where(Alert.dedupe_key == dedupe_key)) is not None:
        return None
    category = CATEGORIES[draft.category]
    data = dict(draft.data)
    actions = [{"action": "open", "title": _("Open")}]
    if draft.po_id and user.role in ACCEPTING_ROLES and (
            draft.kind == "po.new" or draft.kind.startswith("deadline.")):
        actions.append({"action": "accept-all", "title": _("Accept all")})
    data["actions"] = actions
    alert = Alert(
        vendor_id=user.vendor_id, user_id=user.id, dedupe_key=dedupe_key[:200],
        category=draft.category, kind=draft.kind, event_id=event_id,
        purchase_order_id=draft.po_id, title=draft.title, body=draft.body, url=draft.url,
        topic=draft.topic, urgency=category.urgency, ttl=_ttl_for(draft.category, po, now),
        data=data, created_at=now,
        deliver_after=None if category.ignores_quiet_hours else quiet_until(prefs, tz, now),
    )
    db.session.add(alert)
    return alert


def _vendor_users(vendor_ids: set[int]) -> dict[int, list[User]]:
    users = db.session.scalars(
        select(User).where(User.vendor_id.in_(vendor_ids), User.active.is_(True))
        .order_by(User.id)
    ).all() if vendor_ids else []
    by_vendor: dict[int, list[User]] = defaultdict(list)
    for user in users:
        by_vendor[user.vendor_id].append(user)
    return by_vendor


def _zones(vendor_ids: set[int]) -> dict[int, ZoneInfo]:
    rows = db.session.execute(
        select(Vendor.id, Vendor.timezone).where(Vendor.id.in_(vendor_ids))).all()
    return {vid: ZoneInfo(tz) for vid, tz in rows}


def alerts_from_events(now: datetime | None = None) -> int:
    """Turn events not yet notified into alerts for the users who want them; return the count.

    Marks each event notified in the same transaction, so a retried job never alerts twice.
    Several new POs for one user in one scan become one summary alert.
    """
    now = now or utcnow()
    events = db.session.scalars(
        select(Event).where(Event.notified_at.is_(None)).order_by(Event.id)
        .limit(EVENT_SCAN_LIMIT).with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0
    vendor_ids = {e.vendor_id for e in events}
    users_by_vendor = _vendor_users(vendor_ids)
    zones = _zones(vendor_ids)
    prefs = _preferences_for_users([u.id for us in users_by_vendor.values() for u in us])
    po_ids = {e.purchase_order_id for e in events if e.purchase_order_id}
    pos = {po.id: po for po in db.session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.id.in_(po_ids)))} if po_ids else {}
    created = 0
    new_po_events: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        event.notified_at = now
        category = EVENT_CATEGORIES.get(event.kind)
        if category is None:
            continue
        po = pos.get(event.purchase_order_id)
        if event.kind == "po.new":
            # A PO already answered (e.g. found by a backfill) is no news.
            if po is None or po.state == PoState.NEW.value:
                new_po_events[event.vendor_id].append(event)
            continue
        skip = _not_for(event)
        for user in users_by_vendor.get(event.vendor_id, []):
            if (not prefs[user.id].wants(category) or user.id in skip
                    or not CATEGORIES[category].allows(user.role)):
                continue
            locale = user.locale or "en"
            with force_locale(locale):
                draft = _event_draft(event, category, po, zones[event.vendor_id], locale)
                if _store_alert(user, draft, f"event:{event.id}:u:{user.id}", now=now,
                                prefs=prefs[user.id], tz=zones[event.vendor_id],
                                event_id=event.id, po=po):
                    created += 1
    for vendor_id, batch in new_po_events.items():
        for user in users_by_vendor.get(vendor_id, []):
            if not prefs[user.id].wants("new_po"):
                continue
            locale, tz = user.locale or "en", zones[vendor_id]
            with force_locale(locale):
                if len(batch) == 1:
                    event = batch[0]
                    po = pos.get(event.purchase_order_id)
                    draft = _event_draft(event, "new_po", po, tz, locale)
                    key, event_id = f"event:{event.id}:u:{user.id}", event.id
                else:
                    batch_pos = [pos[e.purchase_order_id] for e in batch
                                 if e.purchase_order_id in pos]
                    if not batch_pos:
                        continue
                    draft = _summary_draft(batch_pos, tz, locale)
                    key, event_id, po = f"po.new-summary:{batch[0].id}:u:{user.id}", None, None
                if _store_alert(user, draft, key, now=now, prefs=prefs[user.id], tz=tz,
                                event_id=event_id, po=po):
                    created += 1
    db.session.commit()
    return created


def _not_for(event: Event) -> set[int]:
    """Users who must not get the alert of `event`: whoever asked for an approval."""
    if event.kind != "ack.approval" or not (event.payload or {}).get("approval_id"):
        return set()
    requester = db.session.scalar(select(AckApproval.requested_by_id).where(
        AckApproval.id == event.payload["approval_id"]))
    return {requester} if requester else set()


def _deadline_stage(po: PurchaseOrder, hours: tuple[int, ...], now: datetime):
    """Return (stage, hours) of the most urgent reminder due for `po`, or None."""
    left = po.ack_due_at - now
    if left <= timedelta(0):
        return ("overdue", None) if -left <= timedelta(hours=OVERDUE_WINDOW_HOURS) else None
    reached = [h for h in hours if left <= timedelta(hours=h)]
    return (f"{min(reached)}h", min(reached)) if reached else None


def alerts_from_deadlines(now: datetime | None = None) -> int:
    """Remind users of unanswered POs at their reminder hours and once overdue; return the count.

    Only the most urgent stage reached is sent (a PO seen first 30 minutes before its deadline
    gets the 1-hour reminder, not the 6-hour one as well); each stage once per user.
    """
    now = now or utcnow()
    horizon = max(h for h in (*DEFAULT_DEADLINE_HOURS, *_all_reminder_hours()))
    pos = db.session.scalars(
        select(PurchaseOrder).where(
            PurchaseOrder.state == PoState.NEW.value,
            PurchaseOrder.ack_state.in_((AckState.NONE.value, AckState.FAILED.value)),
            PurchaseOrder.ack_due_at <= now + timedelta(hours=horizon),
            PurchaseOrder.ack_due_at > now - timedelta(hours=OVERDUE_WINDOW_HOURS),
        ).order_by(PurchaseOrder.ack_due_at)
    ).all()
    if not pos:
        return 0
    vendor_ids = {po.vendor_id for po in pos}
    users_by_vendor = _vendor_users(vendor_ids)
    zones = _zones(vendor_ids)
    prefs = _preferences_for_users([u.id for us in users_by_vendor.values() for u in us])
    created = 0
    for po in pos:
        for user in users_by_vendor.get(po.vendor_id, []):
            p = prefs[user.id]
            if not p.wants("deadline"):
                continue
            stage = _deadline_stage(po, p.deadline_hours, now)
            if stage is None:
                continue
            locale = user.locale or "en"
            with force_locale(locale):
                draft = _deadline_draft(po, stage[0], stage[1], zones[po.vendor_id], locale)
                if _store_alert(user, draft, f"deadline:{po.id}:{stage[0]}:u:{user.id}", now=now,
                                prefs=p, tz=zones[po.vendor_id], po=po):
                    created += 1
    db.session.commit()
    return created


def _all_reminder_hours() -> list[int]:
    rows = db.session.scalars(select(AlertPreference.deadline_hours)).all()
    return [int(h) for hours in rows for h in (hours or [])]


def detect_failing_syncs(now: datetime | None = None) -> int:
    """Raise `sync.failing` once per outage for feeds without a success for an hour."""
    now = now or utcnow()
    states = db.session.scalars(select(SyncState).where(
        SyncState.consecutive_failures > 0,
        SyncState.last_error_at.is_not(None),
        or_(SyncState.last_success_at.is_(None),
            SyncState.last_success_at < now - SYNC_FAILING_AFTER),
    )).all()
    raised = 0
    for state in states:
        if state.last_success_at is None and state.consecutive_failures < NEVER_SYNCED_FAILURES:
            continue  # SyncState keeps no first-failure time; a few failures in a row stand in
        since = state.last_success_at.isoformat() if state.last_success_at else "never"
        if raise_event(state.vendor_id, "sync.failing", f"{state.feed}:{state.scope}:{since}",
                       payload={"feed": state.feed, "error": (state.last_error or "")[:200]}):
            raised += 1
    db.session.commit()
    return raised


def send_test_alert(user: User) -> Alert:
    """Create a test alert for every device of `user`, delivered by the normal pipeline."""
    now = utcnow()
    locale = user.locale or "en"
    with force_locale(locale):
        draft = Draft("test", "test", _("Test notification from ACORN"),
                      _("Alerts reach this device. Sent %(when)s",
                        when=_when(now, ZoneInfo(user.vendor.timezone), locale)),
                      "/alerts", None, {})
        alert = _store_alert(user, draft, f"test:{user.id}:{now.timestamp()}", now=now,
                             prefs=DEFAULT_PREFERENCES, tz=ZoneInfo(user.vendor.timezone))
    db.session.flush()
    return alert


# --- dispatch -------------------------------------------------------------------------------

def dispatch_due_alerts(now: datetime | None = None, alert_ids: list[int] | None = None,
                        ) -> list[int]:
    """Create one pending delivery per device for alerts now due; return the delivery ids."""
    now = now or utcnow()
    query = select(Alert).where(
        Alert.dispatched_at.is_(None),
        or_(Alert.deliver_after.is_(None), Alert.deliver_after <= now),
    ).order_by(Alert.id).limit(5000).with_for_update(skip_locked=True)
    if alert_ids is not None:
        query = query.where(Alert.id.in_(alert_ids))
    alerts = db.session.scalars(query).all()
    if not alerts:
        return []
    user_ids = {a.user_id for a in alerts}
    devices: dict[int, list[int]] = defaultdict(list)
    for sub_id, user_id in db.session.execute(
            select(PushSubscription.id, PushSubscription.user_id)
            .where(PushSubscription.user_id.in_(user_ids)).order_by(PushSubscription.id)):
        devices[user_id].append(sub_id)
    rows = []
    for alert in alerts:
        alert.dispatched_at = now
        rows.extend({"alert_id": alert.id, "subscription_id": sub_id, "next_attempt_at": now,
                     "state": DeliveryState.PENDING.value, "attempts": 0}
                    for sub_id in devices.get(alert.user_id, []))
    if rows:
        db.session.execute(PushDelivery.__table__.insert(), rows)
    alert_ids_done = [a.id for a in alerts]
    db.session.commit()
    return list(db.session.scalars(
        select(PushDelivery.id).where(PushDelivery.alert_id.in_(alert_ids_done),
                                      PushDelivery.state == DeliveryState.PENDING.value)
        .order_by(PushDelivery.id)))


def recover_stale_claims(now: datetime | None = None) -> int:
    """Mark deliveries claimed by a worker that died mid-send as in doubt (never re-sent)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["PUSH_CLAIM_STALE_SECONDS"])
    result = db.session.execute(
        update(PushDelivery)
        .where(PushDelivery.state == DeliveryState.SENDING.value, PushDelivery.claimed_at < stale)
        .values(state=DeliveryState.IN_DOUBT.value,
                last_error="worker stopped mid-send; not repeated")
    )
    db.session.commit()
    return result.rowcount or 0


def overdue_pending_deliveries(now: datetime | None = None) -> list[int]:
    """Return pending deliveries whose job should have run by now (lost job or dead worker)."""
    now = now or utcnow()
    grace = timedelta(seconds=current_app.config["PUSH_CLAIM_STALE_SECONDS"])
    return list(db.session.scalars(
        select(PushDelivery.id).where(PushDelivery.state == DeliveryState.PENDING.value,
                                      PushDelivery.next_attempt_at <= now - grace)
        .order_by(PushDelivery.id).limit(10_000)))


# --- inbox ----------------------------------------------------------------------------------

def recent_alerts(user: User, limit: int = 50) -> list[Alert]:
    """Return the user's latest alerts, including ones held by quiet hours."""
    return list(db.session.scalars(
        select(Alert).where(Alert.user_id == user.id)
        .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    """Count the user's unread alerts."""
    return db.session.scalar(select(func.count()).select_from(Alert).where(
        Alert.user_id == user.id, Alert.read_at.is_(None))) or 0


def mark_all_read(user: User) -> None:
    """Mark every alert of the user read."""
    db.session.execute(update(Alert).where(Alert.user_id == user.id, Alert.read_at.is_(None))
                       .values(read_at=utcnow()))


def send_test_notification(user: User, *, queue: bool = True) -> list[int]:
    """Send a test alert to every device of `user`; return the delivery ids."""
    alert = send_test_alert(user)
    db.session.commit()
    ids = dispatch_due_alerts(alert_ids=[alert.id])
    if queue and ids:
        queue_deliveries(ids)
    return ids
