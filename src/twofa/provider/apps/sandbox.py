"""Sandbox applications: what sets them apart from real ones, in one place.

A sandbox application is a real application in every respect (same routes, errors, limits,
callbacks and audit) except three, all taken from Authy's old sandbox, which the live test
suites of the official clients rely on:

- every SMS, call, e-mail and push wake-up it causes is recorded in the outbox and sent to no
  gateway, whatever gateway the deployment uses (``messaging/service.py``, ``push/service.py``);
- ``SANDBOX_TOKEN`` verifies for any of its users (``codes/verification.py``), and
  ``SANDBOX_PHONE_CODE`` checks a pending phone verification (``phones/service.py``);
- its API key starts with ``sandbox_`` (``crypto.py``), and a deployment that does not allow
  sandboxes (``TWOFA_ALLOW_SANDBOX``, default: refused when ``TWOFA_ENV=prod``) refuses to
  create one and refuses the key of an existing one.

Whether an application is a sandbox is fixed when it is created: a switch would let a key
that was handed out for testing start reaching real phones, or the other way round.
"""

from __future__ import annotations

SANDBOX_TOKEN = "0000000"  # noqa: S105 - public by design: Authy's sandbox test token
SANDBOX_PHONE_CODE = "0000"  # Authy's sandbox: checks any pending phone verification
SANDBOX_GATEWAY = "sandbox"  # the gateway name recorded for a sandbox application's messages
