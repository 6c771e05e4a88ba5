"""An entry's chained hash: SHA-256 over the previous hash and the entry's canonical JSON.

Every entry written pays for this, and one is written per verification (valid or not), so the
canonical JSON of the entry's fixed fields is written out here rather than walked and key-sorted
by the JSON encoder each time; only ``data``, whose keys vary, goes through the encoder. The two
agree byte for byte (``tests/fast/test_audit_canonical.py``): a difference would break every
hash that ``twofa audit verify`` recomputes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# One encoder for every entry (``json.dumps`` with options builds a new one per call).
canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
# The same string escaping that encoder applies (``ensure_ascii=False``).
_quote = json.encoder.encode_basestring


def entry_hash(
    prev_hash: str,
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data: dict[str, Any],
    actor: str | None = None,
) -> str:
    """The chained hash of one entry.

    ``actor`` enters the JSON only when set, so entries written before it existed keep their
    hashes."""
    return chained_hash(prev_hash, seq, created_at, event, app_id, subject, canonical(data), actor)


def chained_hash(
    prev_hash: str,
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data_json: str,
    actor: str | None = None,
) -> str:
    """``entry_hash`` with ``data`` already encoded by ``canonical``."""
    return hashlib.sha256(
        f"{prev_hash}\n"
        f"{entry_json(seq, created_at, event, app_id, subject, data_json, actor)}".encode()
    ).hexdigest()


def entry_json(
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data_json: str,
    actor: str | None = None,
) -> str:
    """``canonical({"seq": …, "created_at": …, …})``: the keys in sorted order, each value as
    the encoder writes it."""
    head = "{" if actor is None else f'{{"actor":{_quote(actor)},'
    app = "null" if app_id is None else int.__repr__(app_id)
    stamp = created_at.astimezone(UTC).isoformat()  # digits and -:.+T only: nothing to escape
    return (
        f'{head}"app_id":{app},"created_at":"{stamp}","data":{data_json},'
        f'"event":{_quote(event)},"seq":{int.__repr__(seq)},"subject":{_quote(subject)}}}'
    )
