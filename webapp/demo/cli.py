"""`flask demo`: seed a demo vendor with months of realistic data."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.extensions import db


@click.command("demo")
@click.option("--pos", default=600, show_default=True, type=click.IntRange(min=1),
              help="How many purchase orders to create.")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no vendor yet.")
@click.option("--show-access", is_flag=True, help="Print how to sign in to the demo vendor.")
@click.option("--base-url", default=None, help="Public URL used in printed links.")
@with_appcontext
def demo_command(pos, if_empty, show_access, base_url):
    """Seed the demo vendor (idempotent: does nothing when it exists)."""
    from webapp.demo.seed import DEMO_ADMIN_EMAIL, DEMO_VENDOR_NAME, seed_demo
    from webapp.vendors.models import Vendor

    if show_access:
        from webapp.demo.access import describe_demo_access

        click.echo(describe_demo_access(DEMO_ADMIN_EMAIL, DEMO_VENDOR_NAME, base_url))
        return
    if if_empty and db.session.scalar(select(Vendor.id).limit(1)) is not None:
        click.echo("Database already has data; demo seed skipped.")
        return
    result = seed_demo(pos=pos)
    click.echo(result.summary())
