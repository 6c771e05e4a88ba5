"""Verify v2 wire pieces without a server: the webhook signature, dates, forms, paging, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from twofa.errors import NotFound, RateLimited
from twofa.provider.verify.errors import InvalidParameter, twilio_body
from twofa.provider.verify.signature import twilio_signature
from twofa.provider.verify.wire import Form, PageRequest, page_meta, twilio_date

TOKEN = "12345678901234567890123456789012"


def test_signature_is_accepted_by_the_official_validator() -> None:
    url = "https://hooks.example.com:8443/verify?tenant=a"
    params = {"type": "challenge.approved", "uuid": "u-1", "factor_sid": "YF" + "a" * 32}
    signature = twilio_signature(url, params, TOKEN)
    validator = RequestValidator(TOKEN)
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "type": "challenge.denied"}, signature)
    assert not RequestValidator("f" * 32).validate(url, params, signature)


def test_signature_with_repeated_parameters_matches_the_validator() -> None:
    url = "https://hooks.example.com/verify"
    pairs = [("EventTypes", "factor.verified"), ("a", "1"), ("EventTypes", "challenge.approved")]
    signature = twilio_signature(
        url, {"EventTypes": ["factor.verified", "challenge.approved"], "a": "1"}, TOKEN
    )
    assert RequestValidator(TOKEN).validate(url, MultiDict(pairs), signature)


def test_dates_have_no_fraction_and_are_utc() -> None:
    when = datetime(2015, 7, 30, 22, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert twilio_date(when) == "2015-07-30T20:00:00Z"
    assert twilio_date(datetime(2015, 7, 30, 20, 0, tzinfo=UTC)) == "2015-07-30T20:00:00Z"
    assert twilio_date(None) is None


def test_form_reads_booleans_integers_arrays_and_json() -> None:
    form = Form.parse(
        b"A=true&B=FALSE&N=8&E=a&E=b&J=%7B%22k%22%3A+%22v%22%7D",
        "application/x-www-form-urlencoded; charset=utf-8",
        [("Q", "1")],
    )
    assert (form.flag("A"), form.flag("B"), form.flag("missing")) == (True, False, None)
    assert form.integer("N", 4, 10) == 8 and form.texts("E") == ["a", "b"]
    assert form.json_object("J") == {"k": "v"} and form.text("Q") == "1"
    for bad in (
        lambda: form.integer("N", 9, 10),
        lambda: form.flag("E"),
        lambda: form.json_object("E"),
    ):
        with pytest.raises(InvalidParameter):
            bad()
    assert Form.parse(b'{"To":"x"}', "application/json", []).text("To") is None


def test_paging_urls_carry_the_cursor_and_the_filters() -> None:
    request = PageRequest.parse(Form([("PageSize", "2"), ("Page", "1"), ("PageToken", "PA1f")]))
    assert (request.size, request.number, request.after) == (2, 1, 31)
    meta = page_meta(
        key="challenges",
        url="https://2fa.example.com/v2/Services/VA1/Entities/e/Challenges",
        request=request,
        next_after=40,
        filters={"Status": "pending"},
    )
    assert meta["next_page_url"] == (
        "https://2fa.example.com/v2/Services/VA1/Entities/e/Challenges"
        "?Status=pending&PageSize=2&Page=2&PageToken=PA28"
    )
    assert meta["key"] == "challenges" and meta["previous_page_url"] is None
    with pytest.raises(InvalidParameter):
        PageRequest.parse(Form([("PageToken", "../../etc")]))
    with pytest.raises(InvalidParameter):
        PageRequest.parse(Form([("PageSize", "1001")]))


def test_error_bodies_have_exactly_four_fields() -> None:
    status, body = twilio_body(InvalidParameter("To"), path="/Services/VA1/Verifications")
    assert (status, body["message"]) == (400, "Invalid parameter: To")
    status, body = twilio_body(NotFound(), path="/Services/VA1/VerificationCheck")
    assert body == {
        "code": 20404,
        "message": "The requested resource /Services/VA1/VerificationCheck was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    assert twilio_body(RateLimited(), path="/")[1]["code"] == 20429
