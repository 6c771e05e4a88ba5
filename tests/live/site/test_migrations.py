"""The site's Alembic migrations build exactly the tables the code describes."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from twofa.site.db import VERSION_TABLE, metadata, upgrade


def test_upgrade_is_idempotent_and_matches_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'site.db'}"
    upgrade(url)
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {"site_users", "site_login_attempts", "site_sessions", VERSION_TABLE} <= tables
        assert "alembic_version" not in tables
    finally:
        engine.dispose()
