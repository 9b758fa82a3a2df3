"""Alerts: devices and settings of a user, alerts from events and deadlines, their dispatch."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from webapp.amazon.models import SyncState
from webapp.auth.models import User
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders.models import AckState, PoState, PurchaseOrder

# Imported here (not lazily) so the worker process loads pywebpush and the crypto stack once
# and every forked work horse inherits them instead of importing them per job.
from webapp.push.delivery import queue_deliveries
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
from webapp.vendors.models import Vendor

SYNC_FAILING_AFTER = timedelta(hours=1)
NEVER_SYNCED_FAILURES = 3
EVENT_SCAN_LIMIT = 2000


class PushError(ValueError):
    """A subscription or setting was refused; the message says why."""


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    """A user's effective alert settings (stored values over the defaults)."""

    disabled: frozenset[str]
    deadline_hours: tuple[int, ...]
    quiet_start: int | None
    quiet_end: int | None

    def wants(self, category: str) -> bool:
        """Tell whether alerts of `category` are switched on."""
        return category == "test" or category not in self.disabled

    @property
    def has_quiet_hours(self) -> bool:
        return (self.quiet_start is not None and self.quiet_end is not None
                and self.quiet_start != self.quiet_end)


DEFAULT_PREFERENCES = Preferences(
    disabled=frozenset(c.name for c in CATEGORIES.values() if not c.default_on),
    deadline_hours=DEFAULT_DEADLINE_HOURS, quiet_start=None, quiet_end=None,
)


def _preferences_from_row(row: AlertPreference | None) -> Preferences:
    if row is None:
        return DEFAULT_PREFERENCES
    hours = tuple(sorted({int(h) for h in (row.deadline_hours or [])}, reverse=True))
    return Preferences(frozenset(row.disabled or ()), hours, row.quiet_start, row.quiet_end)


def preferences_for(user_id: int) -> Preferences:
    """Return the effective alert settings of one user."""
    row = db.session.scalar(select(AlertPreference).where(AlertPreference.user_id == user_id))
    return _preferences_from_row(row)


def _preferences_for_users(user_ids: list[int]) -> dict[int, Preferences]:
    rows = db.session.scalars(
        select(AlertPreference).where(AlertPreference.user_id.in_(user_ids))
    ).all() if user_ids else []
    found = {r.user_id: _preferences_from_row(r) for r in rows}
    return {uid: found.get(uid, DEFAULT_PREFERENCES) for uid in user_ids}


def parse_clock(value: str | None) -> int | None:
    """Turn "HH:MM" into minutes after midnight (blank: None)."""
    if not value:
        return None
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError as exc:
        raise PushError(_("Times look like 22:00.")) from exc
    return parsed.hour * 60 + parsed.minute


def save_preferences(user: User, *, enabled: set[str], deadline_hours: list[int],
                     quiet_start: int | None, quiet_end: int | None) -> Preferences:
    """Store a user's alert settings."""
    unknown = set(enabled) - set(CATEGORIES)
    if unknown:
        raise PushError(_("Unknown alert kind: %(kind)s", kind=", ".join(sorted(unknown))))
    hours = sorted({int(h) for h in deadline_hours}, reverse=True)
    if any(h < 1 or h > 23 for h in hours) or len(hours) > 4:
        raise PushError(_("Deadline reminders are 1 to 4 whole hours between 1 and 23."))
    row = db.session.scalar(select(AlertPreference).where(AlertPreference.user_id == user.id))
    if row is None:
        row = AlertPreference(user_id=user.id)
        db.session.add(row)
    row.disabled = sorted(set(CATEGORIES) - set(enabled) - {"test"})
    row.deadline_hours = hours
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    db.session.flush()
    return _preferences_from_row(row)


def quiet_until(prefs: Preferences, tz: ZoneInfo, now: datetime) -> datetime | None:
    """Return when the user's quiet hours end if `now` falls inside them, else None."""
    if not prefs.has_quiet_hours:
        return None
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = prefs.quiet_start, prefs.quiet_end
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, time(end // 60, end % 60), tzinfo=tz)
    return ends.astimezone(UTC)


# --- devices --------------------------------------------------------------------------------

def _b64url_bytes(value: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PushError(_("The subscription's %(field)s key is not base64url.", field=field)) \
            from exc


def _check_endpoint(endpoint: str) -> None:
    url = urlparse(endpoint)
    local = url.hostname in ("127.0.0.1", "localhost", "::1")
    # Browsers only ever hand out https endpoints; plain http is for the local test service.
    if url.scheme != "https" and not (url.scheme == "http" and local
                                      and current_app.config["ENV_NAME"] != "production"):
        raise PushError(_("A push endpoint must be an https URL."))
    if len(endpoint) > 1024 or not url.netloc:
        raise PushError(_("That push endpoint is not valid."))


def subscribe(user: User, subscription: dict, *, label: str | None = None,
              user_agent: str | None = None) -> PushSubscription:
    """Store a browser's `PushSubscription.toJSON()` as a device of `user` (idempotent)."""
    if not isinstance(subscription, dict):
        raise PushError(_("Expected the browser's subscription as JSON."))
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") or {}
    if not isinstance(endpoint, str) or not isinstance(keys, dict):
        raise PushError(_("The subscription needs an endpoint and keys."))
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise PushError(_("The subscription needs p256dh and auth keys."))
    _check_endpoint(endpoint)
    if len(_b64url_bytes(p256dh, "p256dh")) != 65 or len(_b64url_bytes(auth, "auth")) != 16:
        raise PushError(_("The subscription's keys have the wrong length."))
    label = (label or "").strip()[:80] or _device_label(user_agent)
    device = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint))
    fields = {"user_id": user.id, "vendor_id": user.vendor_id, "p256dh": p256dh, "auth": auth,
              "label": label, "user_agent": (user_agent or "")[:256] or None}
    if device is None:
        device = PushSubscription(endpoint=endpoint, **fields)
        db.session.add(device)
    else:
        # One browser profile has one endpoint: whoever subscribes it last owns the device.
        for name, value in fields.items():
            setattr(device, name, value)
    db.session.flush()
    return device


def _device_label(user_agent: str | None) -> str:
    ua = user_agent or ""
    for needle, name in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                         ("Windows", "Windows"), ("Macintosh", "Mac"), ("Linux", "Linux")):
        if needle in ua:
            return _("%(system)s browser", system=name)
    return _("Browser")


def list_devices(user: User) -> list[PushSubscription]:
    """Return the user's devices, newest first."""
    return list(db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
    ))


def remove_device(user: User, *, device_id: int | None = None,
                  endpoint: str | None = None) -> bool:
    """Delete one of the user's devices (by id or endpoint); tell whether one was deleted."""
    criteria = [PushSubscription.user_id == user.id]
    if device_id is not None:
        criteria.append(PushSubscription.id == device_id)
    elif endpoint:
        criteria.append(PushSubscription.endpoint == endpoint)
    else:
        return False
    result = db.session.execute(delete(PushSubscription).where(*criteria))
    return bool(result.rowcount)


# --- alert content --------------------------------------------------------------------------

def _when(moment: datetime | None, tz: ZoneInfo, locale: str) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=tz, locale=locale)


def _po_data(po: PurchaseOrder | None) -> dict:
    if po is None:
        return {}
    return {"po_number": po.po_number, "deadline": po.ack_due_at.isoformat(),
            "warehouse": po.ship_to_party_id or ""}


def _po_topic(po_id: int | None) -> str | None:
    # RFC 8030: at most 32 characters of the URL-safe base64 alphabet.
    return f"po-{po_id}" if po_id else None


@dataclass
class Draft:
    """An alert's content before it is stored for one user."""

    category: str
    kind: str
    title: str
    body: str
    url: str
    topic: str | None
    data: dict
    po_id: int | None = None


def _event_draft(event: Event, category: str, po: PurchaseOrder | None, tz: ZoneInfo,
                 locale: str) -> Draft:
    """Write the alert for one event in the reader's language."""
    p = event.payload or {}
    number = po.po_number if po else p.get("po_number", "")
    wh = (po.ship_to_party_id if po else p.get("warehouse")) or "—"
    due = _when(po.ack_due_at if po else None, tz, locale)
    url = f"/orders/{number}" if number else "/alerts"
    kind = event.kind
    if kind == "po.new":
        title = _("New PO %(po)s", po=number)
        body = _("Acknowledge by %(due)s · Ship to %(wh)s", due=due, wh=wh)
    elif kind == "po.cancelled" or (po is not None and p.get("cancelled_lines") and po.lines
                                    and all(line.cancelled for line in po.lines)):
        title = _("PO %(po)s cancelled by Amazon", po=number)
        body = _("Ship to %(wh)s · Check the PO before shipping.", wh=wh)
    elif category == "po_changed":
        title = _("PO %(po)s changed by Amazon", po=number)
        body = _("Ship to %(wh)s · Review the new quantities and dates.", wh=wh)
    elif kind == "outbox.unknown":
        title = _("PO %(po)s: Amazon has not confirmed a submission", po=number)
        body = _("Check the PO before sending again.")
    elif kind.startswith("invoice.") and category == "submission_failed":
        title = _("Invoice %(inv)s failed at Amazon", inv=p.get("invoice_number", number))
        body = _first_error(p) or _("Open the invoice to see Amazon's errors.")
        url = f"/invoices/{p['invoice_id']}" if p.get("invoice_id") else url
    elif category == "submission_failed":
        title = _("Acknowledgement of PO %(po)s failed", po=number)
        body = _first_error(p) or _("Deadline %(due)s · Open the PO to resend.", due=due)
    elif category == "ack_mismatch":
        title = _("PO %(po)s: Amazon's record differs from your acknowledgement", po=number)
        body = p.get("detail") or _("Open the PO to compare.")
    elif category == "invoice_mismatch":
        title = _("Invoice check found a mismatch on PO %(po)s", po=number)
        body = p.get("detail") or _("Open the invoice to compare with the acknowledgement.")
    elif category == "low_stock":
        title = _("Stock low: %(item)s", item=p.get("asin") or p.get("sku") or "")
        body = _("%(weeks)s weeks of cover left", weeks=p.get("weeks_of_cover", "?"))
        url = "/dashboards"
    elif category == "otif_below_target":
        title = _("Weekly OTIF %(otif)s%% is below target %(target)s%%",
                  otif=p.get("otif_percent", "?"), target=p.get("target_percent", "?"))
        body = _("Week of %(week)s", week=p.get("week", ""))
        url = "/dashboards"
    elif category == "sync_failing":
        title = _("Amazon sync failing for an hour")
        body = _("%(feed)s: %(error)s", feed=p.get("feed", ""), error=p.get("error") or "?")
        url = "/settings"
    else:
        title, body = kind, p.get("detail", "")
    data = _po_data(po) or ({"po_number": number} if number else {})
    return Draft(category, kind, title[:200], str(body), url, _po_topic(event.purchase_order_id),
                 data, po.id if po else event.purchase_order_id)


def _first_error(payload: dict) -> str | None:
    errors = payload.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("code") or "")[:300] or None
    return payload.get("error")


def _summary_draft(pos: list[PurchaseOrder], tz: ZoneInfo, locale: str) -> Draft:
    numbers = [po.po_number for po in pos]
    first_due = min(po.ack_due_at for po in pos)
    shown = ", ".join(numbers[:3])
    more = len(numbers) - 3
    body = (_("%(list)s and %(n)d more", list=shown, n=more) if more > 0 else shown)
    body += " · " + _("First deadline %(due)s", due=_when(first_due, tz, locale))
    return Draft("new_po", "po.new.summary", _("%(n)d new purchase orders", n=len(pos)), body,
                 "/orders", "po-new-summary", {"po_numbers": numbers,
                                               "deadline": first_due.isoformat()})


def _deadline_draft(po: PurchaseOrder, stage: str, hours: int | None, tz: ZoneInfo,
                    locale: str) -> Draft:
    due = _when(po.ack_due_at, tz, locale)
    wh = po.ship_to_party_id or "—"
    if stage == "overdue":
        title = _("PO %(po)s is overdue", po=po.po_number)
        body = _("The acknowledgement deadline passed at %(due)s · Ship to %(wh)s", due=due,
                 wh=wh)
    else:
        title = _("PO %(po)s: acknowledge within %(h)d h", po=po.po_number, h=hours)
        body = _("Deadline %(due)s · Ship to %(wh)s", due=due, wh=wh)
    return Draft("deadline", f"deadline.{stage}", title, body, f"/orders/{po.po_number}",
                 _po_topic(po.id), _po_data(po), po.id)


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
        for user in users_by_vendor.get(event.vendor_id, []):
            if not prefs[user.id].wants(category):
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
