"""Invoice photo uploads: the hostile corpus, safe serving, the API, the stores and OCR queueing."""

from __future__ import annotations

import collections
import importlib
import io
import os
import re
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests.auth_helpers import csrf_token, make_user, make_vendor, sign_in
from tests.e2e.conftest import LiveServer
from tests.hostile_uploads import QUADRANTS, UPRIGHT_SIZE, Upload, corpus, jpeg, make_pdf, png
from tests.orders_helpers import add_po
from webapp.auth import tokens
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices import photos as photo_service
from webapp.invoices.models import InvoicePhoto
from webapp.media.errors import UploadRefused, UploadTooLarge
from webapp.media.intake import MediaLimits, ingest_upload
from webapp.media.storage import LocalStore, S3Store, get_store, make_store
from worker.queues import get_queue
from worker.schedule import PERIODIC

API = "/api/v1/invoices/photos"
GENERATED_KEY = re.compile(r"^invoices/\d+/\d{4}/\d{2}/[0-9a-f]{32}(-thumb)?\.(jpg|png)$")
METADATA_KEYS = {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "Comment",
                 "photoshop", "adobe", "mp", "jfif_thumbnail"}


@pytest.fixture
def media_dir(app, tmp_path):
    """A fresh, empty local media folder for this test."""
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    app.extensions.pop("acorn.media_store", None)
    return tmp_path / "media"


def _token(role="finance", vendor=None):
    user, _ = make_user(vendor, role=role)
    _t, raw = tokens.create_token(user, "phone")
    db.session.commit()
    return user, {"Authorization": f"Bearer {raw}"}


def _upload(client, auth, *files, **form):
    data = {"file": [(io.BytesIO(f.data), f.filename, f.content_type) for f in files], **form}
    return client.post(API, data=data, headers=auth, content_type="multipart/form-data")


def _files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_clean(data: bytes, content_type: str, markers=()) -> Image.Image:
    """Stored bytes decode fully as the type we claim and carry no metadata or payload."""
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == {"image/jpeg": "JPEG", "image/png": "PNG"}[content_type]
    assert img.mode in ("RGB", "L")
    assert len(img.getexif()) == 0, dict(img.getexif())
    assert not METADATA_KEYS & set(img.info), img.info.keys()
    assert not getattr(img, "text", {}), "PNG text chunks survived"
    for marker in markers:
        assert marker not in data
    return img


def _quadrant_colours(img: Image.Image) -> dict:
    w, h = img.size
    points = {"top_left": (w // 4, h // 4), "top_right": (3 * w // 4, h // 4),
              "bottom_left": (w // 4, 3 * h // 4), "bottom_right": (3 * w // 4, 3 * h // 4)}
    return {name: img.convert("RGB").getpixel(xy) for name, xy in points.items()}


def _close(a, b, tolerance=40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_hostile_corpus_is_refused_or_neutralized_and_never_crashes(app, client, media_dir,
                                                                    capsys):
    cases = corpus()
    assert len(cases) >= 200
    user, auth = _token()
    figures = collections.defaultdict(collections.Counter)
    accepted: list[tuple[Upload, dict]] = []
    wrong = []
    for case in cases:
        r = client.post(API, data={"file": (io.BytesIO(case.data), case.filename,
                                            case.content_type)},
                        headers=auth, content_type="multipart/form-data")
        assert r.status_code != 500, case.label
        assert r.is_json, (case.label, r.status_code)
        figures[case.category][r.status_code] += 1
        if r.status_code != case.expect:
            wrong.append((case.category, case.label, case.expect, r.status_code, r.get_json()))
        elif r.status_code == 201:
            accepted.extend((case, p) for p in r.get_json()["photos"])
        else:
            error = r.get_json()["error"]
            assert error["code"] and error["message"], case.label
    with capsys.disabled():
        print(f"\nHostile upload corpus: {len(cases)} files")
        print(f"  {'category':<24}{'files':>6}{'201':>6}{'413':>6}{'415':>6}{'other':>7}")
        for category, counts in sorted(figures.items()):
            other = sum(n for s, n in counts.items() if s not in (201, 413, 415))
            print(f"  {category:<24}{sum(counts.values()):>6}{counts[201]:>6}{counts[413]:>6}"
                  f"{counts[415]:>6}{other:>7}")
        print(f"  stored photos (images + PDF pages): {len(accepted)}; mismatches: {len(wrong)}")
    assert wrong == [], wrong

    store = get_store()
    static = Path(app.static_folder).resolve()
    rows = db.session.scalars(select(InvoicePhoto)).all()
    assert len(rows) == len(accepted)
    for case, body in accepted:
        photo = db.session.get(InvoicePhoto, body["id"])
        for key, content_type in ((photo.storage_key, photo.content_type),
                                  (photo.thumbnail_key, "image/jpeg")):
            path = store.path_of(key)
            assert path.is_relative_to(media_dir.resolve()) and not path.is_relative_to(static)
            data = path.read_bytes()
            img = _assert_clean(data, content_type, case.markers)
            if key == photo.storage_key:
                assert (img.width, img.height) == (photo.width, photo.height)
                assert len(data) == photo.size_bytes
        # Names never reach the disk: the key is ours, the display name is cleaned.
        name = photo.original_filename or ""
        assert "/" not in name and "\\" not in name and "\x00" not in name and "<" not in name
        assert GENERATED_KEY.match(photo.storage_key) and GENERATED_KEY.match(photo.thumbnail_key)
        if case.orientation is not None:
            img = Image.open(io.BytesIO(store.read(photo.storage_key)))
            assert img.size == UPRIGHT_SIZE, (case.label, img.size)
            colours = _quadrant_colours(img)
            assert all(_close(colours[q], QUADRANTS[q]) for q in QUADRANTS), (case.label, colours)
    # Refused uploads left nothing behind; accepted ones left exactly image + thumbnail.
    assert len(_files_on_disk(media_dir)) == 2 * len(rows)


def test_stored_photo_is_served_only_to_the_same_vendor_with_safe_headers(app, media_dir):
    vendor = make_vendor("Tea Exporters")
    owner, _ = make_user(vendor, role="manager")
    [photo] = photo_service.save_invoice_photos(vendor, owner, jpeg())
    viewer = app.test_client()
    sign_in(viewer, role="viewer", vendor=vendor)
    r = viewer.get(f"/invoices/photos/{photo.id}")
    assert r.status_code == 200 and r.data == get_store().read(photo.storage_key)
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"] == f'inline; filename="invoice-{photo.id}.jpg"'
    assert "no-store" in r.headers["Cache-Control"]
    thumb = viewer.get(f"/invoices/photos/{photo.id}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert "thumbnail.jpg" in thumb.headers["Content-Disposition"]

    stranger = app.test_client()
    sign_in(stranger, role="admin", vendor=make_vendor("Other Vendor Ltd"))
    for url in (f"/invoices/photos/{photo.id}", f"/invoices/photos/{photo.id}/thumbnail",
                f"/api/v1/invoices/photos/{photo.id}", "/invoices/photos/999999",
                "/invoices/photos/99999999999999999999"):
        assert stranger.get(url).status_code == 404, url
    anonymous = app.test_client().get(f"/invoices/photos/{photo.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.location


def test_api_uploads_pages_in_order_for_a_po_and_queues_ocr(app, client, media_dir):
    user, auth = _token("finance")
    add_po(user.vendor_id, "2JK3S9VC")
    pdf = Upload("t", "pdf", make_pdf([b"BT /F1 24 Tf 72 720 Td (INVOICE 4711) Tj ET"] * 3),
                 201, "scan.pdf", "application/pdf")
    photo = Upload("t", "jpg", jpeg(), 201, "../../photo.jpg")
    r = _upload(client, auth, photo, pdf, purchaseOrderNumber="2JK3S9VC")
    assert r.status_code == 201, r.get_json()
    photos = r.get_json()["photos"]
    assert [p["pageNumber"] for p in photos] == [1, 2, 3, 4]
    assert {p["purchaseOrderNumber"] for p in photos} == {"2JK3S9VC"}
    assert {p["ocrState"] for p in photos} == {"queued"}
    assert photos[0]["originalFilename"] == "photo.jpg"
    assert photos[1]["originalFilename"] == "scan.pdf"
    assert photos[0]["url"] == f"/invoices/photos/{photos[0]['id']}"
    assert photos[0]["thumbnailUrl"] == f"/invoices/photos/{photos[0]['id']}/thumbnail"
    # The PDF itself is nowhere: only its rendered pages, as images.
    for path in _files_on_disk(media_dir):
        assert not path.read_bytes().startswith(b"%PDF")
    got = client.get(f"{API}/{photos[2]['id']}", headers=auth).get_json()
    assert got["ocrState"] == "queued" and got["ocrResult"] is None
    assert got["contentType"] in ("image/jpeg", "image/png") and got["width"] > 1000
    jobs = get_queue("media").get_jobs()
    assert sorted(j.args[0] for j in jobs) == sorted(p["id"] for p in photos)
    assert {j.func_name for j in jobs} == {photo_service.OCR_JOB}

    _other, other_auth = _token("admin", make_vendor("Second Vendor"))
    assert client.get(f"{API}/{photos[0]['id']}", headers=other_auth).status_code == 404
    add_po(_other.vendor_id, "OTHERPO1")
    for number in ("OTHERPO1", "NOPE"):  # another vendor's PO is as unknown as a missing one
        r = _upload(client, auth, photo, purchaseOrderNumber=number)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_purchase_order"
    _viewer, viewer_auth = _token("viewer", db.session.get(type(user.vendor), user.vendor_id))
    assert _upload(client, viewer_auth, photo).status_code == 403
    r = client.post(API, data={}, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "file_required"


def test_one_bad_file_refuses_the_whole_request_and_stores_nothing(app, client, media_dir):
    _user, auth = _token()
    good = Upload("t", "ok", png(), 201, "a.png", "image/png")
    bad = Upload("t", "svg", b"<svg onload=alert(1)>", 415, "b.png", "image/png")
    r = _upload(client, auth, good, bad)
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_type"
    assert db.session.scalars(select(InvoicePhoto)).all() == []
    assert _files_on_disk(media_dir) == []


def test_whole_request_over_the_limit_is_a_json_413(app, client, media_dir):
    _user, auth = _token()
    big = Upload("t", "big", b"\xff\xd8" + os.urandom(21 * 1024 * 1024), 413, "big.jpg")
    r = _upload(client, auth, big)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    with pytest.raises(UploadTooLarge):
        ingest_upload(io.BytesIO(b"\x89PNG" + bytes(2000)), limits=MediaLimits(max_bytes=1000))
    with pytest.raises(UploadTooLarge) as exc:
        ingest_upload(png(), limits=MediaLimits(max_pixels=96 * 64 - 1))
    assert exc.value.code == "too_many_pixels" and exc.value.status == 413


def test_browser_session_upload_needs_the_csrf_header(app, media_dir):
    client = app.test_client()
    sign_in(client, role="manager")
    files = {"file": (io.BytesIO(jpeg()), "p.jpg", "image/jpeg")}
    r = client.post(API, data=files, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf_failed"
    files = {"file": (io.BytesIO(jpeg()), "p.jpg", "image/jpeg")}
    r = client.post(API, data=files, content_type="multipart/form-data",
                    headers={"X-CSRFToken": csrf_token(client, "/logout")})
    assert r.status_code == 201


def test_photos_stay_queued_while_redis_is_down_and_the_sweep_requeues_them(app, media_dir):
    vendor = make_vendor("Redis Down Co")
    user, _ = make_user(vendor)
    good_redis, good_client = app.config["REDIS_URL"], app.extensions.pop("acorn.redis", None)
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # discard port: nothing listens
    try:
        [photo] = photo_service.save_invoice_photos(vendor, user, png())
    finally:
        app.config["REDIS_URL"] = good_redis
        app.extensions.pop("acorn.redis", None)
        if good_client is not None:
            app.extensions["acorn.redis"] = good_client
    assert photo.ocr_state == "queued" and get_queue("media").count == 0
    assert photo_service.requeue_stuck_photos() == []  # not stuck yet: under two minutes old

    [done] = photo_service.save_invoice_photos(vendor, user, png())
    [ancient] = photo_service.save_invoice_photos(vendor, user, png())
    get_queue("media").empty()
    db.session.execute(update(InvoicePhoto).values(created_at=utcnow() - timedelta(minutes=3)))
    db.session.execute(update(InvoicePhoto).where(InvoicePhoto.id == done.id)
                       .values(ocr_state="done"))
    db.session.execute(update(InvoicePhoto).where(InvoicePhoto.id == ancient.id)
                       .values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert photo_service.requeue_stuck_photos() == [photo.id]
    assert photo_service.requeue_stuck_photos() == [photo.id]  # same job id: queued once
    assert [j.args for j in get_queue("media").get_jobs()] == [[photo.id]]

    [entry] = [p for p in PERIODIC if p.name == "invoice-photos-requeue"]
    module, _, name = entry.func.rpartition(".")
    assert getattr(importlib.import_module(module), name) is photo_service.requeue_stuck_photos
    assert entry.queue == "media" and entry.interval <= 120


def test_local_store_refuses_keys_that_escape_the_media_folder(tmp_path):
    store = LocalStore(tmp_path / "media")
    for key in ("../x.jpg", "/etc/passwd", "a/../../x.jpg", "invoices/1/../../../x.jpg",
                "invoices\\x.jpg", "x.jpg\x00.png", "x.php", "", ".jpg", "a//b.jpg",
                "INVOICES/1/X.JPG", "a" * 200 + ".jpg"):
        with pytest.raises(ValueError):
            store.put(key, b"x", "image/jpeg")
    (tmp_path / "media").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "media" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError):
        store.put("link/x.jpg", b"x", "image/jpeg")
    assert list((tmp_path / "outside").iterdir()) == []
    store.put("invoices/1/2026/11/abc.jpg", b"data", "image/jpeg")
    assert store.read("invoices/1/2026/11/abc.jpg") == b"data"
    assert [p.name for p in (tmp_path / "media/invoices/1/2026/11").iterdir()] == ["abc.jpg"]


def test_media_dir_inside_static_is_refused(app):
    with pytest.raises(RuntimeError, match="static"):
        make_store({"MEDIA_DIR": str(Path(app.static_folder) / "uploads")})


def test_s3_store_against_a_real_s3_http_server(app, client, media_dir, monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
        endpoint = f"http://{host}:{port}"
        store = S3Store("acorn-media", endpoint_url=endpoint, region="us-east-1")
        store.client.create_bucket(Bucket="acorn-media")
        store.put("invoices/1/2026/11/abc.png", png(), "image/png")
        assert store.read("invoices/1/2026/11/abc.png") == png()
        opened = store.open_for_response("invoices/1/2026/11/abc.png")
        assert opened.size == len(png()) and opened.content_type == "image/png"
        store.delete("invoices/1/2026/11/abc.png")
        with pytest.raises(KeyError):
            store.read("invoices/1/2026/11/abc.png")
        with pytest.raises(ValueError):
            store.put("../escape.jpg", b"x", "image/jpeg")

        app.config.update(MEDIA_S3_BUCKET="acorn-media", MEDIA_S3_ENDPOINT_URL=endpoint,
                          MEDIA_S3_REGION="us-east-1")
        app.extensions.pop("acorn.media_store", None)
        user, auth = _token()
        r = _upload(client, auth, Upload("t", "gps", jpeg(), 201, "p.jpg"))
        assert r.status_code == 201
        photo = r.get_json()["photos"][0]
        served = client.get(photo["url"], headers=auth)
        # The serving view is for signed-in browsers; bearer tokens reach only /api.
        assert served.status_code in (302, 401)
        viewer = app.test_client()
        sign_in(viewer, role="viewer", vendor=user.vendor)
        served = viewer.get(photo["url"])
        assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
        _assert_clean(served.data, "image/jpeg")
        assert _files_on_disk(media_dir) == []
    finally:
        app.config.update(MEDIA_S3_BUCKET=None)
        app.extensions.pop("acorn.media_store", None)
        server.stop()


def test_refusals_have_codes_and_readable_messages(app):
    for data, code in ((b"", "empty"), (b"<svg/>", "unsupported_type"),
                       (jpeg()[:300], "corrupt_image"), (b"%PDF-1.4\n%%EOF", "corrupt_pdf")):
        with pytest.raises(UploadRefused) as exc:
            ingest_upload(data)
        assert exc.value.code == code and exc.value.status == 415 and len(exc.value.message) > 10


def test_same_idempotency_key_replays_the_first_answer_and_stores_once(app, client, media_dir):
    user, auth = _token()
    add_po(user.vendor_id, "2JK3S9VC")
    page = Upload("t", "jpg", jpeg(), 201, "page-1.jpg")
    keyed = {**auth, "Idempotency-Key": "queued-7-0"}
    first = _upload(client, keyed, page, purchaseOrderNumber="2JK3S9VC")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = _upload(client, keyed, page, purchaseOrderNumber="2JK3S9VC")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    [photo] = first.get_json()["photos"]
    assert db.session.scalars(select(InvoicePhoto.id)).all() == [photo["id"]]
    assert len(_files_on_disk(media_dir)) == 2
    assert [j.args[0] for j in get_queue("media").get_jobs()] == [photo["id"]]

    # The same key with another file, another PO field or another name is refused, not stored.
    add_po(user.vendor_id, "OTHERPO1")
    for changed in (dict(files=[Upload("t", "png", png(), 201, "page-1.jpg", "image/png")],
                         form={"purchaseOrderNumber": "2JK3S9VC"}),
                    dict(files=[page], form={"purchaseOrderNumber": "OTHERPO1"}),
                    dict(files=[page], form={})):
        r = _upload(client, keyed, *changed["files"], **changed["form"])
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["error"]["code"] == "idempotency_key_reused"
    assert db.session.scalars(select(InvoicePhoto.id)).all() == [photo["id"]]
    assert len(_files_on_disk(media_dir)) == 2
    # Without the header each POST stores (plain API clients); another key stores again.
    assert _upload(client, auth, page).status_code == 201
    r = _upload(client, {**auth, "Idempotency-Key": "queued-7-1"}, page)
    assert r.status_code == 201 and r.get_json()["photos"][0]["id"] != photo["id"]
    assert len(db.session.scalars(select(InvoicePhoto.id)).all()) == 3
    assert len(_files_on_disk(media_dir)) == 6
    # A refusal is an answer too: the same key replays it without decoding anything again.
    bad = Upload("t", "svg", b"<svg onload=alert(1)>", 415, "b.png", "image/png")
    refused = [_upload(client, {**auth, "Idempotency-Key": "bad-1"}, bad) for _ in range(2)]
    assert [r.status_code for r in refused] == [415, 415]
    assert refused[1].headers["Idempotent-Replayed"] == "true"
    empty_key = _upload(client, {**auth, "Idempotency-Key": " "}, page)
    assert empty_key.status_code == 400


def test_ten_concurrent_repeats_of_one_key_store_one_set_of_photos(app, media_dir):
    user, auth = _token()
    add_po(user.vendor_id, "2JK3S9VC")
    pdf = make_pdf([b"BT /F1 24 Tf 72 720 Td (INVOICE 4711) Tj ET"] * 2)
    answers: list[tuple[int, dict, bool]] = []
    with LiveServer(app) as server:
        start = threading.Barrier(10)

        def send():
            start.wait()
            r = httpx.post(f"{server.url}{API}", headers={**auth, "Idempotency-Key": "page-k"},
                           files={"file": ("scan.pdf", pdf, "application/pdf")},
                           data={"purchaseOrderNumber": "2JK3S9VC"}, timeout=60)
            answers.append((r.status_code, r.json(), "Idempotent-Replayed" in r.headers))

        threads = [threading.Thread(target=send) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(answers) == 10 and {a[0] for a in answers} == {201}, answers
    assert all(a[1] == answers[0][1] for a in answers)
    assert sorted(a[2] for a in answers) == [False] + [True] * 9
    ids = [p["id"] for p in answers[0][1]["photos"]]
    db.session.rollback()
    assert len(ids) == 2 and db.session.scalars(select(InvoicePhoto.id)).all() == ids
    # Exactly one image and one thumbnail per stored photo: no orphan files.
    assert len(_files_on_disk(media_dir)) == 4
    stored = {db.session.get(InvoicePhoto, i).storage_key for i in ids}
    assert {str(p.relative_to(media_dir)) for p in _files_on_disk(media_dir)
            if "-thumb" not in p.name} == stored
    assert sorted(j.args[0] for j in get_queue("media").get_jobs()) == sorted(ids)


def test_files_of_a_transaction_that_does_not_commit_are_deleted(app, media_dir):
    vendor = make_vendor("Rollback Co")
    user, _ = make_user(vendor)
    staged = photo_service.stage_invoice_photos(vendor, user, [png(), jpeg()])
    assert len(_files_on_disk(media_dir)) == 4 and all(p.id for p in staged)
    db.session.rollback()  # e.g. the idempotent view failed, or its commit did
    assert _files_on_disk(media_dir) == []
    assert db.session.scalars(select(InvoicePhoto)).all() == []

    photo_service.stage_invoice_photos(vendor, user, png())
    db.session.close()  # the request ended without a commit (app teardown)
    assert _files_on_disk(media_dir) == []

    [kept] = photo_service.stage_invoice_photos(vendor, user, png())
    db.session.commit()
    db.session.rollback()  # a later rollback does not touch committed photos
    assert len(_files_on_disk(media_dir)) == 2
    assert get_store().read(kept.storage_key)
    assert get_queue("media").count == 0  # staging never queues: OCR waits for the commit
    # A commit the database refuses (a duplicate storage key) leaves no files either.
    photo_service.stage_invoice_photos(vendor, user, png())
    db.session.add(InvoicePhoto(vendor_id=vendor.id, page_number=1, storage_key=kept.storage_key,
                                content_type="image/png", size_bytes=1, sha256="x",
                                ocr_state="queued"))
    assert len(_files_on_disk(media_dir)) == 4
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert len(_files_on_disk(media_dir)) == 2
    assert db.session.scalars(select(InvoicePhoto.id)).all() == [kept.id]
