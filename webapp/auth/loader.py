"""Flask-Login's user loader (the sign-in issue replaces it with revocable server-side sessions)."""

from webapp.auth.models import User
from webapp.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the signed-in user by id."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None
