"""Driver-level statements: compiled once per dialect, parameters in the driver's order."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, create_engine, select, update
from sqlalchemy.dialects import postgresql

from twofa.storage.statements import Statement
from twofa.storage.tables import totp_secrets, users


def test_positional_parameters_follow_the_sql_even_when_a_name_repeats() -> None:
    engine = create_engine("sqlite://")
    statement = Statement(
        update(totp_secrets)
        .where(
            totp_secrets.c.id == bindparam("secret_id"),
            totp_secrets.c.last_step < bindparam("step"),
        )
        .values(last_step=bindparam("step")),
        engine,
    )
    assert statement.sql.count("?") == 3
    assert statement.params({"secret_id": 7, "step": 42}) == (42, 7, 42)


def test_named_parameters_pass_through_for_a_named_paramstyle() -> None:
    engine = create_engine("sqlite://")
    engine.dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    statement = Statement(select(users.c.id).where(users.c.id == bindparam("user_id")), engine)
    assert "%(user_id)s" in statement.sql
    assert statement.params({"user_id": 3}) == {"user_id": 3}


def test_a_literal_value_is_refused_so_nothing_binds_behind_the_callers_back() -> None:
    with pytest.raises(ValueError, match="literal"):
        Statement(select(users.c.id).where(users.c.id == 5), create_engine("sqlite://"))
