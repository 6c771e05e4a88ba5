"""Alembic environment for the site's tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from twofa.site.db import VERSION_TABLE, metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run() -> None:
    engine = create_engine(url or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=url, target_metadata=metadata, version_table=VERSION_TABLE, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
