"""Storage: the SQLAlchemy engine, the provider's tables and their Alembic migrations."""
