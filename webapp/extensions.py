"""Flask extensions, created unbound here and initialised in `create_app`."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every ACORN model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def read_rows(statement, params=None):
    """Run a Core SELECT on the session's connection and transaction; return its result.

    For statements that return plain rows (no ORM entities): it skips the ORM's execution
    layer, about a third of a small query's client CPU. With unflushed changes in the
    session it goes through `db.session.execute`, which flushes them first, so the read
    sees them exactly as an ORM query would.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return session.execute(statement, params)
    return session.connection().execute(statement, params)
