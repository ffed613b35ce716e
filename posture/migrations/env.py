"""Alembic environment: the Store hands over an open connection and its table prefix."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
prefix = context.config.attributes["table_prefix"]
context.configure(connection=connection, version_table=f"{prefix}alembic_version", transactional_ddl=True,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
