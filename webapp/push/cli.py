"""`flask push ...`: send a test alert, run the alert scan once, make production VAPID keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.extensions import db


@click.group("push")
def push_cli():
    """Web push alerts."""


@push_cli.command("test")
@click.argument("email")
@click.option("--inline", is_flag=True, help="Send from this process instead of a worker.")
@with_appcontext
def test_command(email, inline):
    """Push a test alert to every device of the user with EMAIL."""
    from webapp.push import delivery, services

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    ids = services.send_test_notification(user, queue=not inline)
    if not ids:
        click.echo(f"{user.email} has no devices with alerts enabled; the alert is in the inbox")
        return
    if inline:
        report = delivery.deliver_batch(ids)
        click.echo(f"sent to {len(ids)} device(s): {report.counts}")
    else:
        click.echo(f"queued for {len(ids)} device(s); a worker on queue 'notify' sends it")


@push_cli.command("scan")
@with_appcontext
def scan_command():
    """Run the alert scan once (new events, deadlines) and queue the deliveries."""
    from worker.push_jobs import scan

    click.echo(scan())


@push_cli.command("generate-vapid-keys")
def generate_keys_command():
    """Print a new VAPID key pair as environment settings for production."""
    from webapp.push.vapid import generate_key_pair

    pair = generate_key_pair()
    click.echo(f"VAPID_PRIVATE_KEY={pair['private_key']}")
    click.echo(f"VAPID_PUBLIC_KEY={pair['public_key']}")
