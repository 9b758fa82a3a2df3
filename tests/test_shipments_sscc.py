"""SSCC-18: GS1 check digits, parsing and formatting, never-repeating allocation, prefix setting."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.auth_helpers import make_user, make_vendor, post, sign_in
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.shipments.sscc import (
    SsccCounter,
    SsccError,
    SsccRangeExhausted,
    allocate_ssccs,
    build_sscc,
    check_digit,
    format_sscc,
    is_valid_sscc,
    parse_sscc,
    serial_capacity,
)

# Published SSCCs with their check digits:
# - 106141411234567897: the AI (00) example "(00) 1 0614141 123456789 7" of the GS1 General
#   Specifications (section 3.2, AI (00)), GS1's example company prefix 0614141.
# - 376104250021234569: the worked check digit calculation for an 18-digit field in the GS1
#   General Specifications, section 7.9.1 (products sum to 101, check digit 110 - 101 = 9).
# - 106141412345678908: the GS1 EPC Tag Data Standard's SSCC example
#   (urn:epc:id:sscc:0614141.1234567890 <-> (00)106141412345678908), also used by GS1 Digital Link.
GS1_PUBLISHED = ["106141411234567897", "376104250021234569", "106141412345678908"]


@pytest.mark.parametrize("sscc", GS1_PUBLISHED)
def test_check_digit_matches_gs1_published_examples(sscc):
    assert check_digit(sscc[:17]) == int(sscc[17])
    assert is_valid_sscc(sscc)
    for wrong in range(10):
        if wrong != int(sscc[17]):
            assert not is_valid_sscc(sscc[:17] + str(wrong))


def test_check_digit_catches_single_digit_errors_and_most_swaps():
    sscc = GS1_PUBLISHED[0]
    for i in range(17):
        for d in "0123456789":
            if d != sscc[i]:
                assert not is_valid_sscc(sscc[:i] + d + sscc[i + 1:])


@pytest.mark.parametrize("bad", [
    "", "10614141123456789", "1061414112345678970", "10614141123456789x", " 106141411234567897",
    "１０６１４１４１１２３４５６７８９７", None])
def test_invalid_shapes_are_refused(bad):
    assert not is_valid_sscc(bad)
    assert parse_sscc(bad) is None or bad.strip() == GS1_PUBLISHED[0]


@pytest.mark.parametrize("bad", ["", "1061414112345678", "106141411234567897", "1061414112345678x"])
def test_check_digit_needs_exactly_seventeen_digits(bad):
    with pytest.raises(SsccError):
        check_digit(bad)


def test_parse_accepts_scanned_and_typed_forms():
    for text in ["106141411234567897", "00106141411234567897", "(00)106141411234567897",
                 "(00) 1 0614141 123456789 7", "]C100106141411234567897",
                 " 1061 4141 1234 5678 97 "]:
        assert parse_sscc(text) == "106141411234567897", text
    for text in ["106141411234567898", "(01)106141411234567897", "0010614141123456789", "abc", ""]:
        assert parse_sscc(text) is None, text
    # An 18-digit SSCC that starts with 00 is itself, not AI 00 plus 16 digits.
    assert parse_sscc("006141410000000173") == "006141410000000173"


def test_format_groups_prefix_and_serial():
    assert format_sscc("106141411234567897", 7) == "(00) 1 0614141 123456789 7"
    assert format_sscc("106141411234567897", 10) == "(00) 1 0614141123 456789 7"
    assert format_sscc("106141411234567897") == "(00) 1 0614141123456789 7"
    with pytest.raises(SsccError):
        format_sscc("106141411234567898", 7)


def test_build_fills_the_serial_to_seventeen_digits():
    assert build_sscc(1, "0614141", 123456789) == "106141411234567897"
    assert build_sscc(0, "0614141123", 1) == "006141411230000018"
    assert serial_capacity("0614141") == 10**9 and serial_capacity("0614141123") == 10**6
    for args in [(10, "0614141", 1), (0, "061414", 1), (0, "0614141", 10**9), (0, "06141a1", 1)]:
        with pytest.raises(SsccError):
            build_sscc(*args)


def _vendor(name="Acme Trading", prefix="0614141"):
    vendor = make_vendor(name)
    vendor.gs1_company_prefix = prefix
    db.session.commit()
    return vendor


def test_allocation_is_sequential_valid_and_continues(app):
    vendor = _vendor()
    first = allocate_ssccs(vendor, 3)
    db.session.commit()
    second = allocate_ssccs(vendor, 2)
    db.session.commit()
    assert first == [build_sscc(0, "0614141", n) for n in (1, 2, 3)]
    assert second == [build_sscc(0, "0614141", n) for n in (4, 5)]
    # Each extension digit is its own serial range.
    assert allocate_ssccs(vendor, 1, extension_digit=7) == [build_sscc(7, "0614141", 1)]
    assert all(is_valid_sscc(s) for s in first + second)


def test_rolled_back_allocation_leaves_no_gap_and_no_repeat(app):
    vendor = _vendor()
    lost = allocate_ssccs(vendor, 2)
    db.session.rollback()
    assert allocate_ssccs(vendor, 2) == lost  # nothing was kept, so nothing repeats
    db.session.commit()
    assert allocate_ssccs(vendor, 1) == [build_sscc(0, "0614141", 3)]


def test_vendors_sharing_a_prefix_never_share_an_sscc(app):
    one, two = _vendor("One Co"), _vendor("Two Co")
    a = allocate_ssccs(one, 5)
    b = allocate_ssccs(two, 5)
    db.session.commit()
    assert not set(a) & set(b)


def test_switching_prefix_back_continues_its_serials(app):
    vendor = _vendor()
    before = allocate_ssccs(vendor, 2)
    vendor.gs1_company_prefix = "0614142"
    other = allocate_ssccs(vendor, 2)
    vendor.gs1_company_prefix = "0614141"
    after = allocate_ssccs(vendor, 2)
    db.session.commit()
    assert len(set(before + other + after)) == 6
    assert after == [build_sscc(0, "0614141", n) for n in (3, 4)]


def test_exhausted_range_is_refused_clearly(app):
    vendor = _vendor(prefix="0614141123")  # 10 digits: 6-digit serials, 999,999 of them
    allocate_ssccs(vendor, 1)
    db.session.execute(update(SsccCounter).values(next_serial=999_998))
    db.session.commit()
    last = allocate_ssccs(vendor, 2)
    db.session.commit()
    assert last == [build_sscc(0, "0614141123", 999_998), build_sscc(0, "0614141123", 999_999)]
    with pytest.raises(SsccRangeExhausted, match="0 label numbers left, 1 asked"):
        allocate_ssccs(vendor, 1)
    db.session.rollback()
    assert allocate_ssccs(vendor, 1, extension_digit=1) == [build_sscc(1, "0614141123", 1)]


def test_allocation_needs_a_prefix_and_a_sane_count(app):
    vendor = make_vendor("No Prefix Co")
    with pytest.raises(SsccError, match="GS1 company prefix"):
        allocate_ssccs(vendor, 1)
    vendor = _vendor()
    for count in (0, -1, 10_001):
        with pytest.raises(SsccError):
            allocate_ssccs(vendor, count)
    with pytest.raises(SsccError):
        allocate_ssccs(vendor, 1, extension_digit=10)


# --- 100,000 SSCCs from several processes at once -------------------------------------------

WORKERS, PER_WORKER, BLOCK = 4, 25_000, 250


def _allocate_in_process(config: dict, vendor_id: int, barrier, out: str) -> None:
    """Child process: allocate PER_WORKER SSCCs in blocks, one short transaction each."""
    from config import TestConfig
    from webapp import create_app
    from webapp.vendors.models import Vendor

    app = create_app(type("ChildConfig", (TestConfig,), config))
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        db.session.commit()
        barrier.wait(120)
        codes: list[str] = []
        for _ in range(PER_WORKER // BLOCK):
            codes += allocate_ssccs(vendor, BLOCK)
            db.session.commit()
        Path(out).write_text("\n".join(codes))


def test_100k_ssccs_from_concurrent_processes_never_repeat(app, test_config, tmp_path):
    vendor_id = _vendor().id
    config = {key: getattr(test_config, key) for key in
              ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "INSTANCE_DIR", "MEDIA_DIR")}
    db.session.remove()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    outs = [tmp_path / f"worker{i}.txt" for i in range(WORKERS)]
    procs = [ctx.Process(target=_allocate_in_process, args=(config, vendor_id, barrier, str(o)))
             for o in outs]
    started = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * WORKERS
    elapsed = time.monotonic() - started
    per_worker = [o.read_text().split("\n") for o in outs]
    codes = [c for chunk in per_worker for c in chunk]
    assert len(codes) == WORKERS * PER_WORKER == 100_000
    assert len(set(codes)) == 100_000, "duplicate SSCCs"
    assert all(is_valid_sscc(c) for c in codes)
    # Together the workers used exactly serials 1..100,000: no gap, nothing skipped.
    assert sorted(int(c[8:17]) for c in codes) == list(range(1, 100_001))
    # And they really ran at the same time: every worker's blocks interleave with another's.
    assert all(len(chunk) == PER_WORKER for chunk in per_worker)
    assert max(int(chunk[0][8:17]) for chunk in per_worker) < 100_000 - PER_WORKER
    counter = db.session.scalar(select(SsccCounter))
    assert counter.next_serial == 100_001
    print(f"100,000 SSCCs by {WORKERS} processes in {elapsed:.1f} s")


# --- the vendor admin sets the prefix ---------------------------------------------------------

def test_admin_sets_the_prefix_and_bad_ones_are_refused(app, client):
    user = sign_in(client, role="admin")
    page = client.get("/settings/shipping")
    assert page.status_code == 200 and "GS1" in page.get_data(as_text=True)
    bad = post(client, "/settings/shipping", {"gs1_company_prefix": "12345"},
               token_from="/settings/shipping")
    assert bad.status_code == 200
    assert "7 to 10 digits" in bad.get_data(as_text=True)
    assert user.vendor.gs1_company_prefix is None
    ok = post(client, "/settings/shipping", {"gs1_company_prefix": " 0614 141 "},
              token_from="/settings/shipping")
    assert ok.status_code == 302
    db.session.expire_all()
    assert user.vendor.gs1_company_prefix == "0614141"
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "vendor.gs1_company_prefix"))
    assert entry.details == {"before": None, "after": "0614141"}
    assert allocate_ssccs(user.vendor, 1) == [build_sscc(0, "0614141", 1)]


def test_only_admins_set_the_prefix(app, client):
    vendor = _vendor()
    manager, secret = make_user(vendor, role="manager")
    sign_in(client, user=manager, secret=secret)
    assert client.get("/settings/shipping").status_code == 403
    response = post(client, "/settings/shipping", {"gs1_company_prefix": "9999999"},
                    token_from="/settings")
    assert response.status_code == 403
    db.session.expire_all()
    assert vendor.gs1_company_prefix == "0614141"
