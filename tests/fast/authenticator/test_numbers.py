"""Number matching: the right number hidden among two stable distractors."""

from __future__ import annotations

import uuid

from twofa.provider.push.view import number_choices


def test_three_distinct_sorted_numbers_including_the_right_one() -> None:
    key = b"k" * 32
    for right in range(10, 100):
        request = str(uuid.uuid4())
        numbers = number_choices(key, request, right)
        assert len(numbers) == 3 and len(set(numbers)) == 3
        assert numbers == sorted(numbers)
        assert right in numbers
        assert all(10 <= n <= 99 for n in numbers)


def test_deterministic_per_request_and_key() -> None:
    request = "6f1c0000-0000-4000-8000-000000000000"
    assert number_choices(b"a" * 32, request, 42) == number_choices(b"a" * 32, request, 42)
    spread = {tuple(number_choices(b"a" * 32, f"r{i}", 42)) for i in range(50)}
    assert len(spread) > 25
    keyed = {tuple(number_choices(bytes([i]) * 32, request, 42)) for i in range(20)}
    assert len(keyed) > 5


def test_position_of_the_right_number_varies() -> None:
    """Sorting must not always put the right number in the same place."""
    positions = {number_choices(b"p" * 32, f"req-{i}", 50).index(50) for i in range(60)}
    assert positions == {0, 1, 2}
