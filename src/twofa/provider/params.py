"""Request parameters as Authy clients send them: query, JSON and form merged, brackets nested.

Clients disagree (contract section 1.3): Python posts JSON, Ruby and Go post forms, PHP puts
everything in the query string, npm sends a form body even on GET. We read the body by its content
type on any method, overlay query parameters that the body did not set, and turn
``details[Label]=v`` / ``logos[0][res]=v`` / ``logos[][res]=v`` into nested objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from twofa.errors import InvalidEncoding, InvalidRequest, MissingParameter

MAX_KEYS = 256
MAX_DEPTH = 6
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _segments(key: str) -> list[str] | None:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    rest = "[" + rest
    parts = _SEGMENT.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest or not head or len(parts) > MAX_DEPTH:
        return None  # malformed brackets: keep the key literally
    return [head, *parts]


def _insert(target: dict[str, Any], path: list[str], value: str) -> None:
    node: Any = target
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        following = None if last else path[index + 1]
        if isinstance(node, list):
            if segment == "":
                if last:
                    node.append(value)
                    return
                element = node[-1] if node else None
                if not isinstance(element, dict) or following in element:
                    element = {}
                    node.append(element)
                node = element
                continue
            return  # a named key inside a list: ignore the conflicting parameter
        if not isinstance(node, dict):
            return
        if last:
            node.setdefault(segment, value)
            return
        child = node.get(segment)
        wants_list = following == ""
        if child is None:
            child = [] if wants_list else {}
            node[segment] = child
        node = child


def _numeric_dicts_to_lists(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _numeric_dicts_to_lists(v) for k, v in value.items()}
        if converted and all(k.isascii() and k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_numeric_dicts_to_lists(v) for v in value]
    return value


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn flat ``key=value`` pairs with bracket notation into nested objects and lists."""
    result: dict[str, Any] = {}
    for count, (key, value) in enumerate(pairs):
        if count >= MAX_KEYS:
            raise InvalidRequest("Too many parameters")
        path = _segments(key) or [key]
        _insert(result, path, value)
    return _numeric_dicts_to_lists(result)


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a JSON or form body into a dict; other content types contribute nothing."""
    if not body.strip():
        return {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise InvalidRequest("Invalid JSON body") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("The JSON body must be an object")
        return data
    if media == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEncoding() from exc
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_KEYS)
        except ValueError as exc:  # more than MAX_KEYS fields
            raise InvalidRequest("Too many parameters") from exc
        return nest(pairs)
    return {}


def merge(body: Mapping[str, Any], query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Body parameters, then query parameters for any top-level key the body did not set."""
    merged = dict(body)
    for key, value in nest(query).items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = {**value, **merged[key]}
    return merged


def as_bool(value: Any, default: bool = False) -> bool:
    """``true``/``True``/``1`` are true; ``false``/``0``/empty are false; absent is ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return default


def as_int(value: Any, name: str) -> int:
    """An integer from a JSON number or a digit string."""
    if isinstance(value, bool):
        raise MissingParameter(name, f"'{value}' is not a valid Integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    digits = value.strip().lstrip("+") if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(value) < 19:
        return int(digits)
    raise MissingParameter(name, f"'{value}' is not a valid Integer")


def as_str(value: Any, name: str, *, max_length: int = 1000) -> str:
    """A string parameter; numbers are accepted and stringified, objects are refused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise MissingParameter(name, "must be a string")
    if len(value) > max_length:
        raise MissingParameter(name, f"is longer than {max_length} characters")
    return value


def required(params: Mapping[str, Any], name: str) -> Any:
    """The value of a required parameter; absent, null or blank answers 60004."""
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MissingParameter(name)
    return value


def string_map(value: Any, name: str) -> dict[str, str]:
    """An object of label → text (OneTouch details); nested values are kept as JSON text."""
    if value is None or value == "" or value == []:
        return {}
    if not isinstance(value, dict):
        raise MissingParameter(name, "must be an object")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            item = json.dumps(item, separators=(",", ":"))
        result[str(key)[:200]] = as_str(item, f"{name}[{key}]", max_length=2000)
    return result
