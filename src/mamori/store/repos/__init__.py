"""Repositories: plain functions taking a ``Connection`` first.

Taking the connection rather than a ``Database`` lets several calls share one transaction, e.g.
``await db.write(lambda c: (add_message(c, ...), touch_conversation(c, ...)))``. Every function
returns frozen dataclasses, never SQLAlchemy rows, so no caller needs to import SQLAlchemy.
"""
