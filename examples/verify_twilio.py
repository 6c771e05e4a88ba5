"""Phone verification with Twilio's official Python package, served by twofa (Verify v2).

    pip install twilio
    twofa apps create "My App" --json      # prints account_sid and auth_token
    python examples/verify_twilio.py --provider http://127.0.0.1:5001 \\
        --account-sid AC... --auth-token ... --to +12015550123

Code written for Twilio Verify runs unchanged: only ``client.verify.base_url`` is set. Leave
``TWILIO_REGION`` and ``TWILIO_EDGE`` unset: the client would rewrite the host name.
"""

from __future__ import annotations

import argparse
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="http://127.0.0.1:5001")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--to", required=True, help="E.164 number, or an e-mail address")
    parser.add_argument("--service", help="an existing Service SID (default: create one)")
    args = parser.parse_args()

    client = Client(args.account_sid, args.auth_token)
    client.verify.base_url = args.provider  # the one line that points the client at twofa
    service_sid = args.service or client.verify.v2.services.create(friendly_name="Example").sid
    service = client.verify.v2.services(service_sid)
    channel = "email" if "@" in args.to else "sms"
    try:
        started = service.verifications.create(to=args.to, channel=channel)
    except TwilioRestException as exc:
        print(f"could not send a code: {exc.code} {exc.msg}", file=sys.stderr)
        return 1
    print(f"code sent by {started.channel} to {started.to}; type it:", flush=True)
    for _ in range(3):
        code = sys.stdin.readline().strip()
        try:
            check = service.verification_checks.create(to=args.to, code=code)
        except TwilioRestException as exc:
            print(f"check refused: {exc.code} {exc.msg}", file=sys.stderr)
            return 1
        if check.status == "approved":
            print("approved")
            return 0
        print("wrong code, try again:", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
