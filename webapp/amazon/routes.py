"""Sync health for admins: feeds, queues, failed jobs and stuck submissions, with retries."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.amazon import dispatch, health, outbox
from webapp.amazon.models import OutboxMessage
from webapp.auth.access import require_permission
from webapp.extensions import db
from webapp.tenancy import get_for_vendor_or_404

bp = Blueprint("amazon", __name__, url_prefix="/admin/sync")
PERMISSION = "settings.manage"  # admins only


@bp.get("/")
@require_permission(PERMISSION)
def sync_health():
    """Show the vendor's feeds, queue depths, failed jobs and submissions needing a decision."""
    vendor_id = current_user.vendor_id
    return render_template(
        "amazon/sync_health.html",
        states=health.feed_states(vendor_id),
        queues=health.queue_depths(),
        failed=health.failed_jobs(vendor_id),
        messages=health.outbox_needing_attention(vendor_id),
        feeds=dispatch.FEEDS,
    )


@bp.post("/run")
@require_permission(PERMISSION)
def run_feed():
    """Queue a sync of one feed now."""
    feed = request.form.get("feed", "")
    if feed not in dispatch.FEEDS:
        abort(400)
    dispatch.request_sync(current_user.vendor_id, [feed])
    flash(_("Sync queued."), "success")
    return redirect(url_for("amazon.sync_health"))


@bp.post("/jobs/<job_id>/retry")
@require_permission(PERMISSION)
def retry_job(job_id):
    """Put a failed job back on its queue."""
    if not health.requeue_failed_job(current_user.vendor_id, job_id):
        abort(404)
    flash(_("Job queued again."), "success")
    return redirect(url_for("amazon.sync_health"))


@bp.post("/outbox/<int:message_id>/retry")
@require_permission(PERMISSION)
def retry_message(message_id):
    """Send a failed or unknown submission again: the explicit decision the outbox waits for."""
    message = get_for_vendor_or_404(OutboxMessage, OutboxMessage.id == message_id)
    try:
        outbox.retry_message(message.id, user_id=current_user.id, actor=current_user.email)
    except outbox.OutboxError:
        db.session.rollback()
        flash(_("This submission cannot be sent again."), "error")
        return redirect(url_for("amazon.sync_health"))
    db.session.commit()
    outbox.request_send(message.id)
    flash(_("Submission queued again."), "success")
    return redirect(url_for("amazon.sync_health"))
