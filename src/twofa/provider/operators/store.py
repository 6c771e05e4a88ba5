"""SQL on the operator tables: operators, their WebAuthn credentials, sessions, challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from twofa.provider.operators.model import Credential, Operator, Session
from twofa.storage.database import aware
from twofa.storage.tables import (
    operator_challenges,
    operator_credentials,
    operator_sessions,
    operators,
)

# Operators -------------------------------------------------------------------------------------


def insert_operator(
    conn: Connection,
    *,
    name: str,
    role: str,
    password_hash: str,
    totp_secret_enc: str | None,
    now: datetime,
) -> Operator:
    row = conn.execute(
        insert(operators)
        .values(
            name=name,
            role=role,
            password_hash=password_hash,
            totp_secret_enc=totp_secret_enc,
            totp_last_step=0,
            created_at=now,
        )
        .returning(*operators.c)
    ).one()
    return Operator.from_row(row)


def by_name(conn: Connection, name: str) -> Operator | None:
    row = conn.execute(select(operators).where(operators.c.name == name)).first()
    return Operator.from_row(row) if row is not None else None


def by_id(conn: Connection, operator_id: int) -> Operator | None:
    row = conn.execute(select(operators).where(operators.c.id == operator_id)).first()
    return Operator.from_row(row) if row is not None else None


def secrets_of(conn: Connection, name: str) -> tuple[Operator, str, str | None, int] | None:
    """An enabled operator with their password hash, encrypted TOTP secret and last TOTP step."""
    row = conn.execute(
        select(operators).where(operators.c.name == name, operators.c.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    return Operator.from_row(row), row.password_hash, row.totp_secret_enc, int(row.totp_last_step)


def totp_of(conn: Connection, operator_id: int) -> tuple[str | None, int]:
    row = conn.execute(
        select(operators.c.totp_secret_enc, operators.c.totp_last_step).where(
            operators.c.id == operator_id, operators.c.disabled_at.is_(None)
        )
    ).first()
    return (None, 0) if row is None else (row.totp_secret_enc, int(row.totp_last_step))


def spend_totp_step(conn: Connection, operator_id: int, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already (a replay)."""
    result = conn.execute(
        update(operators)
        .where(operators.c.id == operator_id, operators.c.totp_last_step < step)
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def all_operators(conn: Connection) -> list[Operator]:
    rows = conn.execute(select(operators).order_by(operators.c.name)).all()
    return [Operator.from_row(r) for r in rows]


def disable(conn: Connection, operator_id: int, now: datetime) -> bool:
    result = conn.execute(
        update(operators)
        .where(operators.c.id == operator_id, operators.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    return result.rowcount == 1


# Sessions --------------------------------------------------------------------------------------


def insert_session(
    conn: Connection, *, token_hash: str, operator_id: int, address: str | None, now: datetime
) -> None:
    conn.execute(
        insert(operator_sessions).values(
            token_hash=token_hash,
            operator_id=operator_id,
            created_at=now,
            seen_at=now,
            verified_at=now,
            address=(address or "")[:64] or None,
        )
    )


def live_session(
    conn: Connection, token_hash: str, *, seen_after: datetime, created_after: datetime
) -> Session | None:
    """The session for ``token_hash`` if it has not ended, idled out or outlived its maximum,
    and its operator is still enabled; one joined read."""
    row = conn.execute(
        select(
            operator_sessions.c.id.label("session_id"),
            operator_sessions.c.created_at.label("session_created_at"),
            operator_sessions.c.seen_at,
            operator_sessions.c.verified_at,
            *operators.c,
        )
        .join(operators, operators.c.id == operator_sessions.c.operator_id)
        .where(
            operator_sessions.c.token_hash == token_hash,
            operator_sessions.c.ended_at.is_(None),
            operator_sessions.c.seen_at > seen_after,
            operator_sessions.c.created_at > created_after,
            operators.c.disabled_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return Session(
        id=row.session_id,
        operator=Operator.from_row(row),
        created_at=aware(row.session_created_at),
        seen_at=aware(row.seen_at),
        verified_at=aware(row.verified_at),
    )


def touch_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(
        update(operator_sessions).where(operator_sessions.c.id == session_id).values(seen_at=now)
    )


def mark_verified(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(
        update(operator_sessions)
        .where(operator_sessions.c.id == session_id)
        .values(verified_at=now, seen_at=now)
    )


def end_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(
        update(operator_sessions)
        .where(operator_sessions.c.id == session_id, operator_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(conn: Connection, operator_id: int, now: datetime) -> int:
    result = conn.execute(
        update(operator_sessions)
        .where(
            operator_sessions.c.operator_id == operator_id,
            operator_sessions.c.ended_at.is_(None),
        )
        .values(ended_at=now)
    )
    return int(result.rowcount)


def purge_sessions(conn: Connection, *, before: datetime) -> int:
    """Delete sessions that ended or went idle before ``before``."""
    result = conn.execute(
        delete(operator_sessions).where(
            (operator_sessions.c.ended_at < before) | (operator_sessions.c.seen_at < before)
        )
    )
    return int(result.rowcount)


# WebAuthn credentials and challenges -----------------------------------------------------------


def credentials_of(conn: Connection, operator_id: int) -> list[Credential]:
    rows = conn.execute(
        select(operator_credentials)
        .where(operator_credentials.c.operator_id == operator_id)
        .order_by(operator_credentials.c.id)
    ).all()
    return [Credential.from_row(r) for r in rows]


def insert_credential(
    conn: Connection,
    *,
    operator_id: int,
    credential_id: str,
    public_key: str,
    sign_count: int,
    name: str,
    now: datetime,
) -> Credential:
    row = conn.execute(
        insert(operator_credentials)
        .values(
            operator_id=operator_id,
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            name=name,
            created_at=now,
        )
        .returning(*operator_credentials.c)
    ).one()
    return Credential.from_row(row)


def credential_exists(conn: Connection, credential_id: str) -> bool:
    return (
        conn.execute(
            select(operator_credentials.c.id).where(
                operator_credentials.c.credential_id == credential_id
            )
        ).first()
        is not None
    )


def record_use(
    conn: Connection, credential_row_id: int, *, old_count: int, new_count: int, now: datetime
) -> bool:
    """Store the new signature counter; False when another sign-in moved it meanwhile."""
    result = conn.execute(
        update(operator_credentials)
        .where(
            operator_credentials.c.id == credential_row_id,
            operator_credentials.c.sign_count == old_count,
        )
        .values(sign_count=new_count, last_used_at=now)
    )
    return result.rowcount == 1


def delete_credential(conn: Connection, operator_id: int, credential_row_id: int) -> bool:
    result = conn.execute(
        delete(operator_credentials).where(
            operator_credentials.c.id == credential_row_id,
            operator_credentials.c.operator_id == operator_id,
        )
    )
    return result.rowcount == 1


def insert_challenge(
    conn: Connection, *, challenge: str, operator_id: int, purpose: str, expires_at: datetime
) -> None:
    conn.execute(
        insert(operator_challenges).values(
            challenge=challenge, operator_id=operator_id, purpose=purpose, expires_at=expires_at
        )
    )


def take_challenge(
    conn: Connection, *, challenge: str, operator_id: int, purpose: str, now: datetime
) -> bool:
    """Spend a challenge: True once, if it was issued to this operator for this purpose and
    has not expired."""
    result = conn.execute(
        delete(operator_challenges).where(
            operator_challenges.c.challenge == challenge,
            operator_challenges.c.operator_id == operator_id,
            operator_challenges.c.purpose == purpose,
            operator_challenges.c.expires_at > now,
        )
    )
    return result.rowcount == 1


def purge_challenges(conn: Connection, now: datetime) -> int:
    result = conn.execute(
        delete(operator_challenges).where(operator_challenges.c.expires_at <= now)
    )
    return int(result.rowcount)
