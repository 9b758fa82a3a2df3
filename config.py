"""ACORN configuration: one `Config` read from the environment, with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("ACORN_INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production by check_production
# A fixed Fernet key so development data stays readable across restarts; refused in production.
DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1lbmNyeXB0aW9uLWtleS0wMDA="


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return (_env(name, "1" if default else "0") or "").lower() in ("1", "true", "yes", "on")


class Config:
    """Settings for development and production, read from the environment."""

    ENV_NAME = _env("ACORN_ENV", "development")
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    # Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
    DATA_ENCRYPTION_KEYS = _env("DATA_ENCRYPTION_KEYS", DEV_DATA_KEY)

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'acorn.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Unset means: start (or reuse) the embedded redis-server under instance/.
    REDIS_URL = _env("REDIS_URL")
    INSTANCE_DIR = str(INSTANCE_PATH)

    # Amazon Selling Partner API. Unset endpoint: the built-in sandbox in development,
    # Amazon's regional endpoints in production.
    SPAPI_ENDPOINT = _env("SPAPI_ENDPOINT")
    SPAPI_TOKEN_URL = _env("SPAPI_TOKEN_URL")
    SPAPI_TIMEOUT_SECONDS = float(_env("SPAPI_TIMEOUT_SECONDS", "20"))
    SPAPI_RATE_LIMITING = _env_bool("SPAPI_RATE_LIMITING", True)
    SANDBOX_PORT = _env_int("SANDBOX_PORT", 5055)
    SPAPI_PAGE_SIZE = _env_int("SPAPI_PAGE_SIZE", 100)  # Amazon's maximum; smaller for tests
    # A sync lock outlives a dead holder by this long; a live holder keeps renewing it.
    SYNC_LOCK_TTL_SECONDS = float(_env("SYNC_LOCK_TTL_SECONDS", "60"))

    # Purchase-order rules that vendors may tune (defaults follow Amazon's vendor guide).
    DEFAULT_ACK_DEADLINE_HOURS = _env_int("DEFAULT_ACK_DEADLINE_HOURS", 24)
    DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE", "Asia/Shanghai")
    # A shipment still short this many days after its estimated delivery (and its last
    # received unit) is judged a discrepancy, even if Amazon has not closed the PO.
    SHIPMENT_RECEIPT_GRACE_DAYS = _env_int("SHIPMENT_RECEIPT_GRACE_DAYS", 7)

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which already expires

    # Sign-in (webapp/auth). Argon2id cost follows OWASP's 64 MiB, t=3, p=4 baseline.
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_KIB = _env_int("ARGON2_MEMORY_KIB", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)
    INVITE_TTL_HOURS = _env_int("INVITE_TTL_HOURS", 72)
    REAUTH_MINUTES = _env_int("REAUTH_MINUTES", 5)  # re-enter the password before factor changes
    LOGIN_PENDING_MINUTES = _env_int("LOGIN_PENDING_MINUTES", 5)  # password ok, code not yet
    # Throttling: failures an account gets free, then delays doubling from the base to the cap;
    # at AUTH_ACCOUNT_HARD_LIMIT consecutive failures the account waits for an e-mailed unlock.
    AUTH_ACCOUNT_FREE_FAILURES = _env_int("AUTH_ACCOUNT_FREE_FAILURES", 5)
    AUTH_ACCOUNT_BASE_DELAY = float(_env("AUTH_ACCOUNT_BASE_DELAY", "2"))
    AUTH_ACCOUNT_MAX_DELAY = float(_env("AUTH_ACCOUNT_MAX_DELAY", "900"))
    AUTH_ACCOUNT_HARD_LIMIT = _env_int("AUTH_ACCOUNT_HARD_LIMIT", 100)
    AUTH_FAILURE_MEMORY_HOURS = _env_int("AUTH_FAILURE_MEMORY_HOURS", 24)
    # Per client (IP) limits on failed sign-in steps, by Flask-Limiter.
    AUTH_CLIENT_LIMITS = _env("AUTH_CLIENT_LIMITS", "10 per minute;50 per hour;200 per day")
    RATELIMIT_HEADERS_ENABLED = True
    # Reverse proxies in front of the app (nginx: 1); per-client limits need the real address.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)
    RATELIMIT_SWALLOW_ERRORS = True
    WEBAUTHN_RP_ID = _env("WEBAUTHN_RP_ID")  # default: the host of PUBLIC_URL
    WEBAUTHN_RP_NAME = _env("WEBAUTHN_RP_NAME", "ACORN")

    # Languages: English and Simplified Chinese ship together.
    LANGUAGES = ("en", "zh_Hans")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "webapp" / "translations")

    # Mail: SMTP in production; in development the link is printed and kept in a dev outbox.
    MAIL_BACKEND = _env("MAIL_BACKEND", "console")
    SMTP_HOST = _env("SMTP_HOST")
    SMTP_PORT = _env_int("SMTP_PORT", 587)
    SMTP_USER = _env("SMTP_USER")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    MAIL_FROM = _env("MAIL_FROM", "ACORN <no-reply@acorn.local>")
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")

    # Web push (VAPID). Development generates keys under instance/ on first run.
    VAPID_PRIVATE_KEY = _env("VAPID_PRIVATE_KEY")
    VAPID_PUBLIC_KEY = _env("VAPID_PUBLIC_KEY")
    VAPID_CONTACT = _env("VAPID_CONTACT", "mailto:ops@acorn.local")
    # Every push request gets a timeout (pywebpush has none) and a TTL (its default 0 means an
    # offline phone never sees the alert). A claim older than PUSH_CLAIM_STALE_SECONDS belongs
    # to a worker that died mid-send: it is marked in doubt, never re-sent blindly.
    PUSH_TIMEOUT_SECONDS = float(_env("PUSH_TIMEOUT_SECONDS", "10"))
    PUSH_TTL_SECONDS = _env_int("PUSH_TTL_SECONDS", 24 * 3600)
    PUSH_MAX_ATTEMPTS = _env_int("PUSH_MAX_ATTEMPTS", 6)
    PUSH_RETRY_BASE_SECONDS = _env_int("PUSH_RETRY_BASE_SECONDS", 30)
    PUSH_CLAIM_STALE_SECONDS = _env_int("PUSH_CLAIM_STALE_SECONDS", 120)
    PUSH_BATCH_SIZE = _env_int("PUSH_BATCH_SIZE", 500)
    # Sends in flight at once per delivery job (coroutines on one event loop): push services
    # are 50-200 ms away. Also the most rows a killed worker leaves in doubt.
    PUSH_CONCURRENCY = _env_int("PUSH_CONCURRENCY", 4)
    # See webapp.push.delivery._relax_commit_durability for the trade-off (PostgreSQL only).
    PUSH_SYNCHRONOUS_COMMIT = _env_bool("PUSH_SYNCHRONOUS_COMMIT", False)

    # Uploaded photos (invoices, dispatch evidence): stored outside static/.
    MEDIA_DIR = _env("MEDIA_DIR", str(INSTANCE_PATH / "media"))
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    # Decompression bombs: refused from the header before any pixel is decoded.
    MEDIA_MAX_PIXELS = _env_int("MEDIA_MAX_PIXELS", 40_000_000)
    MEDIA_MAX_LONG_SIDE = _env_int("MEDIA_MAX_LONG_SIDE", 4000)  # stored images are scaled down
    MEDIA_PDF_MAX_PAGES = _env_int("MEDIA_PDF_MAX_PAGES", 20)
    # Set MEDIA_S3_BUCKET to keep media in an S3-compatible bucket instead of MEDIA_DIR;
    # credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    MEDIA_S3_BUCKET = _env("MEDIA_S3_BUCKET")
    MEDIA_S3_ENDPOINT_URL = _env("MEDIA_S3_ENDPOINT_URL")
    MEDIA_S3_REGION = _env("MEDIA_S3_REGION")

    # Worker queues, by concern, so each can scale on its own.
    QUEUES = ("sync", "outbox", "notify", "media")
    JOB_TIMEOUT_SECONDS = _env_int("JOB_TIMEOUT_SECONDS", 600)
    # How often a busy worker renews its job's heartbeat, and how long past that a job of a
    # dead worker still counts as running (RQ's own defaults: 30 and 60).
    # The dashboard overview's figures are kept this long per vendor in each web process, and
    # recomputed at once when a sync has brought new data (0: computed on every request).
    DASHBOARD_OVERVIEW_SECONDS = _env_int("DASHBOARD_OVERVIEW_SECONDS", 60)
    WORKER_MONITOR_INTERVAL_SECONDS = _env_int("WORKER_MONITOR_INTERVAL_SECONDS", 30)
    WORKER_HEARTBEAT_GRACE_SECONDS = _env_int("WORKER_HEARTBEAT_GRACE_SECONDS", 60)

    # Observability (webapp/observability): JSON logs with request ids, Prometheus metrics at
    # /metrics (off unless enabled; a bearer token when set), Sentry only when a DSN is set.
    LOG_FORMAT = _env("LOG_FORMAT", "text")  # "json" for one JSON object per line
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    METRICS_ENABLED = _env_bool("METRICS_ENABLED", False)
    METRICS_TOKEN = _env("METRICS_TOKEN")
    SENTRY_DSN = _env("SENTRY_DSN")
    SENTRY_TRACES_SAMPLE_RATE = float(_env("SENTRY_TRACES_SAMPLE_RATE", "0"))
    # Static files through WhiteNoise (pre-compressed, cache headers); Flask serves them if off.
    STATIC_WHITENOISE = _env_bool("STATIC_WHITENOISE", False)
    STATIC_MAX_AGE = _env_int("STATIC_MAX_AGE", 3600)  # hashed names get a year, immutable

    TESTING = False

    @classmethod
    def check_production(cls) -> None:
        """Refuse to start in production without real secrets and real services."""
        if cls.ENV_NAME != "production":
            return
        problems = []
        if not cls.SECRET_KEY or cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if not cls.DATA_ENCRYPTION_KEYS or DEV_DATA_KEY in cls.DATA_ENCRYPTION_KEYS.split(","):
            problems.append("DATA_ENCRYPTION_KEYS must be set (Fernet keys, comma-separated)")
        if not _env("DATABASE_URL"):
            problems.append("DATABASE_URL must point at PostgreSQL")
        if not cls.REDIS_URL:
            problems.append("REDIS_URL must point at a Redis server")
        if not cls.VAPID_PRIVATE_KEY:
            problems.append("VAPID_PRIVATE_KEY must be set (flask push generate-vapid-keys)")
        if problems:
            raise RuntimeError("ACORN refuses to start in production: " + "; ".join(problems))


class ProductionConfig(Config):
    """Production: secure cookies, secrets required (see `check_production`)."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    STATIC_WHITENOISE = _env_bool("STATIC_WHITENOISE", True)
    # Pre-ping replaces connections PostgreSQL dropped (restart, failover) before a request
    # sees them; recycling keeps them shorter-lived than typical proxy/firewall idle timeouts.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 1800}


class TestConfig(Config):
    """Tests: database and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL or are embedded."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = _env("TEST_REDIS_URL")
    WTF_CSRF_ENABLED = True
    MAIL_BACKEND = "memory"
    SPAPI_TIMEOUT_SECONDS = 5.0
    # Cheaper hashing and short cool-downs keep the security suite fast; the logic is the same.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 8192
    ARGON2_PARALLELISM = 1
    AUTH_ACCOUNT_BASE_DELAY = 0.2
    AUTH_ACCOUNT_MAX_DELAY = 1.0
    DASHBOARD_OVERVIEW_SECONDS = 0  # tests see every change at once (one test turns it on)


def config_for_environment() -> type[Config]:
    """Pick the configuration class named by ACORN_ENV."""
    return ProductionConfig if _env("ACORN_ENV") == "production" else Config
