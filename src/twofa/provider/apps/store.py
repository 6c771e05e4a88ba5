"""SQL on the ``apps`` table, and the usage rows an application's statistics are built from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from twofa.provider.apps.model import App
from twofa.storage.tables import apps, messages, usage, users

# Every API call authenticates: the statement is compiled once.
_BY_KEY_HASH = select(apps).where(apps.c.api_key_hash == bindparam("digest"))


def insert_app(
    conn: Connection,
    *,
    name: str,
    api_key_digest: str,
    api_key_salt: str,
    callback_url: str | None,
    public_id: str,
    now: datetime,
    sandbox: bool = False,
) -> App:
    """A new application with every feature on."""
    row = conn.execute(
        insert(apps)
        .values(
            public_id=public_id,
            name=name,
            api_key_hash=api_key_digest,
            api_key_salt=api_key_salt,
            callback_url=callback_url,
            callback_method="POST",
            lenient_verify=False,
            sms_enabled=True,
            calls_enabled=True,
            onetouch_enabled=True,
            generic_tokens_enabled=True,
            sandbox=sandbox,
            created_at=now,
        )
        .returning(*apps.c)
    ).one()
    return App.from_row(row)


def by_key_digest(conn: Connection, digest: str) -> App | None:
    row = conn.execute(_BY_KEY_HASH, {"digest": digest}).first()
    return App.from_row(row) if row is not None else None


def by_id(conn: Connection, app_id: int) -> App | None:
    row = conn.execute(select(apps).where(apps.c.id == app_id)).first()
    return App.from_row(row) if row is not None else None


def matching(conn: Connection, ref: str) -> list[App]:
    """Applications whose numeric id, public id or exact name is ``ref``."""
    number = int(ref) if ref.isascii() and ref.isdigit() else -1
    rows = conn.execute(
        select(apps).where((apps.c.public_id == ref) | (apps.c.name == ref) | (apps.c.id == number))
    ).all()
    return [App.from_row(r) for r in rows]


def is_sandbox(conn: Connection, app_id: int) -> bool:
    """Whether the application is a sandbox (False for an unknown id)."""
    return bool(conn.execute(select(apps.c.sandbox).where(apps.c.id == app_id)).scalar())


def all_apps(conn: Connection) -> list[App]:
    return [App.from_row(r) for r in conn.execute(select(apps).order_by(apps.c.id))]


def set_callback(conn: Connection, app_id: int, url: str | None) -> None:
    """Set or clear the callback URL."""
    conn.execute(update(apps).where(apps.c.id == app_id).values(callback_url=url))


def set_options(conn: Connection, app_id: int, options: dict[str, bool]) -> None:
    conn.execute(update(apps).where(apps.c.id == app_id).values(**options))


def set_onetouch_ttl(conn: Connection, app_id: int, ttl: int | None) -> None:
    conn.execute(update(apps).where(apps.c.id == app_id).values(onetouch_ttl=ttl))


def delete_app(conn: Connection, app_id: int) -> bool:
    """Delete an application; its users, requests and queued callbacks go with it (cascade)."""
    return conn.execute(delete(apps).where(apps.c.id == app_id)).rowcount == 1


def set_api_key(conn: Connection, app_id: int, *, digest: str, salt: str) -> bool:
    """Replace the key's digest and salt; False when there is no such application."""
    result = conn.execute(
        update(apps).where(apps.c.id == app_id).values(api_key_hash=digest, api_key_salt=salt)
    )
    return result.rowcount == 1


def usage_rows(
    conn: Connection, app_id: int
) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any], int]:
    """What the statistics count: usage counters (month, kind, count), sent messages (channel,
    created_at), users' creation times, and the number of users."""
    counters = conn.execute(
        select(usage.c.month, usage.c.kind, usage.c.count).where(usage.c.app_id == app_id)
    ).all()
    sent = conn.execute(
        select(messages.c.channel, messages.c.created_at).where(
            messages.c.app_id == app_id, messages.c.status == "sent"
        )
    ).all()
    created = conn.execute(select(users.c.created_at).where(users.c.app_id == app_id)).all()
    total = conn.execute(
        select(func.count()).select_from(users).where(users.c.app_id == app_id)
    ).scalar_one()
    return counters, sent, created, int(total)
