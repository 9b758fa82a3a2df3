"""Invoice OCR (issue 7): time per page, work-horse start-up, and upload-to-prefilled.

1. OCR per page: `webapp.invoices.ocr.read_text` on every variant of tests/invoice_images.py
   (clean, rotated, rotated90, upside_down, blurred, jpeg, photo) for BENCH_OCR_SEEDS invoices
   (default 3), after one warm-up page; p50/p95 wall time overall and per variant, and whether
   invoice number, PO number (up to O/0, I/1) and total were read right.
2. Work-horse start-up: in a fresh process, fork a child per mode and time what the child needs
   before its first page: nothing preloaded (import + build), OCR modules imported in the
   parent (build only), and the engine built in the parent (the child must refuse it).
3. Upload-to-prefilled: a scratch SQLite database, an embedded Redis, a real
   `flask worker --queue media` process; each of BENCH_OCR_UPLOADS photos (default 14, all
   variants) is POSTed to /api/v1/invoices/photos through the app (bearer token), and the clock
   stops when the row says ocr_state "done" with the fields read.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def right(fields: dict, invoice) -> bool:
    """Invoice number, PO number (up to confusions) and total read as printed."""
    from webapp.invoices.reading import po_distance

    po = fields["purchase_order_number"]["value"]
    return (fields["invoice_number"]["value"] == invoice.invoice_number
            and fields["total_amount"]["value"] == str(invoice.total)
            and po is not None and po_distance(po, invoice.purchase_order_number) < 1)


def ocr_per_page(seeds: list[int]) -> dict:
    """Time read_text on every variant of every seed's invoice."""
    from tests.invoice_images import VARIANTS, random_invoice, render_invoice
    from webapp.invoices import ocr
    from webapp.invoices.extraction import extract_invoice_fields

    ocr.read_text(render_invoice(seed=0))  # warm-up: engine build, first-run allocations
    by_variant: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpu: list[float] = []
    correct = 0
    for seed in seeds:
        invoice = random_invoice(seed)
        for variant in VARIANTS:
            data = render_invoice(invoice, variant, seed)
            started, started_cpu = time.perf_counter(), time.process_time()
            lines = ocr.read_text(data)
            by_variant[variant].append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            correct += right(extract_invoice_fields(lines), invoice)
    every = [t for times in by_variant.values() for t in times]
    return {"pages": len(every), "correct": correct, "p50": pct(every, 50),
            "p95": pct(every, 95), "cpu_p50": pct(cpu, 50),
            "variants": {v: statistics.median(t) for v, t in by_variant.items()}}


def horse_start_child() -> None:
    """Run in a fresh interpreter: fork per mode, print what each child needed (JSON)."""
    from tests.invoice_images import render_invoice
    from webapp.invoices import ocr  # noqa: F401 - as loaded in a worker; no onnxruntime yet

    data = render_invoice(seed=1)
    out = {}
    for mode in ("cold", "modules_preloaded", "engine_in_parent"):
        if mode == "modules_preloaded":
            from webapp.invoices.ocr import preload_modules

            preload_modules()
        if mode == "engine_in_parent":
            ocr.get_engine()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read)
            started = time.perf_counter()
            try:
                ocr.get_engine()
                ready = time.perf_counter()
                ocr.read_text(data)
                result = {"start_s": ready - started, "first_page_s": time.perf_counter() - ready}
            except ocr.OcrUnavailable:
                result = {"refused_s": time.perf_counter() - started}
            os.write(write, json.dumps(result).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            out[mode] = json.loads(pipe.read() or "{}")
        os.waitpid(child, 0)
    print(json.dumps(out))


def horse_start() -> dict:
    """Work-horse start-up per preload mode, measured in a fresh process."""
    done = subprocess.run([sys.executable, "-c", "from bench.bench_ocr import horse_start_child;"
                           " horse_start_child()"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def upload_to_prefilled(uploads: int) -> dict:
    """POST photos through the app; a real media worker reads them; time until "done"."""
    from flask_migrate import upgrade
    from rq import Worker

    from config import Config
    from tests.auth_helpers import make_user, make_vendor
    from tests.invoice_images import VARIANTS, random_invoice, render_invoice
    from tests.orders_helpers import add_po
    from tests.processes import process_env
    from webapp import create_app
    from webapp.auth import tokens
    from webapp.extensions import db
    from webapp.invoices.models import InvoicePhoto
    from webapp.redis_conn import get_redis, redis_url

    with tempfile.TemporaryDirectory(prefix="acorn-bench-ocr-") as instance:
        class BenchConfig(Config):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance}/bench.db"
            INSTANCE_DIR = instance
            MEDIA_DIR = f"{instance}/media"
            REDIS_URL = None

        app = create_app(BenchConfig)
        with app.app_context():
            upgrade()
            BenchConfig.REDIS_URL = redis_url(app)
            vendor = make_vendor("Bench Kitchenware")
            user, _ = make_user(vendor, role="finance")
            _token, raw = tokens.create_token(user, "bench")
            db.session.commit()
            invoices = [random_invoice(100 + i) for i in range(uploads)]
            for invoice in invoices:
                add_po(vendor.id, number=invoice.purchase_order_number)
            pages = [render_invoice(inv, VARIANTS[i % len(VARIANTS)], 100 + i)
                     for i, inv in enumerate(invoices)]
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--queue", "media",
             "--without-scheduler"], cwd=ROOT, env=process_env(BenchConfig),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        totals, posts, ocr_s, correct = [], [], [], 0
        try:
            with app.app_context():
                while not Worker.all(connection=get_redis(app)):
                    time.sleep(0.05)
                client = app.test_client()
                for invoice, page in zip(invoices, pages, strict=True):
                    started = time.perf_counter()
                    response = client.post(
                        "/api/v1/invoices/photos", headers={"Authorization": f"Bearer {raw}"},
                        data={"file": [(io.BytesIO(page), "IMG.jpg", "image/jpeg")]},
                        content_type="multipart/form-data")
                    posted = time.perf_counter()
                    assert response.status_code == 201, response.get_data(as_text=True)
                    photo_id = response.get_json()["photos"][0]["id"]
                    while True:
                        db.session.remove()  # a fresh read each poll, as a screen's request
                        photo = db.session.get(InvoicePhoto, photo_id)
                        if photo.ocr_state in ("done", "failed"):
                            break
                        if time.perf_counter() - started > 300:
                            raise RuntimeError("OCR did not finish in 5 minutes")
                        time.sleep(0.02)
                    totals.append(time.perf_counter() - started)
                    posts.append(posted - started)
                    result = photo.ocr_result or {}
                    ocr_s.append(result.get("seconds", 0.0))
                    correct += photo.ocr_state == "done" and right(result["fields"], invoice)
                db.session.remove()
                db.engine.dispose()
        finally:
            worker.terminate()
            worker.wait(30)
    return {"uploads": uploads, "correct": correct, "p50": pct(totals, 50),
            "p95": pct(totals, 95), "post_p50": pct(posts, 50),
            "ocr_in_job_p50": pct(ocr_s, 50)}


def main() -> int:
    """Print the three measurements; exit 1 when any page was read wrong."""
    sys.path.insert(0, str(ROOT))
    seeds = list(range(1, int(os.environ.get("BENCH_OCR_SEEDS", 3)) + 1))
    uploads = int(os.environ.get("BENCH_OCR_UPLOADS", 14))
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    start = horse_start()
    print("work-horse start-up (s):", json.dumps(
        {m: {k: round(v, 3) for k, v in r.items()} for m, r in start.items()}), flush=True)
    pages = ocr_per_page(seeds)
    print(f"OCR per page: {pages['pages']} pages, {pages['correct']} read right; "
          f"p50 {pages['p50']:.2f} s, p95 {pages['p95']:.2f} s (CPU p50 "
          f"{pages['cpu_p50']:.2f} s)", flush=True)
    print("  median by variant (s): " + ", ".join(
        f"{v} {t:.2f}" for v, t in pages["variants"].items()), flush=True)
    e2e = upload_to_prefilled(uploads)
    print(f"upload-to-prefilled: {e2e['uploads']} uploads, {e2e['correct']} read right; "
          f"p50 {e2e['p50']:.2f} s, p95 {e2e['p95']:.2f} s (POST p50 {e2e['post_p50']:.2f} s, "
          f"OCR in the job p50 {e2e['ocr_in_job_p50']:.2f} s)", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    return 0 if pages["correct"] == pages["pages"] and e2e["correct"] == e2e["uploads"] else 1


if __name__ == "__main__":
    sys.exit(main())
