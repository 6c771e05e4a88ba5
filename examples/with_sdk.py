"""The same second factor with the typed SDK (``twofa.client``).

    python examples/with_sdk.py --provider http://127.0.0.1:5001 --api-key KEY \\
        --email alice@example.com --phone 201-555-0123
"""

from __future__ import annotations

import argparse
import sys
import time

from twofa.client import Client, InvalidToken, ProviderError, RateLimited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="http://127.0.0.1:5001")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--country-code", type=int, default=1)
    args = parser.parse_args()

    with Client(args.api_key, args.provider) as provider:
        try:
            user = provider.create_user(
                email=args.email, cellphone=args.phone, country_code=args.country_code
            )
        except ProviderError as exc:
            print("could not register:", exc.message, file=sys.stderr)
            return 1
        if provider.user_status(user.authy_id).registered:
            request = provider.create_approval_request(
                user.authy_id,
                message="Log in to Example",
                seconds_to_expire=120,
                number_matching=True,
            )
            print("pick", request.number, "on your phone")
            while (status := provider.get_approval_request(request.uuid).status) == "pending":
                time.sleep(1)  # a real application learns this from its signed callback
            print(status)
            return 0 if status == "approved" else 1
        print("code sent to", provider.request_sms(user.authy_id).cellphone)
        try:
            provider.verify_token(user.authy_id, input("code: ").strip())
        except InvalidToken:
            print("wrong, expired or already used code")
            return 1
        except RateLimited as exc:
            print("too many tries; wait", exc.retry_after, "seconds")
            return 1
        print("valid")
        return 0


if __name__ == "__main__":
    sys.exit(main())
