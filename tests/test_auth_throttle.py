"""Throttling: per account and per client, growing delays, no lock-out, no user enumeration."""

from __future__ import annotations

import re
import statistics
import time

from sqlalchemy import func, select

from tests.auth_helpers import PASSWORD, csrf_token, make_user, totp_code
from webapp.audit.models import AuditEntry
from webapp.auth import throttle
from webapp.extensions import db


def _client(app, n: int):
    """A test client that looks like its own device (its own address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.0.{n // 250}.{n % 250 + 1}"
    return client


def _try(client, token, email, password):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def test_1000_wrong_passwords_and_codes_from_20_clients(app):
    """0 successes, throttled within 10 failures, the real user gets in after the cool-down."""
    user, secret = make_user()
    clients = [_client(app, n) for n in range(20)]
    tokens = [csrf_token(c) for c in clients]
    statuses = []
    first_throttle_at = None
    successes = 0
    for i in range(1000):
        k = i % 20
        if i % 2:  # a wrong password
            r = _try(clients[k], tokens[k], user.email, f"wrong-password-{i:04d}")
        else:  # the right password, then a wrong code (an attacker who phished the password)
            r = _try(clients[k], tokens[k], user.email, PASSWORD)
            if r.status_code == 302:
                token = csrf_token(clients[k], "/login/code")
                r = clients[k].post("/login/code", data={"code": f"{i % 1000000:06d}",
                                                         "csrf_token": token})
                tokens[k] = csrf_token(clients[k])
        if r.status_code == 302 and "/orders" in (r.location or ""):
            successes += 1
        statuses.append(r.status_code)
        if r.status_code == 429 and first_throttle_at is None:
            first_throttle_at = i + 1
    failures_counted = db.session.scalar(
        select(func.count()).where(AuditEntry.action == "auth.login.failure"))
    throttled = statuses.count(429)
    print(f"\n[throttle] attempts=1000 clients=20 successes={successes} "
          f"first_throttled_at_attempt={first_throttle_at} throttled={throttled} "
          f"failures_checked={failures_counted}")
    assert successes == 0
    assert first_throttle_at is not None and first_throttle_at <= 10
    assert failures_counted <= 100  # never more than 100 checked failures for one account

    # The cool-down (AUTH_ACCOUNT_MAX_DELAY, 1 s in tests) passes; the real user, on their own
    # phone (another client address), signs in.
    time.sleep(app.config["AUTH_ACCOUNT_MAX_DELAY"] + 0.1)
    phone = _client(app, 200)
    r = _try(phone, csrf_token(phone), user.email, PASSWORD)
    assert r.status_code == 302, r.status_code
    r = phone.post("/login/code", data={"code": totp_code(secret),
                                        "csrf_token": csrf_token(phone, "/login/code")})
    assert r.status_code == 302 and r.location.endswith("/orders")
    print("[throttle] real user signed in after cool-down: yes")


def test_per_client_limit_stops_one_address_spraying_many_accounts(app):
    client = _client(app, 7)
    token = csrf_token(client)
    codes = [_try(client, token, f"nobody{i}@acme.cn", "wrong-password-x").status_code
             for i in range(15)]
    print(f"\n[throttle] one client, 15 different accounts: statuses={codes}")
    assert 429 in codes and codes.index(429) <= 10


def test_unknown_user_same_answer_and_similar_timing(app):
    user, _ = make_user()
    client = _client(app, 9)
    token = csrf_token(client)
    app.config["AUTH_ACCOUNT_FREE_FAILURES"] = 1000
    app.config["AUTH_CLIENT_LIMITS"] = "10000 per minute"

    def timed(email):
        started = time.perf_counter()
        r = _try(client, token, email, "wrong-password-abc")
        return time.perf_counter() - started, r

    known, unknown = [], []
    for i in range(20):  # interleaved, so drift over time hits both alike
        known.append(timed(user.email))
        unknown.append(timed(f"ghost{i}@acme.cn"))
    k_ms = statistics.median(t for t, _ in known) * 1000
    u_ms = statistics.median(t for t, _ in unknown) * 1000
    print(f"\n[enumeration] median ms known={k_ms:.1f} unknown={u_ms:.1f} ratio={u_ms / k_ms:.2f}")

    def body(r):  # the page minus the echoed e-mail address and the (timestamped) CSRF token
        return re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))

    assert {r.status_code for _, r in known + unknown} == {200}
    pages = {body(r).split("<main")[1] for _, r in known[-3:] + unknown[-3:]}
    if len(pages) > 1:
        import difflib
        a, b = list(pages)[:2]
        print("\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="")))
    assert len(pages) == 1
    assert 0.5 < u_ms / k_ms < 2.0


def test_delays_grow_and_end(app):
    app.config.update(AUTH_ACCOUNT_FREE_FAILURES=2, AUTH_ACCOUNT_BASE_DELAY=0.2,
                      AUTH_ACCOUNT_MAX_DELAY=0.8)
    email = "x@acme.cn"
    assert throttle.begin_attempt(email).allowed
    assert throttle.begin_attempt(email).allowed
    assert throttle.begin_attempt(email).allowed  # third: allowed, then a 0.2 s delay starts
    waiting = throttle.begin_attempt(email)
    assert not waiting.allowed and 0 < waiting.wait_seconds <= 0.2
    time.sleep(0.25)
    assert throttle.begin_attempt(email).allowed  # then 0.4 s
    assert 0.2 < throttle.begin_attempt(email).wait_seconds <= 0.4
    time.sleep(0.45)
    assert throttle.begin_attempt(email).allowed  # then 0.8 s (the cap)
    throttle.reset(email)
    assert throttle.begin_attempt(email).allowed


def test_hard_limit_is_not_permanent_and_admin_can_unlock(app):
    app.config.update(AUTH_ACCOUNT_FREE_FAILURES=1000, AUTH_ACCOUNT_HARD_LIMIT=5)
    email = "y@acme.cn"
    assert all(throttle.begin_attempt(email).allowed for _ in range(5))
    refused = throttle.begin_attempt(email)
    assert not refused.allowed and refused.wait_seconds <= 24 * 3600  # ends by itself
    throttle.reset(email)  # what `flask users unlock` and the admin screen do
    assert throttle.begin_attempt(email).allowed


def test_falls_back_to_memory_when_redis_is_down(app, monkeypatch):
    import redis as redis_lib

    class Down:
        def eval(self, *a, **k):
            raise redis_lib.ConnectionError("down")

        def delete(self, *a):
            raise redis_lib.ConnectionError("down")

    monkeypatch.setattr(throttle, "get_redis", lambda: Down())
    app.config.update(AUTH_ACCOUNT_FREE_FAILURES=2, AUTH_ACCOUNT_BASE_DELAY=5)
    email = "z@acme.cn"
    assert throttle.begin_attempt(email).allowed
    assert throttle.begin_attempt(email).allowed
    assert throttle.begin_attempt(email).allowed
    assert not throttle.begin_attempt(email).allowed
    throttle.reset(email)
    assert throttle.begin_attempt(email).allowed


def test_per_request_limit_check_runs_only_while_a_page_wide_limit_exists():
    # ACORN's only limits are the sign-in steps' (checked by their decorator, tested above), so
    # Flask-Limiter's check before every request is taken out; a page-wide limit keeps it.
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from webapp.security import drop_idle_limit_check

    for default_limits, kept in (([], False), (["2 per day"], True)):
        app = Flask(__name__)
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        app.add_url_rule("/page", "page", lambda: "ok")
        limiter = Limiter(get_remote_address, app=app, default_limits=default_limits)
        drop_idle_limit_check(app, limiter)
        assert (limiter._check_request_limit in app.before_request_funcs[None]) is kept
        client = app.test_client()
        statuses = [client.get("/page").status_code for _ in range(3)]
        assert statuses == ([200, 200, 429] if kept else [200, 200, 200])
