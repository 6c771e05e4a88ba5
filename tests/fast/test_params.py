"""Request parameters: bracket nesting, merging of body and query, booleans and integers."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from twofa.errors import InvalidEncoding, InvalidRequest, MissingParameter
from twofa.provider import params as p


def nest_qs(query: str) -> dict[str, object]:
    return p.nest(parse_qsl(query, keep_blank_values=True))


def test_flat_and_nested_keys() -> None:
    assert nest_qs("a=1&b[c]=2&b[d][e]=3") == {"a": "1", "b": {"c": "2", "d": {"e": "3"}}}


def test_user_brackets_as_ruby_and_php_send_them() -> None:
    assert nest_qs("user[email]=a%40b.com&user[cellphone]=555-123-4567&user[country_code]=1") == {
        "user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": "1"}
    }


def test_empty_brackets_start_a_new_element_when_a_key_repeats() -> None:
    query = "logos[][res]=default&logos[][url]=https://a&logos[][res]=low&logos[][url]=https://b"
    assert nest_qs(query) == {
        "logos": [{"res": "default", "url": "https://a"}, {"res": "low", "url": "https://b"}]
    }


def test_empty_brackets_of_scalars_make_a_list() -> None:
    assert nest_qs("ids[]=1&ids[]=2&ids[]=3") == {"ids": ["1", "2", "3"]}


def test_numeric_indices_make_an_ordered_list() -> None:
    query = "logos[1][res]=low&logos[0][res]=default&logos[0][url]=u0&logos[1][url]=u1"
    assert nest_qs(query) == {
        "logos": [{"res": "default", "url": "u0"}, {"res": "low", "url": "u1"}]
    }


def test_numeric_indices_sort_as_numbers() -> None:
    query = "&".join(f"x[{i}]=v{i}" for i in (10, 2, 0, 1))
    assert nest_qs(query) == {"x": ["v0", "v1", "v2", "v10"]}


def test_mixed_keys_stay_an_object() -> None:
    assert nest_qs("details[0]=a&details[Name]=b") == {"details": {"0": "a", "Name": "b"}}


def test_non_ascii_digit_keys_are_not_indices() -> None:
    assert nest_qs("x[%C2%B2]=a") == {"x": {"²": "a"}}


def test_first_value_wins_on_repeats() -> None:
    assert nest_qs("a=1&a=2") == {"a": "1"}
    assert nest_qs("a[b]=1&a[b]=2") == {"a": {"b": "1"}}


def test_conflicting_shapes_do_not_crash() -> None:
    assert nest_qs("a=1&a[b]=2") == {"a": "1"}
    assert nest_qs("a[b]=2&a=1") == {"a": {"b": "2"}}
    assert nest_qs("a[]=1&a[x]=2") == {"a": ["1"]}
    assert nest_qs("a[x]=1&a[]=2")["a"]["x"] == "1"  # type: ignore[index]
    assert nest_qs("a[b]=1&a[b][c]=2") == {"a": {"b": "1"}}


@pytest.mark.parametrize("key", ["a[b", "a]b[", "a[b]c", "[b]", "a[[b]]", "a[b]]"])
def test_malformed_brackets_keep_the_key_literally(key: str) -> None:
    assert p.nest([(key, "v")]) == {key: "v"}


def test_depth_limit_keeps_too_deep_keys_literal() -> None:
    ok = "a" + "[x]" * p.MAX_DEPTH
    deep = "a" + "[x]" * (p.MAX_DEPTH + 1)
    nested = p.nest([(ok, "v")])
    node = nested["a"]
    for _ in range(p.MAX_DEPTH - 1):
        node = node["x"]
    assert node == {"x": "v"}
    assert p.nest([(deep, "v")]) == {deep: "v"}


def test_too_many_keys_is_an_invalid_request() -> None:
    p.nest([(f"k{i}", "v") for i in range(p.MAX_KEYS)])
    with pytest.raises(InvalidRequest):
        p.nest([(f"k{i}", "v") for i in range(p.MAX_KEYS + 1)])


def test_parse_body_json_object() -> None:
    body = json.dumps({"user": {"email": "a@b.com"}, "n": 1}).encode()
    assert p.parse_body(body, "application/json; charset=utf-8") == {
        "user": {"email": "a@b.com"},
        "n": 1,
    }
    assert p.parse_body(body, "application/vnd.api+json") == {"user": {"email": "a@b.com"}, "n": 1}


@pytest.mark.parametrize("body", [b"[1,2]", b'"text"', b"3", b"null", b"true"])
def test_parse_body_json_non_object_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        p.parse_body(body, "application/json")


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"\xff\xfe", b"[" * 100_000])
def test_parse_body_malformed_json_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        p.parse_body(body, "application/json")


def test_parse_body_form() -> None:
    assert p.parse_body(b"user%5Bemail%5D=a%40b.com&x=", "application/x-www-form-urlencoded") == {
        "user": {"email": "a@b.com"},
        "x": "",
    }


def test_parse_body_form_with_bad_utf8_is_invalid_encoding() -> None:
    with pytest.raises(InvalidEncoding):
        p.parse_body(b"a=\xff\xfe", "application/x-www-form-urlencoded")


def test_parse_body_form_with_too_many_fields() -> None:
    body = "&".join(f"k{i}=v" for i in range(p.MAX_KEYS + 10)).encode()
    with pytest.raises(InvalidRequest):
        p.parse_body(body, "application/x-www-form-urlencoded")


@pytest.mark.parametrize("content_type", ["", "text/plain", "multipart/form-data; boundary=x"])
def test_other_content_types_contribute_nothing(content_type: str) -> None:
    assert p.parse_body(b"a=1", content_type) == {}


def test_blank_body_is_empty() -> None:
    assert p.parse_body(b"  \n", "application/json") == {}


def test_merge_body_wins_and_query_fills_in() -> None:
    merged = p.merge(
        {"a": "body", "user": {"email": "b@x"}},
        [("a", "query"), ("b", "q"), ("user[email]", "q@x"), ("user[cellphone]", "1")],
    )
    assert merged == {"a": "body", "b": "q", "user": {"email": "b@x", "cellphone": "1"}}


@pytest.mark.parametrize("value", [True, "true", "True", "TRUE", " true ", "1", 1, 1.0])
def test_truthy(value: object) -> None:
    assert p.as_bool(value) is True


@pytest.mark.parametrize("value", [False, "false", "False", "0", "", 0, "no-such", [], {}])
def test_falsy(value: object) -> None:
    assert p.as_bool(value) is False


def test_absent_bool_takes_the_default() -> None:
    assert p.as_bool(None) is False
    assert p.as_bool(None, default=True) is True


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("1", 1), (" 44 ", 44), ("+44", 44), (86400.0, 86400), (0, 0)]
)
def test_as_int_accepts_numbers_and_digit_strings(value: object, expected: int) -> None:
    assert p.as_int(value, "n") == expected


@pytest.mark.parametrize(
    "value", [True, False, "1.5", 1.5, "abc", "", None, [], {}, "-1", "1" * 19, "²", "١٢"]
)
def test_as_int_refuses_others_with_60004(value: object) -> None:
    with pytest.raises(MissingParameter) as caught:
        p.as_int(value, "country_code")
    assert caught.value.code == "60004"
    assert caught.value.message.startswith("Invalid parameter: country_code - ")


def test_as_str() -> None:
    assert p.as_str("x", "n") == "x"
    assert p.as_str(5, "n") == "5"
    assert p.as_str(True, "n") == "true"
    with pytest.raises(MissingParameter):
        p.as_str({"a": 1}, "n")
    with pytest.raises(MissingParameter):
        p.as_str(["a"], "n")
    with pytest.raises(MissingParameter):
        p.as_str("x" * 11, "n", max_length=10)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_refuses_absent_null_and_blank(value: object) -> None:
    with pytest.raises(MissingParameter) as caught:
        p.required({"message": value}, "message")
    assert caught.value.message == "Invalid parameter: message - Parameter is required"


def test_required_returns_the_value() -> None:
    assert p.required({"message": 0}, "message") == 0


def test_string_map() -> None:
    assert p.string_map(None, "details") == {}
    assert p.string_map([], "details") == {}
    assert p.string_map({"a": 1, "b": {"c": [1]}, "k" * 300: True}, "details") == {
        "a": "1",
        "b": '{"c":[1]}',
        "k" * 200: "true",
    }
    with pytest.raises(MissingParameter):
        p.string_map("text", "details")
