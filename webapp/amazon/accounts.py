"""Where a vendor's SP-API calls go and with which credentials (decrypted, or the sandbox's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app

from webapp.amazon.errors import SpApiNotConfigured
from webapp.crypto import decrypt

REGION_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL
# The sandbox's default account, used in development when a vendor has no credentials yet.
SANDBOX_CREDENTIALS = ("sandbox-client-id", "sandbox-client-secret", "sandbox-refresh-token")


@dataclass(frozen=True)
class Credentials:
    """LWA app credentials and a selling partner's refresh token."""

    client_id: str
    client_secret: str
    refresh_token: str
    region: str = "na"

    @property
    def account_key(self) -> str:
        """A stable, non-secret name for this authorisation (rate limits and token cache)."""
        digest = hashlib.sha256(f"{self.client_id}\0{self.refresh_token}".encode()).hexdigest()
        return digest[:24]

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(client_id={self.client_id!r}, region={self.region!r})"


def resolve_endpoints(config, region: str) -> tuple[str, str]:
    """Return (API endpoint, LWA token URL): overrides, else sandbox in development, else Amazon."""
    endpoint, token_url = config.get("SPAPI_ENDPOINT"), config.get("SPAPI_TOKEN_URL")
    if config.get("ENV_NAME") == "production":
        default_endpoint, default_token = REGION_ENDPOINTS[region], LWA_TOKEN_URL
    else:
        default_endpoint = f"http://127.0.0.1:{config.get('SANDBOX_PORT', 5055)}"
        default_token = None
    endpoint = (endpoint or default_endpoint).rstrip("/")
    return endpoint, token_url or default_token or f"{endpoint}/auth/o2/token"


def vendor_credentials(vendor) -> Credentials:
    """Decrypt a vendor's SP-API credentials; the sandbox default outside production."""
    if vendor.spapi_client_id and vendor.spapi_client_secret_enc and vendor.spapi_refresh_token_enc:
        return Credentials(vendor.spapi_client_id, decrypt(vendor.spapi_client_secret_enc),
                           decrypt(vendor.spapi_refresh_token_enc), vendor.spapi_region or "na")
    if current_app.config.get("ENV_NAME") == "production":
        raise SpApiNotConfigured(0, "NotConfigured",
                                 f"vendor {vendor.id} has no SP-API credentials", "lwa")
    return Credentials(*SANDBOX_CREDENTIALS, region=vendor.spapi_region or "na")


def has_credentials(vendor) -> bool:
    """Tell whether a vendor can be synced (own credentials, or the sandbox in development)."""
    if vendor.spapi_client_id and vendor.spapi_refresh_token_enc:
        return True
    return current_app.config.get("ENV_NAME") != "production"
