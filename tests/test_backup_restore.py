"""deploy/backup.sh and deploy/restore.sh: a restored database and photo store hold everything."""

from __future__ import annotations

import os
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.auth_helpers import make_vendor
from tests.databases import scratch_postgres
from tests.orders_helpers import add_po
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.media.storage import get_store

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="backup and restore use pg_dump/pg_restore: PostgreSQL only (CI runs this file on "
           "PostgreSQL too)")


@pytest.fixture
def empty_database():
    """A fresh, empty PostgreSQL database to restore into."""
    with scratch_postgres(os.environ["TEST_DATABASE_URL"], "acorn_restore") as url:
        yield url


def _run(script: str, *args: str, **env: str) -> str:
    result = subprocess.run(["bash", str(ROOT / "deploy" / script), *args],
                            env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_backup_then_restore_finds_every_po_invoice_and_photo(app, empty_database, tmp_path):
    vendor = make_vendor("Backup Foods")
    numbers = [f"BK{n:06d}" for n in range(25)]
    pos = [add_po(vendor.id, number) for number in numbers]
    for n, po in enumerate(pos[:10]):
        db.session.add(Invoice(vendor_id=vendor.id, purchase_order_id=po.id,
                               invoice_number=f"INV-{n:04d}", currency="USD",
                               total_amount=Decimal("123.4500") + n))
    db.session.commit()
    photo = b"\xff\xd8\xff\xe0" + os.urandom(4096)
    key = f"invoices/{vendor.id}/{uuid.uuid4().hex}.jpg"
    get_store().put(key, photo, "image/jpeg")
    invoices = {(i.invoice_number, i.total_amount, i.currency) for i in
                db.session.scalars(sa.select(Invoice))}
    source_url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()

    backup = _run("backup.sh", str(tmp_path / "backups"), DATABASE_URL=source_url,
                  MEDIA_DIR=app.config["MEDIA_DIR"])
    assert (Path(backup) / "database.dump").stat().st_size > 0
    restored_media = tmp_path / "restored-media"
    _run("restore.sh", backup, DATABASE_URL=empty_database, MEDIA_DIR=str(restored_media))

    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        found = set(conn.scalars(sa.text(
            "SELECT po_number FROM purchase_orders WHERE vendor_id = :v"), {"v": vendor.id}))
        lines = conn.scalar(sa.text("SELECT count(*) FROM purchase_order_lines"))
        restored = {tuple(r) for r in conn.execute(sa.text(
            "SELECT invoice_number, total_amount, currency FROM invoices"))}
        version = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    assert found == set(numbers)
    assert lines == 2 * len(numbers)
    assert restored == invoices and len(restored) == 10
    assert version
    assert (restored_media / key).read_bytes() == photo
