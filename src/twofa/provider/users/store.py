"""SQL on the ``users`` table (and the user's app TOTP secret), returning ``User`` records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from twofa.errors import UserNotFound
from twofa.provider.phone_numbers import Phone
from twofa.provider.users.model import (
    AppAccount,
    Device,
    StoredUser,
    User,
    parse_authy_id,
)
from twofa.storage.database import aware
from twofa.storage.statements import Statement
from twofa.storage.tables import (
    When,
    apps,
    devices,
    totp_secrets,
    users,
)


def user_from_row(row: Any) -> User:
    """A ``User`` from any row carrying the ``users`` columns under their own names."""
    return User(
        id=row.id,
        public_id=row.public_id,
        app_id=row.app_id,
        email=row.email,
        phone=Phone(row.country_code, row.phone_e164),
        confirmed=row.confirmed,
        created_at=aware(row.created_at),
    )


def load_user(conn: Connection, app_id: int, raw_id: str | int) -> User:
    """The application's user ``raw_id``; 404/60026 otherwise (other apps' users included)."""
    authy_id = parse_authy_id(raw_id)
    if authy_id is None:
        raise UserNotFound()
    row = conn.execute(
        select(users).where(users.c.id == authy_id, users.c.app_id == app_id)
    ).first()
    if row is None:
        raise UserNotFound()
    return user_from_row(row)


def by_app_phone(conn: Connection, app_id: int, phone_e164: str) -> User | None:
    row = conn.execute(
        select(users).where(users.c.app_id == app_id, users.c.phone_e164 == phone_e164)
    ).first()
    return user_from_row(row) if row is not None else None


def insert_user(
    conn: Connection,
    *,
    app_id: int,
    public_id: str,
    email: str,
    phone: Phone,
    secret_enc: str,
    digits: int,
    step: int,
    now: datetime,
) -> User:
    """A new, unconfirmed user with the TOTP secret of their app account."""
    row = conn.execute(
        insert(users)
        .values(
            public_id=public_id,
            app_id=app_id,
            email=email,
            country_code=phone.country_code,
            phone_e164=phone.e164,
            confirmed=False,
            created_at=now,
        )
        .returning(*users.c)
    ).one()
    conn.execute(
        insert(totp_secrets).values(
            user_id=row.id,
            kind="app",
            secret_enc=secret_enc,
            digits=digits,
            step=step,
            last_step=0,
            created_at=now,
        )
    )
    return user_from_row(row)


def delete_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(users).where(users.c.id == user_id))


def set_email(conn: Connection, user_id: int, email: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(email=email))


def known_only_to_sandboxes(conn: Connection, phone_e164: str) -> bool:
    """Whether the phone is a user's of sandbox applications only (and of at least one)."""
    flags = conn.execute(
        select(apps.c.sandbox)
        .join(users, users.c.app_id == apps.c.id)
        .where(users.c.phone_e164 == phone_e164)
    ).scalars()
    seen = [bool(flag) for flag in flags]
    return bool(seen) and all(seen)


def active_devices(conn: Connection, phone_e164: str) -> list[Device]:
    """The phone's devices that are not revoked (nor waiting for approval), oldest first."""
    rows = conn.execute(
        select(devices)
        .where(
            devices.c.phone_e164 == phone_e164,
            devices.c.revoked_at.is_(None),
            devices.c.state == "active",
        )
        .order_by(devices.c.id)
    ).all()
    return [
        Device(r.id, r.uuid, r.name, r.os_type, aware(r.created_at), aware(r.last_seen_at))
        for r in rows
    ]


def app_accounts(conn: Connection, phone_e164: str) -> list[AppAccount]:
    """The app TOTP account of every application's user with this phone, oldest user first."""
    rows = conn.execute(
        select(
            users.c.id,
            apps.c.name,
            totp_secrets.c.secret_enc,
            totp_secrets.c.digits,
            totp_secrets.c.step,
        )
        .join(apps, apps.c.id == users.c.app_id)
        .join(
            totp_secrets,
            (totp_secrets.c.user_id == users.c.id) & (totp_secrets.c.kind == "app"),
        )
        .where(users.c.phone_e164 == phone_e164)
        .order_by(users.c.id)
    ).all()
    return [AppAccount(r.id, r.name, r.secret_enc, r.digits, r.step) for r in rows]


# Imports (``users/importer.py``) ----------------------------------------------------------

_STORED = (
    users.c.id,
    users.c.app_id,
    users.c.email,
    users.c.phone_e164,
    users.c.name,
    users.c.imported_at,
)
# Thousands of ids or phones per statement. SQLite: an expanding IN, answered from the indexes.
# PostgreSQL: one array parameter joined as a table, which plans as an index lookup per value
# whatever the table's statistics say (right after a bulk load they say it is empty).
_WANTED_IDS = (
    func.unnest(bindparam("ids", type_=ARRAY(BigInteger))).table_valued("value").render_derived()
)
_WANTED_PHONES = (
    func.unnest(bindparam("phones", type_=ARRAY(String))).table_valued("value").render_derived()
)
_BY_IDS = {
    "sqlite": select(*_STORED).where(users.c.id.in_(bindparam("ids", expanding=True))),
    "postgresql": select(*_STORED).select_from(
        _WANTED_IDS.join(users, users.c.id == _WANTED_IDS.c.value)
    ),
}
_BY_PHONES = {
    "sqlite": select(users.c.phone_e164, users.c.id).where(
        users.c.app_id == bindparam("app_id"),
        users.c.phone_e164.in_(bindparam("phones", expanding=True)),
    ),
    "postgresql": select(users.c.phone_e164, users.c.id).select_from(
        _WANTED_PHONES.join(
            users,
            (users.c.app_id == bindparam("app_id"))
            & (users.c.phone_e164 == _WANTED_PHONES.c.value),
        )
    ),
}


def stored_users(conn: Connection, ids: Sequence[int]) -> dict[int, StoredUser]:
    """The users stored under any of ``ids``, in any application."""
    rows = conn.execute(_BY_IDS[conn.dialect.name], {"ids": list(ids)})
    return {
        r.id: StoredUser(r.id, r.app_id, r.email, r.phone_e164, r.name, r.imported_at is not None)
        for r in rows
    }


def phone_holders(conn: Connection, app_id: int, phones: Sequence[str]) -> dict[str, int]:
    """The application's user id for each of ``phones`` that one of its users has."""
    rows = conn.execute(_BY_PHONES[conn.dialect.name], {"app_id": app_id, "phones": list(phones)})
    return {r.phone_e164: r.id for r in rows}


IMPORTED_USER = (
    "id",
    "public_id",
    "app_id",
    "email",
    "country_code",
    "phone_e164",
    "confirmed",
    "name",
)
IMPORTED_SECRET = ("user_id", "kind", "secret_enc", "digits", "step", "last_step")


def insert_imported(
    conn: Connection,
    new_users: list[tuple[Any, ...]],
    new_secrets: list[tuple[Any, ...]],
    *,
    now: datetime,
) -> None:
    """Users with the ids they bring (values in ``IMPORTED_USER`` order; created and imported
    ``now``), and their app TOTP secrets (``IMPORTED_SECRET`` order), in the caller's
    transaction.

    A million rows through SQLAlchemy's per-row parameter handling cost more than the
    database's own work, so this writes at driver level, as the verification path does:
    ``COPY`` on PostgreSQL, one ``executemany`` of a Core INSERT compiled once on SQLite.
    """
    if not new_users:
        return
    dbapi = conn.dialect.loaded_dbapi
    try:
        _insert_imported(conn, new_users, new_secrets, now=now)
    except dbapi.IntegrityError as exc:  # the driver's own: SQLAlchemy did not run these
        raise IntegrityError("insert_imported", None, exc) from exc


def _insert_imported(
    conn: Connection,
    new_users: list[tuple[Any, ...]],
    new_secrets: list[tuple[Any, ...]],
    *,
    now: datetime,
) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    bind = When.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    at = bind(now) if bind is not None else now
    # In each table's column order, so the rows need no rearranging for the driver.
    user_rows = ((*row[:7], at, at, *row[7:]) for row in new_users)
    secret_rows = ((*row, at) for row in new_secrets)
    for table, columns, rows in (
        (users, (*IMPORTED_USER[:7], "created_at", "imported_at", "name"), user_rows),
        (totp_secrets, (*IMPORTED_SECRET, "created_at"), secret_rows),
    ):
        if conn.dialect.name == "postgresql":
            quote = conn.dialect.identifier_preparer.quote
            names = ", ".join(quote(name) for name in columns)
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            continue
        statement = Statement(
            insert(table).values({name: bindparam(name) for name in columns}), conn.engine
        )
        if statement.params({name: i for i, name in enumerate(columns)}) != tuple(
            range(len(columns))
        ):
            raise RuntimeError(f"{table.name}: the import's columns are not in table order")
        cursor = driver.cursor()
        try:
            cursor.executemany(statement.sql, rows)
        finally:
            cursor.close()


def advance_user_ids(conn: Connection, floor: int) -> None:
    """Make the next user id twofa hands out greater than ``floor``, never smaller than now.

    PostgreSQL's sequence does not see rows inserted with their own ids, so it is set, under
    a lock that makes concurrent user creations wait for this short transaction (without it, a
    creation between reading and setting the sequence could take an id that a later one gets
    again). SQLite's AUTOINCREMENT already remembers the largest id ever inserted
    (``sqlite_sequence``); the UPDATE only makes that explicit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
        conn.execute(
            text(
                "SELECT setval(CAST(:sequence AS regclass), GREATEST(:floor, "
                "COALESCE(pg_sequence_last_value(CAST(:sequence AS regclass)), 0)))"
            ),
            {
                "floor": floor,
                "sequence": conn.execute(
                    text("SELECT pg_get_serial_sequence('users', 'id')")
                ).scalar_one(),
            },
        )
    elif conn.dialect.name == "sqlite":
        conn.execute(
            text("UPDATE sqlite_sequence SET seq = :floor WHERE name = 'users' AND seq < :floor"),
            {"floor": floor},
        )


def refresh_statistics(conn: Connection) -> None:
    """PostgreSQL: update the planner's statistics of the tables a bulk import filled, so
    queries right after it are planned for the rows it added (autovacuum would, later)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE users, totp_secrets"))
