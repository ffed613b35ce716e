"""Alembic migrations of the scan-history store (``posture.history``).

Run by :class:`posture.history.Store` itself, never by hand: every table name
carries the store's prefix (``config.attributes["table_prefix"]``), so several
stores can share one database (the test suite does).
"""
