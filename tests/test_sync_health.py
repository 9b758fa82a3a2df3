"""Sync health page (admins only) and the connector's CLI commands."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from sqlalchemy import func, select

from tests.amazon_fixtures import control, sandbox  # noqa: F401 - fixtures
from tests.auth_helpers import make_vendor, post, sign_in
from webapp.amazon import outbox
from webapp.amazon.models import OutboxMessage
from webapp.crypto import decrypt
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder
from webapp.vendors.models import Vendor, VendorCode
from worker.queues import enqueue, get_queue

ACK = {"acknowledgements": [{
    "purchaseOrderNumber": "PO1", "sellingParty": {"partyId": "DEMO1"},
    "acknowledgementDate": "2026-01-01T00:00:00Z",
    "items": [{"orderedQuantity": {"amount": 1}, "itemAcknowledgements": [
        {"acknowledgementCode": "Accepted", "acknowledgedQuantity": {"amount": 1}}]}]}]}


def explode(vendor_id: int) -> None:
    """A job that fails, for the failed-jobs list."""
    raise RuntimeError("boom")


def test_only_admins_see_sync_health(app, client):
    sign_in(client, role="manager")
    assert client.get("/admin/sync/").status_code == 403


def test_admin_sees_feeds_queues_failures_and_can_retry(app, client):
    user = sign_in(client, role="admin")
    vendor_id = user.vendor_id
    message = outbox.submit_to_amazon(vendor_id, "acknowledgement", 1, ACK,
                                      idempotency_key="k1")
    message.state = "unknown"
    db.session.commit()
    job = enqueue("sync", "worker.jobs.sync_vendor", vendor_id, ["orders"])
    job.set_status("failed")
    from rq.registry import FailedJobRegistry

    FailedJobRegistry(queue=get_queue("sync")).add(job, exc_string="RuntimeError: boom")
    get_queue("sync").remove(job.id)
    page = client.get("/admin/sync/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sync health" in html and "outbox" in html and "sync_vendor" in html
    assert f"/admin/sync/outbox/{message.id}/retry" in html

    response = post(client, f"/admin/sync/outbox/{message.id}/retry", token_from="/admin/sync/")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == "pending"

    response = post(client, f"/admin/sync/jobs/{job.id}/retry", token_from="/admin/sync/")
    assert response.status_code == 302 and get_queue("sync").count == 1

    other = make_vendor("Other Co")
    foreign = outbox.submit_to_amazon(other.id, "acknowledgement", 2, ACK, idempotency_key="k2")
    foreign.state = "failed"
    db.session.commit()
    response = post(client, f"/admin/sync/outbox/{foreign.id}/retry", token_from="/admin/sync/")
    assert response.status_code == 404  # another vendor's message does not exist for us


def test_cli_stores_credentials_encrypted_and_runs_a_sync(app, runner, sandbox):
    vendor = Vendor(name="Cli Foods", timezone="UTC")
    vendor.codes = [VendorCode(code="DEMO1")]
    db.session.add(vendor)
    db.session.commit()
    result = runner.invoke(args=["vendors", "credentials", "Cli Foods", "--client-id", "cid",
                                 "--client-secret", "sandbox-secret", "--refresh-token",
                                 "sandbox-refresh-token", "--region", "eu"])
    assert result.exit_code == 0, result.output
    db.session.refresh(vendor)
    assert vendor.spapi_region == "eu" and b"sandbox-refresh-token" not in \
        vendor.spapi_refresh_token_enc
    assert decrypt(vendor.spapi_refresh_token_enc) == "sandbox-refresh-token"

    control(sandbox, "purchase-orders", {"count": 12, "days_back": 3})
    result = runner.invoke(args=["sync", "run", "Cli Foods", "--since", "last tuesday"])
    assert result.exit_code == 2 and "--since" in result.output
    result = runner.invoke(args=["sync", "run", "Cli Foods", "--feed", "all"])
    assert result.exit_code == 0, result.output
    assert "orders:" in result.output and "created 12" in result.output
    assert "status:" in result.output and "reports:" in result.output
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 12


def test_periodic_schedule_requests_syncs_for_every_vendor(app, sandbox):
    from worker.main import build_worker
    from worker.schedule import PERIODIC
    from worker.scheduler import Scheduler

    for name in ("A Foods", "B Foods"):
        vendor = Vendor(name=name, timezone="UTC")
        vendor.codes = [VendorCode(code=name[0] + "CODE")]
        db.session.add(vendor)
    db.session.commit()
    ours = [p for p in PERIODIC if p.name.startswith("amazon-")]
    assert {p.name for p in ours} == {"amazon-orders-status", "amazon-reports", "amazon-outbox"}
    scheduler = Scheduler(app, [p for p in ours if p.name == "amazon-orders-status"])
    assert len(scheduler.run_due(now=600.0)) == 1
    worker = build_worker(app, ["sync"])
    worker.work(burst=True, max_jobs=1)  # the periodic job: requests one sync per vendor
    assert get_queue("sync").count == 2
    ids = get_queue("sync").job_ids
    assert all(i.startswith("sync-") and "orders_status" in i for i in ids)
