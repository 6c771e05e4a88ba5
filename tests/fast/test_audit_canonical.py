"""The audit chain's hand-written canonical JSON is the encoder's, byte for byte.

``audit/chain.py`` writes an entry's fixed fields out itself; ``twofa audit verify`` and every
hash already stored were computed by the JSON encoder over the whole entry. Any difference (a
key order, an escape, a number's form) would break the chain, so it is checked over arbitrary
values, hostile strings included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from twofa.provider.audit.chain import canonical, chained_hash, entry_hash, entry_json

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # no lone surrogates
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
# hypothesis takes naive bounds and applies ``timezones`` itself
_EARLIEST, _LATEST = datetime(1970, 1, 2), datetime(2200, 1, 1)  # noqa: DTZ001
_moments = st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=st.just(UTC))
_moments |= st.datetimes(timezones=st.just(timezone(timedelta(hours=5, minutes=30))))


def _by_encoder(
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data: dict[str, Any],
    actor: str | None,
) -> str:
    fields: dict[str, Any] = {
        "seq": seq,
        "created_at": created_at.astimezone(UTC).isoformat(),
        "event": event,
        "app_id": app_id,
        "subject": subject,
        "data": data,
    }
    if actor is not None:
        fields["actor"] = actor
    return canonical(fields)


@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**62),
    created_at=_moments,
    event=_text,
    app_id=st.none() | st.integers(min_value=0, max_value=2**62),
    subject=_text,
    data=st.dictionaries(_text, _json, max_size=4),
    actor=st.none() | _text,
)
def test_the_entry_is_written_as_the_encoder_writes_it(
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data: dict[str, Any],
    actor: str | None,
) -> None:
    written = entry_json(seq, created_at, event, app_id, subject, canonical(data), actor)
    assert written == _by_encoder(seq, created_at, event, app_id, subject, data, actor)


def test_a_known_entry_keeps_its_hash() -> None:
    """A hash computed by the encoder-only code before the hand-written form existed."""
    moment = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)
    data = {"reason": "invalid", "channel": "sms", "note": 'quote " and \\ and \n and é'}
    digest = entry_hash("0" * 64, 7, moment, "verification.failed", 3, "user:42", data, None)
    assert digest == "3591ab498c010c7f293737c2fd95d294584e9911ed655865c3aedf75b0dab649"
    assert digest == chained_hash(
        "0" * 64, 7, moment, "verification.failed", 3, "user:42", canonical(data), None
    )
    by_operator = entry_hash(
        "0" * 64, 7, moment, "verification.failed", None, "user:42", data, "operator:ann"
    )
    assert by_operator == "f5688734b14c9b13aa28d5f237af2078eea7c0c2d90eacd66671b76c2fd82f44"
