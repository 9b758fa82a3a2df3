"""Sign-in pages: password, second factor (code, recovery code or passkey), invites, sign-out."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from webapp.audit.services import record
from webapp.auth import passkeys, services, throttle, totp
from webapp.auth.forms import ButtonForm, CodeForm, LoginForm, SetPasswordForm
from webapp.auth.loader import SESSION_KEY, current_session
from webapp.auth.models import User
from webapp.auth.services import Outcome
from webapp.extensions import db
from webapp.push.devices import remove_device
from webapp.security import failed_auth_step, limiter

bp = Blueprint("auth", __name__)

PENDING_KEY = "pending_auth"
CHALLENGE_KEY = "webauthn_challenge"

# One budget of failed sign-in steps per client address, shared by every step.
client_limit = limiter.shared_limit(
    lambda: current_app.config["AUTH_CLIENT_LIMITS"], scope="auth-client", methods=["POST"],
    deduct_when=failed_auth_step,
)


@bp.before_request
def _never_cache():
    g.private_page = True


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the orders inbox (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("orders.inbox")


def _set_pending(kind: str, user: User, next_url: str | None = None) -> None:
    # A fresh cookie session at each sign-in step: nothing from before survives (no fixation).
    session.clear()
    session[PENDING_KEY] = {"kind": kind, "uid": user.id, "at": time.time(), "next": next_url}


def _pending(kind: str) -> tuple[User | None, dict]:
    data = session.get(PENDING_KEY) or {}
    limit = current_app.config["LOGIN_PENDING_MINUTES"] * 60
    if data.get("kind") != kind or time.time() - data.get("at", 0) > limit:
        return None, {}
    user = db.session.get(User, data.get("uid"))
    return (user, data) if user is not None and user.active else (None, {})


def _start_browser_session(user: User, method: str, next_url: str | None):
    """Open a new server-side session and put its id in a fresh cookie session."""
    sid = services.complete_sign_in(user, ip=request.remote_addr,
                                    user_agent=request.user_agent.string, method=method)
    db.session.commit()
    session.clear()  # the id changes at every sign-in
    session[SESSION_KEY] = sid
    session.permanent = True
    return safe_next(next_url)


def _failed(result: services.StepResult, form, template: str, **context):
    g.auth_failed = True  # counts against this client's Flask-Limiter budget
    db.session.commit()  # keep the audit entry
    status = 200
    if result.outcome is Outcome.THROTTLED:
        flash(_("Too many attempts. Wait %(s)d seconds and try again.",
                s=max(1, round(result.wait_seconds))), "error")
        status = 429
    elif result.outcome is Outcome.REPLAY:
        flash(_("That code was already used. Wait for the next one."), "error")
    elif template == "auth/login.html":
        flash(_("E-mail or password is wrong."), "error")
    else:
        flash(_("That code is not right."), "error")
    return render_template(template, form=form, **context), status


@bp.route("/login", methods=["GET", "POST"])
@client_limit
def login():
    """Ask for e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("orders.inbox"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    result = services.check_password_step(form.email.data, form.password.data)
    if result.outcome is not Outcome.OK:
        return _failed(result, form, "auth/login.html")
    user = result.user
    next_url = request.args.get("next")
    if user.mfa_enrolled_at is None:  # invited but never finished, or MFA reset by an admin
        if user.totp_pending_secret_enc is None:
            services.start_totp_enrolment(user)
        db.session.commit()
        _set_pending("enrol", user, next_url)
        return redirect(url_for(".enrol"))
    db.session.commit()
    _set_pending("login", user, next_url)
    return redirect(url_for(".code"))


@bp.route("/login/code", methods=["GET", "POST"])
@client_limit
def code():
    """Ask for the authenticator code (or a recovery code, or a passkey)."""
    user, pending = _pending("login")
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    has_passkey = bool(passkeys.user_passkeys(user))
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form, has_passkey=has_passkey)
    result = services.check_code_step(user, form.code.data)
    if result.outcome is not Outcome.OK:
        return _failed(result, form, "auth/code.html", has_passkey=has_passkey)
    return redirect(_start_browser_session(user, "password+code", pending.get("next")))


@bp.post("/login/passkey/options")
@client_limit
def passkey_options():
    """Give the browser a WebAuthn challenge for the pending user's passkeys (JSON)."""
    user, _pending_data = _pending("login")
    if user is None:
        return jsonify(error={"code": "no_pending_sign_in"}), 400
    options, challenge = passkeys.authentication_options(user)
    session[CHALLENGE_KEY] = passkeys.encode_challenge(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/login/passkey")
@client_limit
def passkey_verify():
    """Check the browser's passkey answer and finish signing in (JSON)."""
    user, pending = _pending("login")
    challenge = session.pop(CHALLENGE_KEY, None)
    if user is None or challenge is None:
        return jsonify(error={"code": "no_pending_sign_in"}), 400
    attempt = throttle.begin_attempt(user.email)
    if not attempt.allowed:
        g.auth_failed = True
        return jsonify(error={"code": "throttled", "retry_after": attempt.wait_seconds}), 429
    try:
        passkeys.authenticate(user, request.get_json(silent=True) or {},
                              passkeys.webauthn.base64url_to_bytes(challenge))
    except passkeys.PasskeyError:
        g.auth_failed = True
        record("auth.login.failure", actor=user.email, vendor_id=user.vendor_id,
                        actor_user_id=user.id, details={"step": "passkey"})
        db.session.commit()
        return jsonify(error={"code": "passkey_refused"}), 400
    return jsonify(redirect=_start_browser_session(user, "password+passkey", pending.get("next")))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@client_limit
def invite(token: str):
    """Accept an invite: choose a password, then set up the authenticator."""
    found = services.find_invite(token)
    if found is None:
        g.auth_failed = request.method == "POST"
        return render_template("auth/invite_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invite(found, form.password.data)
        except services.AuthError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            _set_pending("enrol", user)
            return redirect(url_for(".enrol"))
    return render_template("auth/invite.html", form=form, invite=found)


@bp.route("/enrol", methods=["GET", "POST"])
@client_limit
def enrol():
    """Set up the authenticator app: QR code and secret as text, then confirm one code."""
    user, pending = _pending("enrol")
    secret = services.pending_secret(user) if user is not None else None
    if secret is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = services.confirm_totp_enrolment(user, form.code.data)
        if codes is not None:
            target = _start_browser_session(user, "password+totp-enrol", pending.get("next"))
            return render_template("auth/recovery_codes.html", codes=codes, next_url=target)
        g.auth_failed = True
        db.session.commit()
        flash(_("That code is not right. Check the time on your phone and try again."), "error")
    uri = totp.provisioning_uri(secret, user.email)
    return render_template("auth/enrol.html", form=form, qr=totp.qr_data_uri(uri),
                           secret=totp.group_secret(secret), email=user.email)


@bp.post("/logout")
def logout():
    """Sign out: end the session server-side and clear this browser's caches."""
    row = current_session()
    if row is not None:
        # This browser's push subscription (app.js sends its endpoint): no more alerts to this
        # device for this user once they sign out.
        endpoint = (request.form.get("push_endpoint") or "").strip()
        if endpoint:
            remove_device(row.user, endpoint=endpoint)
        services.sign_out(row)
        db.session.commit()
    session.clear()
    response = current_app.make_response(render_template("auth/logged_out.html"))
    # The service worker's caches and any stored pages go with the session.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/logout")
def logout_page():
    """Offer the sign-out button (GET never changes state)."""
    if not current_user.is_authenticated:
        return redirect(url_for(".login"))
    return render_template("auth/logout.html", form=ButtonForm())


def init_app(app) -> None:
    """Make the session cookie last as long as the absolute session limit."""
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])


@bp.app_errorhandler(429)
def too_many(exc):
    """Friendly 'slow down' answer for Flask-Limiter's per-client limit."""
    if request.path.startswith("/api/") or request.is_json:
        return jsonify(error={"code": "rate_limited", "message": "Too many requests"}), 429
    g.private_page = True
    return render_template("auth/throttled.html"), 429
