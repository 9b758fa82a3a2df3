"""The Settings pages of the signed-in user: language, password, factors, sessions, tokens."""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.auth import passkeys, recovery, services, sessions, tokens, totp
from webapp.auth.access import grantable_roles, has_permission, require_permission
from webapp.auth.forms import (
    ROLE_CHOICES,
    ButtonForm,
    ChangePasswordForm,
    CodeForm,
    LanguageForm,
    PasskeyNameForm,
    ReauthForm,
    TokenForm,
)
from webapp.auth.loader import current_session
from webapp.auth.models import ApiToken, UserSession, WebAuthnCredential
from webapp.auth.principal import signed_in_user, signed_in_vendor
from webapp.auth.routes import safe_next
from webapp.extensions import db
from webapp.settings.forms import ShippingSettingsForm
from webapp.shipments import sscc

bp = Blueprint("settings", __name__, url_prefix="/settings")
CHALLENGE_KEY = "webauthn_reg_challenge"


def require_recent_auth(view):
    """Decorate a view: the password must have been entered in the last few minutes."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not sessions.is_recently_authenticated(current_session()):
            if request.is_json:
                return jsonify(error={"code": "reauth_required"}), 401
            return redirect(url_for(".reauth", next=url_for(".security")))
        return view(*args, **kwargs)

    return wrapped


def _own(model, object_id: int):
    """Load one of the signed-in user's own objects; anyone else's is a 404 like a missing one."""
    obj = db.session.scalar(select(model).where(model.id == object_id,
                                                model.user_id == current_user.id))
    if obj is None:
        abort(404)
    return obj


@bp.get("")
@require_permission("account.manage")
def index():
    """Show the settings overview."""
    form = LanguageForm(locale=current_user.locale or "en")
    return render_template("settings/index.html", form=form,
                           is_admin=has_permission("users.manage"))


@bp.route("/shipping", methods=["GET", "POST"])
@require_permission("settings.manage")
def shipping():
    """Set the vendor's GS1 company prefix, under which SSCC carton labels are numbered."""
    vendor = signed_in_vendor()
    form = ShippingSettingsForm(gs1_company_prefix=vendor.gs1_company_prefix)
    if form.validate_on_submit():
        before = vendor.gs1_company_prefix
        after = sscc.set_company_prefix(vendor, form.gs1_company_prefix.data)
        if after != before:
            services.record("vendor.gs1_company_prefix", actor=current_user.email,
                            vendor_id=vendor.id, actor_user_id=current_user.id,
                            target_type="vendor", target_id=vendor.id,
                            details={"before": before, "after": after})
        db.session.commit()
        flash(_("Shipping label settings saved."), "success")
        return redirect(url_for(".shipping"))
    return render_template("settings/shipping.html", form=form, vendor=vendor)


@bp.post("/language")
@require_permission("account.manage")
def language():
    """Save the interface language."""
    form = LanguageForm()
    if form.validate_on_submit():
        services.set_locale(signed_in_user(), form.locale.data)
        db.session.commit()
    return redirect(url_for(".index"))


@bp.route("/password", methods=["GET", "POST"])
@require_permission("account.manage")
def password():
    """Change the password; other devices are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(signed_in_user(), form.current.data, form.password.data,
                                     keep_session_id=current_session().id)
        except services.AuthError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Password changed. Your other devices are signed out."), "info")
            return redirect(url_for(".index"))
    return render_template("settings/password.html", form=form)


@bp.route("/reauth", methods=["GET", "POST"])
@require_permission("account.manage")
def reauth():
    """Ask for the password again before a factor change."""
    form = ReauthForm()
    if form.validate_on_submit():
        ok = services.reauthenticate(signed_in_user(), current_session(), form.password.data)
        db.session.commit()
        if ok:
            return redirect(safe_next(request.args.get("next")))
        flash(_("That password is not right."), "error")
    return render_template("settings/reauth.html", form=form)


@bp.get("/security")
@require_permission("account.manage")
def security():
    """Show the second factors: authenticator, recovery codes, passkeys."""
    user = signed_in_user()
    return render_template(
        "settings/security.html", button=ButtonForm(), passkey_form=PasskeyNameForm(),
        passkeys=passkeys.user_passkeys(user), left=recovery.remaining(user),
        recent=sessions.is_recently_authenticated(current_session()))


@bp.post("/totp/start")
@require_permission("account.manage")
@require_recent_auth
def totp_start():
    """Start replacing the authenticator: a new secret, pending until a code confirms it."""
    if ButtonForm().validate_on_submit():
        services.start_totp_enrolment(signed_in_user())
        db.session.commit()
    return redirect(url_for(".totp_confirm"))


@bp.route("/totp", methods=["GET", "POST"])
@require_permission("account.manage")
@require_recent_auth
def totp_confirm():
    """Show the new secret and confirm it with a code."""
    secret = services.pending_secret(signed_in_user())
    if secret is None:
        return redirect(url_for(".security"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = services.confirm_totp_enrolment(signed_in_user(), form.code.data)
        if codes is not None:
            services.factors_changed(signed_in_user(), keep_session_id=current_session().id,
                                     action="auth.mfa.sessions_ended")
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=url_for(".security"))
        db.session.commit()
        flash(_("That code is not right. Check the time on your phone and try again."), "error")
    uri = totp.provisioning_uri(secret, current_user.email)
    return render_template("auth/enrol.html", form=form, qr=totp.qr_data_uri(uri),
                           secret=totp.group_secret(secret), email=current_user.email)


@bp.post("/recovery-codes")
@require_permission("account.manage")
@require_recent_auth
def recovery_codes():
    """Replace the recovery codes and show the new ones once."""
    if not ButtonForm().validate_on_submit():
        return redirect(url_for(".security"))
    codes = services.regenerate_recovery_codes(signed_in_user())
    services.factors_changed(signed_in_user(), keep_session_id=current_session().id,
                             action="auth.mfa.sessions_ended")
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes,
                           next_url=url_for(".security"))


@bp.post("/passkeys/options")
@require_permission("account.manage")
@require_recent_auth
def passkey_options():
    """Give the browser WebAuthn registration options (JSON)."""
    options, challenge = passkeys.registration_options(signed_in_user())
    session[CHALLENGE_KEY] = passkeys.encode_challenge(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/passkeys")
@require_permission("account.manage")
@require_recent_auth
def passkey_add():
    """Store a new passkey after checking the browser's answer (JSON)."""
    challenge = session.pop(CHALLENGE_KEY, None)
    body = request.get_json(silent=True) or {}
    if challenge is None:
        return jsonify(error={"code": "no_challenge"}), 400
    try:
        passkeys.register(signed_in_user(), body.get("credential") or {},
                          passkeys.webauthn.base64url_to_bytes(challenge), body.get("name", ""))
    except passkeys.PasskeyError:
        db.session.rollback()
        return jsonify(error={"code": "passkey_refused"}), 400
    services.factors_changed(signed_in_user(), keep_session_id=current_session().id,
                             action="auth.mfa.passkey.add")
    db.session.commit()
    return jsonify(redirect=url_for(".security"))


@bp.post("/passkeys/<int:passkey_id>/delete")
@require_permission("account.manage")
@require_recent_auth
def passkey_delete(passkey_id: int):
    """Remove a passkey."""
    row = _own(WebAuthnCredential, passkey_id)
    if ButtonForm().validate_on_submit():
        db.session.delete(row)
        services.factors_changed(signed_in_user(), keep_session_id=current_session().id,
                                 action="auth.mfa.passkey.remove")
        db.session.commit()
    return redirect(url_for(".security"))


@bp.get("/sessions")
@require_permission("account.manage")
def sessions_list():
    """List the devices signed in."""
    return render_template("settings/sessions.html", rows=sessions.live_sessions(signed_in_user()),
                           current_id=current_session().id, button=ButtonForm())


@bp.post("/sessions/<int:session_id>/revoke")
@require_permission("account.manage")
def session_revoke(session_id: int):
    """Sign out one device."""
    row = _own(UserSession, session_id)
    if ButtonForm().validate_on_submit():
        sessions.revoke_session(row)
        services.record("auth.session.revoke", actor=current_user.email,
                        vendor_id=current_user.vendor_id, actor_user_id=current_user.id,
                        target_type="session", target_id=row.id)
        db.session.commit()
    return redirect(url_for(".sessions_list"))


@bp.post("/sessions/revoke-others")
@require_permission("account.manage")
def sessions_revoke_others():
    """Sign out every other device."""
    if ButtonForm().validate_on_submit():
        services.factors_changed(signed_in_user(), keep_session_id=current_session().id,
                                 action="auth.session.revoke_others")
        db.session.commit()
        flash(_("Your other devices are signed out."), "info")
    return redirect(url_for(".sessions_list"))


def _token_form() -> TokenForm:
    form = TokenForm()
    allowed = grantable_roles(current_user.role)
    form.role.choices = [c for c in ROLE_CHOICES if c.value in allowed]
    return form


@bp.route("/tokens", methods=["GET", "POST"])
@require_permission("account.manage")
def tokens_list():
    """List API tokens; create one (shown once)."""
    form = _token_form()
    created = None
    if form.validate_on_submit():
        try:
            _token, created = tokens.create_token(signed_in_user(), form.name.data, form.role.data)
        except tokens.TokenError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            form = _token_form()
            form.name.data = ""
    return render_template("settings/tokens.html", form=form, created=created,
                           rows=tokens.user_tokens(signed_in_user()), button=ButtonForm())


@bp.post("/tokens/<int:token_id>/revoke")
@require_permission("account.manage")
def token_revoke(token_id: int):
    """Revoke an API token."""
    row = _own(ApiToken, token_id)
    if ButtonForm().validate_on_submit():
        tokens.revoke_token(row, actor=signed_in_user())
        db.session.commit()
    return redirect(url_for(".tokens_list"))
