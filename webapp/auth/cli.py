"""`flask users ...` and `flask tokens ...`: invite users, reset MFA, unlock, create API tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.auth import services, tokens
from webapp.auth.models import Role, User
from webapp.extensions import db
from webapp.vendors.services import get_vendor_by_name


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == services.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no user {email!r}")
    return user


@click.group("users")
def users_cli():
    """Invite users and manage their sign-in."""


@users_cli.command("invite")
@click.argument("email")
@click.option("--vendor", "vendor_name", required=True, help="Vendor name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value,
              show_default=True)
@with_appcontext
def invite(email, vendor_name, role):
    """Invite EMAIL into a vendor; print the link (also mailed)."""
    vendor = get_vendor_by_name(vendor_name)
    if vendor is None:
        raise click.ClickException(f"no vendor named {vendor_name!r}")
    try:
        _invite, link = services.invite_user(vendor, email, role)
    except services.AuthError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Invited {email} to {vendor.name} as {role}. Link (single use):")
    click.echo(link)


@users_cli.command("reset-mfa")
@click.argument("email")
@with_appcontext
def reset_mfa(email):
    """Remove EMAIL's second factors and sessions (audited); they enrol again at sign-in."""
    user = _user(email)
    services.reset_mfa(user, actor="cli")
    db.session.commit()
    click.echo(f"MFA reset for {user.email}; they set up a new authenticator at next sign-in.")


@users_cli.command("unlock")
@click.argument("email")
@with_appcontext
def unlock(email):
    """Forget EMAIL's failed sign-in attempts (audited)."""
    user = _user(email)
    services.unlock(user, actor="cli")
    db.session.commit()
    click.echo(f"Unlocked {user.email}.")


@click.group("tokens")
def tokens_cli():
    """Create API tokens."""


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'ERP sync'.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="Role of the token (default: the user's; never higher).")
@with_appcontext
def create(email, name, role):
    """Create a token for EMAIL; the token alone is printed on the last line."""
    user = _user(email)
    try:
        token, raw = tokens.create_token(user, name, role, actor="cli")
    except tokens.TokenError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Token {token.name!r} for {user.email} with role {token.role}; shown once:")
    click.echo(raw)
