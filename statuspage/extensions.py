"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

# Named constraints so Alembic can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


if TYPE_CHECKING:
    # Flask-SQLAlchemy builds `db.Model` from Base at run time, which a type checker cannot
    # follow (mypy: `Name "db.Model" is not defined`): the models subclass `Model`, which it
    # sees as Base itself.
    Model = Base

    class _RequestSession(Session):
        """`db.session` as its callers use it: the scoped_session proxies every method of the
        app context's Session (the services and jobs, which take a Session, are handed it),
        and adds remove()."""

        def remove(self) -> None: ...

    class _Database(SQLAlchemy):
        # Flask-SQLAlchemy declares the proxy's own class; it is used as the Session above.
        session: _RequestSession  # type: ignore[assignment]

    db = _Database(model_class=Base)
else:
    db = SQLAlchemy(model_class=Base)
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite (the embedded default): readers never wait for the writer (WAL), a writer
    waits its turn instead of failing, and foreign keys are enforced."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
