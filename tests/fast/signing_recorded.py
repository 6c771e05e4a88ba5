"""Callbacks really sent by Authy, with their signatures, as published in client test suites.

Data only: twilio/authy-java ``src/test/java/com/authy/TestAuthyUtil.java`` (and its
``test.properties``) and uphold/authy-client ``test/client_test.js``.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

JAVA_KEY = "FU10H0uCafgKnXvPfDm5iAisVuHDgXJA"
JAVA_URL = "https://requestb.in/ui9vdiui"

_DEVICE = (
    '"device":{"city":null,"country":"Colombia","ip":"190.130.65.251","region":null,'
    '"registration_city":null,"registration_country":"Colombia","registration_ip":"190.130.66.242",'
    '"registration_method":"sms","registration_region":null,"os_type":"android",'
    '"last_account_recovery_at":null,"id":2102943,"registration_date":1505418165,'
    '"last_sync_date":1505418173}'
)

JAVA_POST = [
    (
        "1512923419",
        "6uKAaKxCkkFEyQujwdudyPNUgRi2fY5otoCOQN7VjCw=",
        '{"authy_id":688611,"device_uuid":2102943,"callback_action":"approval_request_status",'
        '"uuid":"4a725520-bff5-0135-eb01-0e5d90336a8c","status":"approved","approval_request":'
        '{"transaction":{"details":null,"device_details":{},"device_geolocation":"",'
        '"device_signing_time":1512923419,"encrypted":false,"flagged":false,"hidden_details":null,'
        '"message":"Authorize OneTouch Unit Test","reason":"","requester_details":null,'
        '"status":"approved","uuid":"4a725520-bff5-0135-eb01-0e5d90336a8c",'
        '"created_at_time":1512923400,"customer_uuid":15083},"expiration_timestamp":1513009800,'
        '"logos":null,"app_id":"582380eb7e1caa03317ec08c"},"signature":"pQmypvnmoIb7qIHrKcd3nwPA'
        "rh8Ecr8L87XTYqqAfagDkXhOD7CulSdDkE0ImFBzigwc+vxwZsgxBnhFmU2c9kYuvMJiPLeS8NCpRucg7eHeGPM0j"
        "QbKveqzFcZ9L6P1kRHjSYwS7dLqEINBffNckK7O9LHz13XYklxXvYUwvemtj+yEemyCJbmlJbCSlUTyajr3WSRPMY"
        "ZV7xXTNtWp2XvcRSclP8izgA1cV/cw7ctDYIPG6wUXJGSIs/kg3hTDeN1Z3YBq1fnMkfxeb5g9bRveRlCjXpQ6xFh"
        '1wQEUbbtJpf+uRgxddbQwxfda9gIb5osOEhKRv5HoJ03yOvKiBQ==",' + _DEVICE + "}",
    ),
    (
        "1512940231",
        "HFc5mICOVRrEmpmBoIuubKWcN0YYd50TaO7YQJFrnlM=",
        '{"authy_id":688611,"device_uuid":2102943,"callback_action":"approval_request_status",'
        '"uuid":"6edb8f40-c01c-0135-c648-0e00ace7f69c","status":"denied","approval_request":'
        '{"transaction":{"details":{"username":"User","location":"California,USA","cosa1":"cosa1",'
        '"cosa2":"cosa2"},"device_details":{},"device_geolocation":"","device_signing_time":1512940232,'
        '"encrypted":false,"flagged":false,"hidden_details":{"ip_address":"10.10.3.203"},'
        '"message":"Authorize OneTouch Unit Test","reason":"","requester_details":null,'
        '"status":"denied","uuid":"6edb8f40-c01c-0135-c648-0e00ace7f69c",'
        '"created_at_time":1512940211,"customer_uuid":15083},"expiration_timestamp":1513026611,'
        '"logos":null,"app_id":"582380eb7e1caa03317ec08c"},"signature":"jTLeK9tHUAhJRexjBIq3DVow'
        "PRKE+8578YzJD5yizXqYqmeQT7t8NS1uFfbmjHKabgIvC0N/WEFfyvKWjARrNVR6FJ5EjbOZJy7ouQT+9iTaorsJD"
        "VPUPeVnQUUTi3noXcSonGN0+YW7foHf8zMnTTyQBbjurexv2dkfu0fLdiF8I6xRhMeq5sf5APdZCt7NsFIM95N0wO"
        "6MHoD5sLL8yFrB1C/RB35n6BIxgTWz0TjtbcO+V/rqjgMK47xTITPsbEo46ammhRl4vU5flcM2O6KE6Q7tKLCftAz"
        's/3xu13w1KKkFXmCqXpeB29lSNU2wveGI7nB2eIk41medDJ81Dg==",' + _DEVICE + "}",
    ),
    (
        "1512940917",
        "IFD2P2f5w2Jis1uref9Blu7a0liztOsnso16Gh6y054=",
        '{"authy_id":688611,"device_uuid":2102943,"callback_action":"approval_request_status",'
        '"uuid":"098c3580-c01e-0135-eb00-0e5d90336a8c","status":"approved","approval_request":'
        '{"transaction":{"details":{"username":"User","location":"California,USA","cosa1":"cosa1",'
        '"cosa2":"cosa2"},"device_details":{},"device_geolocation":"","device_signing_time":1512940918,'
        '"encrypted":false,"flagged":false,"hidden_details":{"ip_address":"10.10.3.203"},'
        '"message":"Authorize OneTouch Unit Test","reason":"","requester_details":null,'
        '"status":"approved","uuid":"098c3580-c01e-0135-eb00-0e5d90336a8c",'
        '"created_at_time":1512940900,"customer_uuid":15083},"expiration_timestamp":1513027300,'
        '"logos":[{"res":"default","url":"https://www.itsalllost.com/wp-content/uploads/2017/04/'
        'twilio-logo-red.png"},{"res":"med","url":"https://www.itsalllost.com/wp-content/uploads/'
        '2017/04/twilio-logo-red.png"}],"app_id":"582380eb7e1caa03317ec08c"},"signature":"qOLMuHVy'
        "4KITm2nSd1PxJCv+ydjcduKwxz2Fc7pMrDm7QtU2hMAnY5AUxdwlae5WJmEWNM8OctdGhMJweTwICkkOgYm2v+u7k/"
        "wz5zuPozDDnMqJWBjiCfbKNpKqf8CQ2dBndtxi2Sl7/y57KiXYJfTlGHNBhCoTxVzVBNDEPu6OLV6KA60mcEW87tg"
        "1b4Q/p69ZkYb5B1f9Ujk/ueCbCK6JDhtUf1v3/baNgO8o/mp2EydiFughqpiHIIOR0VY9/o/hh5a7z6FG4OxZ3WmS"
        '7q2506Wy698LW3ZRNl0aXwtFIat4IyCSSuDQFW9LZEcXdQK4YixSJ8b5H8vlRErSPQ==",' + _DEVICE + "}",
    ),
]

_GET_DEVICE = (
    "authy_id=688611&callback_action=approval_request_status&device%5Bcity%5D=&device%5Bcountry%5D="
    "Colombia&device%5Bid%5D=2102943&device%5Bip%5D=190.130.65.251&device%5Blast_account_recovery_at"
    "%5D=&device%5Blast_sync_date%5D=1505418173&device%5Bos_type%5D=android&device%5Bregion%5D=&devi"
    "ce%5Bregistration_city%5D=&device%5Bregistration_country%5D=Colombia&device%5Bregistration_date"
    "%5D=1505418165&device%5Bregistration_ip%5D=190.130.66.242&device%5Bregistration_method%5D=sms&d"
    "evice%5Bregistration_region%5D=&device_uuid=2102943"
)

JAVA_GET = [
    (
        "1512937258",
        "W0YumwSPoL+2CX1q4XoUSY5gOmWmnrkXUmlm7NE6iGY=",
        "approval_request%5Bapp_id%5D=582380eb7e1caa03317ec08c&approval_request%5Bexpiration_timestam"
        "p%5D=1513023630&approval_request%5Blogos%5D=&approval_request%5Btransaction%5D%5Bcreated_at_t"
        "ime%5D=1512937230&approval_request%5Btransaction%5D%5Bcustomer_uuid%5D=15083&approval_request"
        "%5Btransaction%5D%5Bdetails%5D=&approval_request%5Btransaction%5D%5Bdevice_geolocation%5D=&ap"
        "proval_request%5Btransaction%5D%5Bdevice_signing_time%5D=1512937257&approval_request%5Btransa"
        "ction%5D%5Bencrypted%5D=false&approval_request%5Btransaction%5D%5Bflagged%5D=false&approval_r"
        "equest%5Btransaction%5D%5Bhidden_details%5D=&approval_request%5Btransaction%5D%5Bmessage%5D=A"
        "uthorize+OneTouch+Unit+Test&approval_request%5Btransaction%5D%5Breason%5D=&approval_request%5"
        "Btransaction%5D%5Brequester_details%5D=&approval_request%5Btransaction%5D%5Bstatus%5D=approve"
        "d&approval_request%5Btransaction%5D%5Buuid%5D=7e272da0-c015-0135-eafc-0e5d90336a8c&"
        + _GET_DEVICE
        + "&signature=YnZe2qSWEAYAROAhykwbeIOV2Ym%2"
        "Fg4y9rlIQc6ePtvTt9UDDotl7p2H%2FpC3EFNG5XsDaMkJuZmX"
        "Sd0UW%2FtiuR2l%2BJ%2Fvta5yXVArq6d1uNspB1u%2BWYjumDhTLFQI0Ox6BGQMhTlWkQK96dh0bJQqyPP7I5f4xQZM"
        "mNIClCKZa%2BzUqmPA7zo1Qokz9w0u917zKt%2BsLLxLLXblhdYvFIvfVqGAtiBQzbUh9UCCuOp6jcF7HkZiGs2nFIAl"
        "wVFffhK%2BxXnEXvG9yA3KnMRX6Y31yxWd3ApRoDNbLpCOSgFlkYAasQ8hBkcSy3AyyfT4TMhyeemI3IW6GFTADrXXO%"
        "2BzvpcA%3D%3D&status=approved&uuid=7e272da0-c015-0135-eafc-0e5d90336a8c",
    ),
    (
        "1512942246",
        "oCSbVsRS7uwKH1bRAnyem3pz9rTBSMpcEaS6W33DqmM=",
        "approval_request%5Bapp_id%5D=582380eb7e1caa03317ec08c&approval_request%5Bexpiration_timestam"
        "p%5D=1513028630&approval_request%5Blogos%5D=&approval_request%5Btransaction%5D%5Bcreated_at_t"
        "ime%5D=1512942230&approval_request%5Btransaction%5D%5Bcustomer_uuid%5D=15083&approval_request"
        "%5Btransaction%5D%5Bdetails%5D%5Bcosa1%5D=cosa1&approval_request%5Btransaction%5D%5Bdetails%5"
        "D%5Bcosa2%5D=cosa2&approval_request%5Btransaction%5D%5Bdetails%5D%5Blocation%5D=California%2C"
        "USA&approval_request%5Btransaction%5D%5Bdetails%5D%5Busername%5D=User&approval_request%5Btran"
        "saction%5D%5Bdevice_geolocation%5D=&approval_request%5Btransaction%5D%5Bdevice_signing_time%5"
        "D=1512942247&approval_request%5Btransaction%5D%5Bencrypted%5D=false&approval_request%5Btransa"
        "ction%5D%5Bflagged%5D=false&approval_request%5Btransaction%5D%5Bhidden_details%5D%5Bip_addres"
        "s%5D=10.10.3.203&approval_request%5Btransaction%5D%5Bmessage%5D=Authorize+OneTouch+Unit+Test&"
        "approval_request%5Btransaction%5D%5Breason%5D=&approval_request%5Btransaction%5D%5Brequester_"
        "details%5D=&approval_request%5Btransaction%5D%5Bstatus%5D=approved&approval_request%5Btransac"
        "tion%5D%5Buuid%5D=224fdf40-c021-0135-fa62-06ca50569adc&"
        + _GET_DEVICE
        + "&signature=rRf5hjOsPql%2Fumb%2FzI6azWUx2"
        "Xx8s6hhKeOYXob0tqhIA7WUtUcvXDNfn%2BX%2FnAqOiBDcGr41a"
        "NU6mFw1nCbQI3jwtm9n%2F7RVtxrJN%2B85370dY0nOUpl19IGJ6xwyRa0U76svfePBROnrobGdyCvtHw6G4tT%2BJ3oo"
        "2T7Ji1TZ4scFLaRfiA95VmFYgJd6tEqoBom%2FtX8itKyxa%2FFTVSc8OriSusyX8GpxqSAKl9GjVKGp7W0p%2FGTzTU9"
        "lzVAIPHsIyX9%2FH%2BKUGk5d7oglcPb%2B0HX2V1ruSIg5IId5j3yrBPd%2Bjxf3HLTcrPMGjFZJhapMOwE4fgEWG9p6"
        "pfBYOyyauw%3D%3D&status=approved&uuid=224fdf40-c021-0135-fa62-06ca50569adc",
    ),
    (
        "1512943081",
        "5TM5uf+8WlPMjkREHeS39XUHv8CHjhq3/u/+/lWU7cg=",
        "approval_request%5Bapp_id%5D=582380eb7e1caa03317ec08c&approval_request%5Bexpiration_timestam"
        "p%5D=1513029464&approval_request%5Blogos%5D%5B%5D%5Bres%5D=default&approval_request%5Blogos%5"
        "D%5B%5D%5Burl%5D=https%3A%2F%2Fwww.itsalllost.com%2Fwp-content%2Fuploads%2F2017%2F04%2Ftwilio"
        "-logo-red.png&approval_request%5Btransaction%5D%5Bcreated_at_time%5D=1512943064&approval_requ"
        "est%5Btransaction%5D%5Bcustomer_uuid%5D=15083&approval_request%5Btransaction%5D%5Bdetails%5D%"
        "5Bcosa1%5D=cosa1&approval_request%5Btransaction%5D%5Bdetails%5D%5Bcosa2%5D=cosa2&approval_req"
        "uest%5Btransaction%5D%5Bdetails%5D%5Blocation%5D=California%2CUSA&approval_request%5Btransact"
        "ion%5D%5Bdetails%5D%5Busername%5D=User&approval_request%5Btransaction%5D%5Bdevice_geolocation"
        "%5D=&approval_request%5Btransaction%5D%5Bdevice_signing_time%5D=1512943081&approval_request%5"
        "Btransaction%5D%5Bencrypted%5D=false&approval_request%5Btransaction%5D%5Bflagged%5D=false&app"
        "roval_request%5Btransaction%5D%5Bhidden_details%5D%5Bip_address%5D=10.10.3.203&approval_reque"
        "st%5Btransaction%5D%5Bmessage%5D=Authorize+OneTouch+Unit+Test&approval_request%5Btransaction%"
        "5D%5Breason%5D=&approval_request%5Btransaction%5D%5Brequester_details%5D=&approval_request%5B"
        "transaction%5D%5Bstatus%5D=approved&approval_request%5Btransaction%5D%5Buuid%5D=133c7590-c023"
        "-0135-fa61-06ca50569adc&" + _GET_DEVICE + "&signature=Q%2FTaHEbdfmBBw%2BT%2BgVBrM8S"
        "w%2BdqT%2FnhdO6BJNc%2F7herUg4BxAwziQhdmQhqjY2nvtVJk"
        "WEa9PdB11tNjTcbMQs8cchyPPNLUvp8L7C82snxcH%2Fgdde65Z%2B39Aug5hCcXUoQ92PsRckvexkrCQASDWbvmJZnjV"
        "M5t3j%2BKXn2QVyZkc63GBE1W9GPNM7bmlL2ZOENPoxpUq9%2B%2FawTEb8WMDebDcFEPGSgNFcvk6%2FJTSwjzmmm8Y"
        "pk82s4P1lUq74WWxaDM7XJH2Q4mo9vHkDaRIweEx%2BliMqUQYoCtApD0vsPSe4Exfp5tfcelWE9xrte%2FF3qKiPSn"
        "V8xS0SY9L20%2F7A%3D%3D&status=approved&uuid=133c7590-c023-0135-fa61-06ca50569adc",
    ),
]

# An older recording from the same repository (test.properties, another key and URL).
JAVA_PROPERTIES_POST = (
    "xzfVSc8CTwU2Mpl959CcMhw3fZBfI5F0",
    "http://f617c113.ngrok.io/approved",
    "1483484754",
    "q+Dz2RZyHEuBkr6n5tIeTUmTa6+nUeQOxKmaoYSrQWA=",
    '{ "device_uuid": "cea50e20-3aeb-0133-f92a-34363b620e52", "callback_action": '
    '"approval_request_status", "uuid": "cdbabf40-1c65-0133-d113-34363b620e52", "status": '
    '"approved", "approval_request": { "transaction": { "details": { "Email Address": '
    '"jdoe@example.com" }, "device_details": {}, "device_geolocation": "", "device_signing_time": '
    '"946641599", "encrypted": false, "flagged": false, "hidden_details": { "ip": "1.1.1.1" }, '
    '"message": "Request to Login", "reason": "", "requester_details": "", "status": "approved", '
    '"uuid": "cdbabf40-1c65-0133-d113-34363b620e52", "created_at_time": "946641599", '
    '"customer_uuid": "25e026b36343-a29f-3310-bea3-02e05aec" }, "logos": "", '
    '"expiration_timestamp": "946641599" }, "signature": "rzqf/n08coE0Vi7IjbzAbt0IYMprJGAUx18kSJ'
    "WE37K0mhvCGwepkm/pSDXuSs+5kSUFK80L9RT7/BZ7YwojSt5WhPnpRSImm5qKlvsNnGOPYCKVcFJxXCNJhtaztL/2B"
    "jOMzdC5yNHH5uJIDGBhlb5fLVErsvauvxXWo/Cj2STfITdSPULFz6XcbM1BDIriW7kP0GkELfUqE1iEuONEdhKYmPG"
    "olh3/U4t8i0NYkQSPhbOGG1DZEsxhnxtelyBNOGK9sFojTsAg7dWesRYnyDkjTHZ1MvggdZwXo4qxphrY2Ve7+o04EH"
    'PZW9RPvakwl9yQ6rVsspVF/xZT14BsgA==", "authy_id": 1234 }',
)

UPHOLD_KEY = "1DS9YIwGquvvIdx8GdcdqZGLAewZZyhd"
UPHOLD_URL = "https://foo.bar/"
UPHOLD_NONCE = "1455825429"
UPHOLD_SIGNATURE = "hqB6las54sMBA83GKs0U1QQi9ocJ2tH20SXHZNzfqqQ="
UPHOLD_BODY = {
    "approval_request": {
        "expiration_timestamp": 1455911778,
        "logos": None,
        "transaction": {
            "created_at_time": 1455825378,
            "customer_uuid": "2ccf0040-ed25-0132-5987-0e67b818e6fb",
            "details": {},
            "device_details": None,
            "device_geolocation": None,
            "device_signing_time": 0,
            "encrypted": False,
            "flagged": False,
            "hidden_details": {},
            "message": ".",
            "reason": None,
            "requester_details": None,
            "status": "approved",
            "uuid": "996201c0-b7a7-0133-7c06-0e67b818e6fb",
        },
    },
    "authy_id": 1234567,
    "callback_action": "approval_request_status",
    "device_uuid": "4d89c320-a9bb-0133-7c02-0e67b818e6fb",
    "signature": "BObhJgZwgU7O9r4Uo9VT6j6shAOe7y/IRGpW/N0Uq34/XHZU9E+aHOI5rcQzW1ZgNCECzVrqrsnjhYEK4"
    "Zq1naKWu0YNkuvILmMz8IxJEQH+c+6x186fjIjxvP4nu4p/pfUDomo/za24s1XOjtNlVsrDTDXClHUh5MjFQbyBjhFd8g"
    "OtmGVatN7K2Lx71I8YR2JDLbRX4DlJEMu++PLBn1nqQH9tbNYzX5jjX87CXPBtDfRwfWSs/imnfZ9zkDq4ZKuBcuwzQNs"
    "xKlby6782X0o78rYhCHrcDnHgRtyMGvX9ovK3XTt6M7p6i9SKaRgBWIOFVPygxv15iJesqt9cng==",
    "status": "approved",
    "uuid": "996221c0-b7a7-0133-7c06-0e67b818e6fb",
}


def get_params(query: str) -> dict[str, str]:
    """A recorded GET query string as the flat dict a receiver decodes (bracketed keys)."""
    params: dict[str, str] = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        params[unquote_plus(key)] = unquote_plus(value)
    return params


def post_body(text: str) -> dict[str, object]:
    return json.loads(text)  # type: ignore[no-any-return]
