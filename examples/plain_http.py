"""Second factor for your own application with nothing but HTTP (here: httpx).

    python examples/plain_http.py --provider http://127.0.0.1:5001 --api-key KEY \\
        --email alice@example.com --phone 201-555-0123

Any Authy integration does the same; only the base URL changes.
"""

from __future__ import annotations

import argparse
import sys

import httpx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="http://127.0.0.1:5001")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--country-code", default="1")
    args = parser.parse_args()

    api = httpx.Client(base_url=args.provider, headers={"X-Authy-API-Key": args.api_key})
    created = api.post(
        "/protected/json/users/new",
        json={
            "user": {
                "email": args.email,
                "cellphone": args.phone,
                "country_code": args.country_code,
            }
        },
    ).json()
    if not created["success"]:
        print("could not register:", created["message"], file=sys.stderr)
        return 1
    authy_id = created["user"]["id"]

    status = api.get(f"/protected/json/users/{authy_id}/status").json()["status"]
    if status["registered"]:
        request = api.post(
            f"/onetouch/json/users/{authy_id}/approval_requests",
            json={
                "message": "Log in to Example",
                "details": {"Email": args.email},
                "seconds_to_expire": 120,
            },
        ).json()
        uuid = request["approval_request"]["uuid"]
        print("approve it on your phone; then:")
        print(
            api.get(f"/onetouch/json/approval_requests/{uuid}").json()["approval_request"]["status"]
        )
        return 0

    sent = api.get(f"/protected/json/sms/{authy_id}").json()
    print(sent["message"], "to", sent["cellphone"])
    code = input("code: ").strip()
    answer = api.get(f"/protected/json/verify/{code}/{authy_id}", params={"force": "true"})
    print("valid" if answer.status_code == 200 else answer.json()["message"])
    return 0 if answer.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
