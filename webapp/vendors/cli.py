"""`flask vendors ...`: create and list vendors."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.vendors import services


@click.group("vendors")
def vendors_cli():
    """Manage vendors (supplier companies)."""


@vendors_cli.command("create")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, required=True, help="Company e-mail domain.")
@click.option("--vendor-code", "codes", multiple=True, required=True, help="Amazon vendor code.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--marketplace-id", default="ATVPDKIKX0DER", show_default=True)
@with_appcontext
def create(name, domains, codes, timezone, marketplace_id):
    """Create vendor NAME."""
    try:
        vendor = services.create_vendor(
            name,
            domains=list(domains),
            vendor_codes=list(codes),
            timezone=timezone,
            marketplace_id=marketplace_id,
        )
        db.session.commit()
    except services.VendorError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created vendor {vendor.name} (id {vendor.id}).")


@vendors_cli.command("list")
@with_appcontext
def list_():
    """List vendors with their codes and domains."""
    for v in services.list_vendors():
        codes = ",".join(c.code for c in v.codes)
        domains = ",".join(d.domain for d in v.domains)
        click.echo(f"{v.id}\t{v.name}\t{codes}\t{domains}\t{v.timezone}")
