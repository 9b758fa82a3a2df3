"""`flask demo`: seed a demo vendor with months of realistic data."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("demo")
@click.option("--pos", default=600, show_default=True, help="How many purchase orders to create.")
@with_appcontext
def demo_command(pos):
    """Seed the demo vendor (idempotent: does nothing when it exists)."""
    from webapp.demo.seed import seed_demo

    result = seed_demo(pos=pos)
    click.echo(result.summary())
