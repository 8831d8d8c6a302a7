"""Persistence: the only package that imports SQLAlchemy.

``Database`` runs work on a connection off the event loop; ``repos`` holds the queries as plain
functions of a connection; ``migrate`` brings a database up to the schema in ``tables``. SQLite
(embedded default) and PostgreSQL behave the same, and the storage tests run on both.
"""

from mamori.store.database import Database
from mamori.store.errors import ConflictError
from mamori.store.migrate import current_revision, head_revision, upgrade
from mamori.store.repos.api_keys import ApiKeyRow
from mamori.store.repos.usage import UsageRow
from mamori.store.repos.users import UserRow

__all__ = [
    "ApiKeyRow",
    "ConflictError",
    "Database",
    "UsageRow",
    "UserRow",
    "current_revision",
    "head_revision",
    "upgrade",
]
