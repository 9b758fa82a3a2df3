"""Admin screens of one vendor: users (invite, role, deactivate, reset MFA) and the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.audit.models import AuditEntry
from webapp.auth import services
from webapp.auth.access import require_permission
from webapp.auth.forms import ButtonForm, InviteForm, RoleForm
from webapp.auth.models import Invite, User
from webapp.auth.principal import signed_in_user, signed_in_vendor
from webapp.extensions import db
from webapp.tenancy import get_for_vendor_or_404, vendor_select

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 50


def _user(user_id: int) -> User:
    return get_for_vendor_or_404(User, User.id == user_id)


@bp.get("/users")
@require_permission("users.manage")
def users():
    """List the vendor's users and open invites."""
    return render_template("admin/users.html", users=services.vendor_users(current_user.vendor_id),
                           invites=services.pending_invites(current_user.vendor_id),
                           button=ButtonForm(), role_form=RoleForm())


@bp.route("/users/invite", methods=["GET", "POST"])
@require_permission("users.manage")
def invite():
    """Invite a colleague by company e-mail."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_user(signed_in_vendor(), form.email.data, form.role.data,
                                 invited_by=signed_in_user())
        except services.AuthError as exc:
            db.session.rollback()
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Invite sent to %(email)s.", email=form.email.data), "info")
            return redirect(url_for(".users"))
    return render_template("admin/invite.html", form=form, vendor=signed_in_vendor())


def _apply(action, user_id: int):
    """Run one admin action on a user of this vendor, answering with a flash message."""
    user = _user(user_id)
    if not ButtonForm().validate_on_submit():
        return redirect(url_for(".users"))
    try:
        action(user)
    except services.AuthError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Saved."), "info")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/role")
@require_permission("users.manage")
def role(user_id: int):
    """Change a user's role."""
    return _apply(lambda u: services.set_role(u, request.form.get("role", ""),
                                              actor=signed_in_user()), user_id)


@bp.post("/users/<int:user_id>/deactivate")
@require_permission("users.manage")
def deactivate(user_id: int):
    """Deactivate a user (signs them out everywhere)."""
    return _apply(lambda u: services.set_active(u, False, actor=signed_in_user()), user_id)


@bp.post("/users/<int:user_id>/activate")
@require_permission("users.manage")
def activate(user_id: int):
    """Reactivate a user."""
    return _apply(lambda u: services.set_active(u, True, actor=signed_in_user()), user_id)


@bp.post("/users/<int:user_id>/reset-mfa")
@require_permission("users.manage")
def reset_mfa(user_id: int):
    """Remove a user's second factors; they set up a new authenticator at next sign-in."""
    return _apply(lambda u: services.reset_mfa(u, actor=current_user.email,
                                               actor_user=signed_in_user()), user_id)


@bp.post("/users/<int:user_id>/unlock")
@require_permission("users.manage")
def unlock(user_id: int):
    """Forget a user's failed sign-ins."""
    return _apply(lambda u: services.unlock(u, actor=current_user.email), user_id)


@bp.post("/invites/<int:invite_id>/revoke")
@require_permission("users.manage")
def revoke_invite(invite_id: int):
    """Withdraw an invite."""
    found = get_for_vendor_or_404(Invite, Invite.id == invite_id)
    if ButtonForm().validate_on_submit():
        services.revoke_invite(found, actor=signed_in_user())
        db.session.commit()
    return redirect(url_for(".users"))


@bp.get("/audit")
@require_permission("audit.view")
def audit():
    """Show the vendor's audit log, newest first (keyset paging by id)."""
    before = request.args.get("before", type=int)
    query = vendor_select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
    if before:
        query = query.where(AuditEntry.id < before)
    entries = list(db.session.scalars(query))
    more = len(entries) == AUDIT_PAGE
    return render_template("admin/audit.html", entries=entries,
                           next_before=entries[-1].id if more else None)
