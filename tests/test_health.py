"""/healthz follows Redis and the workers for real, and pages keep working without Redis."""

import pytest

from tests.processes import spawn_flask, stop, wait_until
from webapp import create_app
from webapp.embedded_redis import EmbeddedRedis


@pytest.fixture
def own_redis(tmp_path):
    """A Redis this test may stop and start again (the session's must stay up)."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_healthz_follows_redis_outage_and_recovery(test_config, _migrated, own_redis, tmp_path):
    class Config(test_config):
        REDIS_URL = own_redis.url

    app = create_app(Config)
    client = app.test_client()
    worker = spawn_flask(["worker", "--without-scheduler"], Config, tmp_path / "worker.log")
    try:
        assert wait_until(lambda: client.get("/healthz").status_code == 200, 30), (
            client.get("/healthz").get_json(), (tmp_path / "worker.log").read_text())
        body = client.get("/healthz").get_json()
        assert body["database"]["ok"] and body["redis"]["ok"] and body["worker"]["ok"]

        own_redis.stop()
        down = client.get("/healthz")
        assert down.status_code == 503
        assert down.get_json()["redis"]["ok"] is False
        assert client.get("/").status_code == 200  # pages do not need Redis

        own_redis.start()
        # The worker reconnects and its next heartbeat restores the registry.
        assert wait_until(lambda: client.get("/healthz").status_code == 200, 60), (
            client.get("/healthz").get_json())
    finally:
        stop(worker)
