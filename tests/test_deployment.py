"""Deployment pieces: gunicorn with its config file, the Procfile, static files via WhiteNoise."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time

import httpx

from tests.private_redis import free_port
from tests.processes import REPO, process_env, wait_until
from webapp import create_app
from webapp.static_files import build_static_mirror


def test_procfile_has_web_release_scheduler_and_one_worker_per_queue(app):
    lines = dict(line.split(":", 1) for line in (REPO / "Procfile").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert "db upgrade" in lines["release"]
    assert "gunicorn -c gunicorn.conf.py" in lines["web"]
    assert "scheduler" in lines["scheduler"]
    for queue in app.config["QUEUES"]:
        assert lines[f"worker-{queue}"].strip().endswith(f"worker --queue {queue}")
    units = {p.name for p in (REPO / "deploy" / "systemd").glob("*.service")}
    assert {"acorn-web.service", "acorn-worker@.service", "acorn-scheduler.service"} <= units


def test_gunicorn_master_compiles_templates_and_freezes_its_objects_before_forking(app):
    import gc
    import runpy
    from types import SimpleNamespace

    settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    warnings = []
    server = SimpleNamespace(app=SimpleNamespace(callable=app),
                             log=SimpleNamespace(warning=lambda *a: warnings.append(a)))
    gc.unfreeze()
    try:
        settings["when_ready"](server)
        # The app's objects are out of the workers' collections, frozen before the fork.
        assert gc.get_freeze_count() > 10_000
        assert warnings == []
        assert app.jinja_env.cache and any(name.startswith(("@en/", "@zh_Hans/"))
                                           for _, name in app.jinja_env.cache.keys())
    finally:
        gc.unfreeze()


def test_gunicorn_serves_with_json_access_log_and_shared_metrics(test_config, tmp_path, _migrated):
    port = free_port()
    log = tmp_path / "access.log"
    env = process_env(test_config, WEB_CONCURRENCY="2", GUNICORN_BIND=f"127.0.0.1:{port}",
                      GUNICORN_ACCESS_LOG=str(log), METRICS_ENABLED="1",
                      PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"), STATIC_WHITENOISE="1")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                            "webapp:create_app()"], cwd=REPO, env=env,
                           stdout=subprocess.DEVNULL, stderr=open(tmp_path / "err.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{base}/login", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(up, 60), (tmp_path / "err.log").read_text()[-2000:]
        for _ in range(20):  # spread over both workers
            r = httpx.get(f"{base}/login", headers={"X-Request-ID": "gunicorn-test"})
            assert r.headers["X-Request-ID"] == "gunicorn-test"
        css = httpx.get(f"{base}/static/app.css", headers={"Accept-Encoding": "gzip"})
        assert css.headers["Content-Encoding"] == "gzip" and "max-age" in css.headers[
            "Cache-Control"]
        text = httpx.get(f"{base}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith(
            'acorn_http_requests_total{endpoint="auth.login",method="GET",status="200"}'))
        assert float(line.split()[-1]) >= 21  # counted across the workers
        time.sleep(0.5)
        entries = [json.loads(x) for x in log.read_text().splitlines()]
        mine = [e for e in entries if e["request_id"] == "gunicorn-test"]
        assert len(mine) == 20 and mine[0]["status"] == 200 and mine[0]["path"] == "/login"
        assert mine[0]["duration_ms"] >= 0 and mine[0]["method"] == "GET"
    finally:
        web.terminate()
        web.wait(30)
    assert os.listdir(tmp_path / "prom")  # each worker wrote its own metrics file


def test_whitenoise_serves_compressed_cached_static_files(test_config, tmp_path):
    class StaticConfig(test_config):
        STATIC_WHITENOISE = True
        INSTANCE_DIR = str(tmp_path / "instance")

    app = create_app(StaticConfig)
    client = app.test_client()
    plain = client.get("/static/app.css")
    zipped = client.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data == (REPO / "static/app.css").read_bytes()
    assert plain.headers["Cache-Control"] == "max-age=3600, public"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in plain.headers["Content-Security-Policy"]
    icon = client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers


def test_hashed_names_are_immutable_and_removed_files_go(tmp_path):
    from whitenoise import WhiteNoise

    from webapp.static_files import HASHED_NAME

    source, build = tmp_path / "static", tmp_path / "build"
    source.mkdir()
    (source / "app.3f9c2a1b.css").write_text("body{color:red}" * 50)
    (source / "old.js").write_text("x" * 500)
    assert build_static_mirror(source, build) == 2
    assert (build / "app.3f9c2a1b.css.gz").exists()
    assert build_static_mirror(source, build) == 0  # unchanged: nothing rewritten
    (source / "old.js").unlink()
    build_static_mirror(source, build)
    assert not (build / "old.js").exists() and not (build / "old.js.gz").exists()

    def app(environ, start_response):
        start_response("404 Not Found", [])
        return [b""]

    served = WhiteNoise(app, root=str(build), prefix="static/",
                        immutable_file_test=lambda _p, url: bool(HASHED_NAME.search(url)))
    from werkzeug.test import Client

    r = Client(served).get("/static/app.3f9c2a1b.css")
    assert "immutable" in r.headers["Cache-Control"] and "max-age=315360000" in r.headers[
        "Cache-Control"]
