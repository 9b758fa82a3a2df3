"""Dashboards: OTIF, Amazon's vendor metrics, stock, ASN status, returns and sales."""
