"""TOTP: drift window, replay refusal with one atomic update, concurrency, enrolment."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from sqlalchemy import func, select

from tests.auth_helpers import make_user, post, totp_code
from webapp.audit.models import AuditEntry
from webapp.auth import services, totp
from webapp.auth.models import User
from webapp.extensions import db


def test_current_step_and_one_step_of_drift_accepted_two_refused(app):
    _user, secret = make_user()
    now = time.time()
    step = int(now // 30)
    for offset in (-1, 0, 1):
        code = pyotp.TOTP(secret).at(now + 30 * offset)
        assert totp.matching_step(secret, code, now) == step + offset
    for offset in (-2, 2):
        assert totp.matching_step(secret, pyotp.TOTP(secret).at(now + 30 * offset), now) is None
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def test_replay_refused_and_logged(app):
    user, secret = make_user()
    code = totp_code(secret)
    assert services.check_code_step(user, code).outcome is services.Outcome.OK
    db.session.commit()
    assert services.check_code_step(user, code).outcome is services.Outcome.REPLAY
    db.session.commit()
    # An older code (one step back) is at or before the last accepted step: also a replay.
    assert totp.check_code(user, totp_code(secret, -1)) is totp.CodeResult.REPLAY
    logged = db.session.scalar(select(func.count()).where(AuditEntry.action == "auth.mfa.replay"))
    assert logged == 1


def test_replay_through_the_sign_in_page(app):
    user, secret = make_user()
    code = totp_code(secret)
    for expected in (302, 200):  # a second browser replaying the same code is refused
        client = app.test_client()
        post(client, "/login", {"email": user.email, "password": "plum-orchard-7-lantern"})
        r = post(client, "/login/code", {"code": code}, token_from="/login/code")
        assert r.status_code == expected
    assert "already used" in r.get_data(as_text=True)


@pytest.mark.slow
def test_50_accounts_22_concurrent_copies_accept_exactly_once_each(app):
    """Each account gets the valid code, a replay and 20 more copies, all at once."""
    app.config["AUTH_ACCOUNT_FREE_FAILURES"] = 10_000  # measure the replay guard, not throttling
    accounts = [make_user(role="viewer") for _ in range(50)]
    copies = 22
    jobs = []
    for user, secret in accounts:
        code = totp_code(secret)
        jobs += [(user.id, code)] * copies
    barrier = threading.Barrier(44)

    def submit(job):
        user_id, code = job
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                try:
                    barrier.wait(timeout=5)
                except threading.BrokenBarrierError:
                    pass
                outcome = services.check_code_step(user, code).outcome
                db.session.commit()
                return user_id, outcome
            finally:
                db.session.remove()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=44) as pool:
        results = list(pool.map(submit, jobs))
    elapsed = time.perf_counter() - started
    accepted = [uid for uid, outcome in results if outcome is services.Outcome.OK]
    replays = [uid for uid, outcome in results if outcome is services.Outcome.REPLAY]
    logged = db.session.scalar(select(func.count()).where(AuditEntry.action == "auth.mfa.replay"))
    per_account_max = max(accepted.count(u.id) for u, _ in accounts)
    print(f"\n[totp-concurrency] db={db.engine.dialect.name} accounts=50 submissions={len(jobs)} "
          f"accepted={len(accepted)} replays_accepted={len(accepted) - len(set(accepted))} "
          f"replays_refused={len(replays)} replays_logged={logged} "
          f"max_accepted_per_account={per_account_max} seconds={elapsed:.2f}")
    assert len(accepted) == 50 and len(set(accepted)) == 50
    assert len(replays) == 50 * (copies - 1)
    assert logged == 50 * (copies - 1)


def test_enrolment_needs_a_confirming_code_before_the_factor_is_saved(app):
    user, _secret = make_user()
    old = user.totp_secret_enc
    new_secret = services.start_totp_enrolment(user)
    db.session.commit()
    assert services.confirm_totp_enrolment(user, "000000") is None
    assert user.totp_secret_enc == old  # unchanged until confirmed
    codes = services.confirm_totp_enrolment(user, pyotp.TOTP(new_secret).now())
    db.session.commit()
    assert len(codes) == 10 and user.totp_pending_secret_enc is None
    assert user.totp_secret_enc != old
    # The confirming code cannot sign in again (its step is recorded).
    assert totp.check_code(user, pyotp.TOTP(new_secret).now()) is totp.CodeResult.REPLAY


def test_qr_code_is_an_svg_data_uri(app):
    uri = totp.provisioning_uri(totp.new_secret(), "li@acme.cn")
    assert uri.startswith("otpauth://totp/ACORN:li%40acme.cn?secret=")
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")
