"""`flask sync run` and `flask vendors credentials`: the Amazon connector's ops commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.amazon.accounts import REGION_ENDPOINTS
from webapp.amazon.dispatch import FEEDS, run_feeds
from webapp.amazon.errors import SpApiError
from webapp.amazon.sync_state import PayloadError, parse_time
from webapp.audit.services import record as audit
from webapp.crypto import encrypt
from webapp.extensions import db
from webapp.vendors.cli import vendors_cli
from webapp.vendors.services import get_vendor_by_name


def _vendor_or_fail(name: str):
    vendor = get_vendor_by_name(name)
    if vendor is None:
        raise click.ClickException(f"no vendor named {name!r}")
    return vendor


@vendors_cli.command("credentials")
@click.argument("name")
@click.option("--client-id", required=True, help="LWA client id of the SP-API application.")
@click.option("--client-secret", required=True, help="LWA client secret (stored encrypted).")
@click.option("--refresh-token", required=True, help="The vendor's refresh token (encrypted).")
@click.option("--region", type=click.Choice(sorted(REGION_ENDPOINTS)), default="na",
              show_default=True)
@with_appcontext
def credentials(name, client_id, client_secret, refresh_token, region):
    """Store vendor NAME's SP-API credentials, secrets encrypted."""
    vendor = _vendor_or_fail(name)
    vendor.spapi_client_id = client_id.strip()
    vendor.spapi_client_secret_enc = encrypt(client_secret.strip())
    vendor.spapi_refresh_token_enc = encrypt(refresh_token.strip())
    vendor.spapi_region = region
    audit("vendor.spapi_credentials", actor="cli", vendor_id=vendor.id, target_type="vendor",
          target_id=vendor.id, details={"region": region, "client_id": vendor.spapi_client_id})
    db.session.commit()
    click.echo(f"Stored SP-API credentials for {vendor.name} (region {region}).")


@click.group("sync")
def sync_cli():
    """Sync vendors' data from Amazon's Selling Partner API."""


@sync_cli.command("run")
@click.argument("name")
@click.option("--feed", type=click.Choice(FEEDS + ("all",)), default="all", show_default=True)
@click.option("--since", default=None, help="Backfill POs from this date (YYYY-MM-DD).")
@with_appcontext
def run(name, feed, since):
    """Run one sync of vendor NAME in the foreground and print what changed."""
    vendor = _vendor_or_fail(name)
    try:
        since_at = parse_time(since, "--since") if since else None
    except PayloadError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    feeds = list(FEEDS) if feed == "all" else [feed]
    try:
        for result in run_feeds(vendor.id, feeds, since=since_at):
            click.echo(result.summary())
            for note in result.notes:
                click.echo(f"  note: {note}")
    except (SpApiError, PayloadError) as exc:
        raise click.ClickException(str(exc)) from exc
