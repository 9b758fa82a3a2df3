"""Reports 2021-06-30: createReport, getReport's processing states, report documents.

Mixed into `SandboxStore` (see store.py), whose `lock`, `rng`, `reports`, `documents`,
`_gzip_cache` and `now()` it uses; what a report says is computed in report_content.py.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import timedelta

from webapp.amazon.sandbox.errors import ApiError, invalid_input
from webapp.amazon.sandbox.generator import iso, parse_iso

REPORT_TYPES = ("GET_VENDOR_INVENTORY_REPORT", "GET_VENDOR_SALES_REPORT")


class Reports:
    """Queue, process and serve vendor inventory and sales reports."""

    def create_report(self, account: dict, body: dict) -> dict:
        """createReport for the vendor inventory and sales reports (weekly)."""
        report_type = body.get("reportType")
        if report_type not in REPORT_TYPES:
            raise invalid_input(
                f"Report type {report_type} is not supported by the sandbox.",
                ", ".join(REPORT_TYPES),
            )
        options = body.get("reportOptions") or {}
        expected = {
            "reportPeriod": ("WEEK",),
            "distributorView": ("MANUFACTURING", "SOURCING"),
            "sellingProgram": ("RETAIL", "FRESH"),
        }
        for name, allowed in expected.items():
            if options.get(name) not in allowed:
                raise invalid_input(f"reportOptions.{name} must be one of {', '.join(allowed)}.")
        with self.lock:
            now = self.now()
            end = parse_iso(body["dataEndTime"]) if body.get("dataEndTime") else now
            start = (
                parse_iso(body["dataStartTime"])
                if body.get("dataStartTime")
                else end - timedelta(days=7)
            )
            if end < start:
                raise invalid_input("dataStartTime must be before dataEndTime.")
            report_id = str(50000000000 + len(self.reports) * 7 + self.rng.randint(1, 6))
            self.reports[report_id] = {
                "id": report_id,
                "account": account["refresh_token"],
                "type": report_type,
                "options": options,
                "marketplace_ids": body["marketplaceIds"],
                "start": iso(start),
                "end": iso(end),
                "created": iso(now),
                "polls": 0,
                "status": "IN_QUEUE",
                "document_id": None,
                "started": None,
                "finished": None,
            }
            self.dirty = True
            return {"reportId": report_id}

    def get_report(self, account: dict, report_id: str) -> dict:
        """getReport: IN_QUEUE, then IN_PROGRESS, then DONE with a document."""
        with self.lock:
            report = self.reports.get(report_id)
            if report is None or report["account"] != account["refresh_token"]:
                raise ApiError(404, "NotFound", "The report was not found.", report_id)
            report["polls"] += 1
            stamp = iso(self.now())
            if report["status"] == "IN_QUEUE" and report["polls"] >= 2:
                report["status"], report["started"] = "IN_PROGRESS", stamp
            elif report["status"] == "IN_PROGRESS":
                report["document_id"] = self._make_document(report)
                report["status"], report["finished"] = "DONE", stamp
            self.dirty = True
            result = {
                "reportId": report_id,
                "reportType": report["type"],
                "marketplaceIds": report["marketplace_ids"],
                "dataStartTime": report["start"],
                "dataEndTime": report["end"],
                "createdTime": report["created"],
                "processingStatus": report["status"],
            }
            if report["started"]:
                result["processingStartTime"] = report["started"]
            if report["finished"]:
                result["processingEndTime"] = report["finished"]
            if report["document_id"]:
                result["reportDocumentId"] = report["document_id"]
            return result

    def get_report_document(self, account: dict, document_id: str, base_url: str) -> dict:
        """getReportDocument: where to download it, and whether it is gzip-compressed."""
        with self.lock:
            document = self.documents.get(document_id)
            if document is None or document["account"] != account["refresh_token"]:
                raise ApiError(404, "NotFound", "The report document was not found.", document_id)
            result = {
                "reportDocumentId": document_id,
                "url": f"{base_url.rstrip('/')}/_sandbox/documents/{document_id}",
            }
            if document["gzip"]:
                result["compressionAlgorithm"] = "GZIP"
            return result

    def document_bytes(self, document_id: str) -> bytes | None:
        """Return a document's bytes as served at its url (gzip-compressed when flagged)."""
        with self.lock:
            document = self.documents.get(document_id)
            if document is None:
                return None
            data = document["content"].encode()
            if not document["gzip"]:
                return data
            if document_id not in self._gzip_cache:
                self._gzip_cache[document_id] = gzip.compress(data, mtime=0)
            return self._gzip_cache[document_id]

    def _make_document(self, report: dict) -> str:
        document_id = f"amzn1.spdoc.1.4.na.{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        content = self.build_report(report)
        self.documents[document_id] = {
            "id": document_id,
            "account": report["account"],
            "report_id": report["id"],
            # Every other document is compressed, so clients meet both kinds.
            "gzip": len(self.documents) % 2 == 1,
            "content": json.dumps(content, separators=(",", ":")),
        }
        return document_id
