"""Which push endpoints a device may register (server-side request forgery guard)."""

from __future__ import annotations

import pytest

from twofa.provider.webpush.endpoints import EndpointPolicy, EndpointRefused

STRICT = EndpointPolicy()
OPERATOR = EndpointPolicy(operator_hosts=("push.example.org", "*.autopush.example.net", "10.0.0.5"))


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGx4cmVtb3Rl",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://FCM.googleapis.com/fcm/send/x",
    ],
)
def test_browser_push_services_pass(endpoint: str) -> None:
    assert STRICT.check(endpoint) == endpoint


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "https"),
        ("https://evil.example/fcm.googleapis.com", "not a known push service"),
        ("https://fcm.googleapis.com.evil.example/x", "not a known push service"),
        ("https://notify.windows.com/x", "not a known push service"),
        ("https://evilnotify.windows.com/x", "not a known push service"),
        ("https://user:pw@fcm.googleapis.com/x", "credentials"),
        ("https://fcm.googleapis.com:8443/x", "standard port"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://localhost:9999/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "not a known push service"),
        ("https://fcm.googleapis.com/x#frag", "fragment"),
        ("https://fcm.googleapis.com/a b", "whitespace"),
        ("https://fcm.googleapis.com/" + "a" * 2000, "too long"),
        ("https://fcm.googleapis.com:notaport/x", "not a valid URL"),
        ("javascript:alert(1)", "https"),
        ("", "must be a URL"),
        (42, "must be a URL"),
    ],
)
def test_everything_else_is_refused(endpoint: object, why: str) -> None:
    with pytest.raises(EndpointRefused, match=why):
        STRICT.check(endpoint)


def test_operator_hosts_and_private_addresses() -> None:
    assert OPERATOR.check("https://push.example.org:8443/wpush/1")
    assert OPERATOR.check("https://a.b.autopush.example.net/wpush/1")
    with pytest.raises(EndpointRefused, match="private"):
        OPERATOR.check("https://10.0.0.5/wpush/1")
    allowed = EndpointPolicy(operator_hosts=("10.0.0.5",), allow_private=True)
    assert allowed.check("https://10.0.0.5/wpush/1")


def test_loopback_only_when_allowed() -> None:
    dev = EndpointPolicy(allow_loopback=True)
    assert dev.check("https://127.0.0.1:8443/wpush/1")
    with pytest.raises(EndpointRefused, match="not a known push service"):
        dev.check("https://10.1.2.3/wpush/1")
