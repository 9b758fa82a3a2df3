"""At rest: a full database dump holds no password, TOTP secret, recovery code, token or
SP-API secret in plaintext; audit entries hold none either."""

from __future__ import annotations

import base64
import re

import pyotp

from tests.auth_helpers import PASSWORD, dump_database, post, sign_in
from webapp.auth import services, tokens
from webapp.crypto import encrypt
from webapp.extensions import db
from webapp.vendors.services import get_vendor_by_name


def test_database_dump_contains_no_secret(app, runner):
    client = app.test_client()
    user = sign_in(client, role="admin")
    secret = user.totp_secret
    codes = services.regenerate_recovery_codes(user)
    _token, raw_token = tokens.create_token(user, "erp")
    cli = runner.invoke(args=["tokens", "create", user.email, "--name", "cli"])
    cli_token = cli.output.strip().splitlines()[-1]
    vendor = get_vendor_by_name(user.vendor.name)
    sp_secret = "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef0123456789abcdef"
    sp_refresh = "Atzr|IwEBIExampleRefreshTokenValue0123456789"
    vendor.spapi_client_secret_enc = encrypt(sp_secret)
    vendor.spapi_refresh_token_enc = encrypt(sp_refresh)
    invite, link = services.invite_user(vendor, f"new@{vendor.domains[0].domain}", "viewer")
    db.session.commit()
    # A password change and a sign-in with a wrong password leave traces in the audit log too.
    new_password = "harbour-lamp-62-violet"
    post(client, "/settings/password", {"current": PASSWORD, "password": new_password,
                                        "confirm": new_password}, token_from="/settings/password")
    post(app.test_client(), "/login", {"email": user.email, "password": "a-wrong-guess-123"})
    # An enrolment in progress (pending secret) as well.
    pending = services.start_totp_enrolment(user)
    db.session.commit()

    dump = dump_database()
    secrets = {
        "password": PASSWORD, "new password": new_password, "wrong password": "a-wrong-guess-123",
        "totp secret": secret, "pending totp secret": pending,
        "totp secret (base32 bytes)": base64.b32decode(secret).decode("latin-1"),
        "api token": raw_token, "cli api token": cli_token, "sp-api secret": sp_secret,
        "sp-api refresh token": sp_refresh, "invite token": link.rsplit("/", 1)[1],
        **{f"recovery code {i}": c for i, c in enumerate(codes)},
        **{f"recovery code {i} (plain)": c.replace("-", "") for i, c in enumerate(codes)},
    }
    found = [name for name, value in secrets.items() if value.lower() in dump.lower()]
    print(f"\n[at-rest] dump_chars={len(dump)} secrets_checked={len(secrets)} "
          f"plaintext_found={len(found)} {found}")
    assert found == []
    assert pyotp.TOTP(secret).now()  # the secrets were real
    assert re.search(r"\$argon2id\$", dump)
