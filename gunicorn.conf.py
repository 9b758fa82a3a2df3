"""gunicorn settings for ACORN's web process: `gunicorn -c gunicorn.conf.py 'webapp:create_app()'`.

Every value can be overridden from the environment (GUNICORN_* below, or gunicorn's own
GUNICORN_CMD_ARGS). The access log is one JSON object per line with the request id.
"""

import gc
import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers: ACORN's requests are short database reads; 2 x cores + 1 is gunicorn's advice.
# Measured with `python -m bench load` (docs/benchmarks.md): 2 gthread workers x 4 threads used
# the same CPU per request as 3 sync workers on 2 cores, with a worse p99 at saturation.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# Load the app once in the master: workers fork with it ready (faster start, shared pages).
# Database pools are made lazily per process, so no connection is shared across the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak can never take a machine down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Client address and scheme from the reverse proxy: the app applies werkzeug's ProxyFix for
# TRUSTED_PROXY_HOPS hops (config.py); gunicorn itself trusts only these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 27's control socket defaults to one path per OS user, which two servers on one host
# would share: off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "webapp.observability.access_log.JsonGunicornLogger"

# Prometheus multi-process mode: every worker writes its request metrics into this folder and
# /metrics sums them. It must be set before prometheus_client is imported, so it is set here.
if os.environ.get("METRICS_ENABLED", "").lower() in ("1", "true", "yes", "on"):
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                          os.path.join(os.environ.get("ACORN_INSTANCE_DIR", "instance"),
                                       "prometheus"))


def on_starting(server):
    """Start from an empty metrics folder: files of an earlier run would be counted again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def when_ready(server):
    """Compile every template once per language in the master (preload): workers, new and
    recycled, fork with them ready instead of compiling on their first requests. Then freeze
    what the master holds (gc.freeze): the app's ~240,000 long-lived objects (modules,
    mappers, compiled templates) are left out of every worker's garbage collections. A full
    collection over them took 80-180 ms of a worker's CPU, paid by whichever request was
    running; frozen, they are also never written to by the collector, so their memory pages
    stay shared with the master instead of being copied into each worker."""
    app = getattr(getattr(server, "app", None), "callable", None)
    if getattr(app, "jinja_env", None) is not None:
        from webapp.i18n_templates import compile_all

        for name in compile_all(app):
            server.log.warning("template %s did not compile", name)
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """Give each worker fresh database connections (none are inherited from the master)."""
    app = getattr(server, "app", None)
    wsgi = getattr(app, "callable", None) if app else None
    if wsgi is not None and hasattr(wsgi, "extensions") and "sqlalchemy" in wsgi.extensions:
        from webapp.extensions import db

        with wsgi.app_context():
            db.engine.dispose(close=False)


def child_exit(server, worker):
    """Let the metrics of a dead worker stop counting as live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
