"""Reading an Authy export: formats, the rules every record must meet, and hostile files."""

from __future__ import annotations

import io
import json

import pytest

from twofa.provider.users.import_file import MAX_LINE, MAX_REPORTED_ERRORS, read_import
from twofa.provider.users.model import ParsedImport

HEADER = "authy_id,email,country_code,phone,name\n"


def csv_of(*records: str) -> str:
    return HEADER + "".join(record + "\n" for record in records)


def reasons(parsed: ParsedImport) -> dict[int, str]:
    return {error.line: error.reason for error in parsed.errors}


def test_csv_rows_come_out_normalized() -> None:
    parsed = read_import(
        csv_of(
            "101,Alice@Example.COM,1,(201) 555-0101,Alice Smith",
            '102,bob@example.co.uk,+44,07911 123456,"Smith, Bob"',
            "103,carol@example.com,1,+1 201 555 0103,",
        )
    )
    assert parsed.ok and parsed.format == "csv" and parsed.total == 3
    first, second, third = parsed.rows
    assert (first.line, first.authy_id, first.email) == (2, 101, "Alice@example.com")
    assert (first.phone.e164, first.name) == ("+12015550101", "Alice Smith")
    assert (second.phone.country_code, second.phone.e164) == (44, "+447911123456")
    assert second.name == "Smith, Bob"
    assert third.name is None and third.phone.e164 == "+12015550103"


def test_json_lines_with_numbers_or_strings() -> None:
    lines = [
        {"authy_id": 7, "email": "a@example.com", "country_code": 1, "phone": "2015550107"},
        {"authy_id": "8", "email": "b@example.com", "country_code": "1", "phone": 2015550108},
        {"authy_id": 9, "email": "c@example.com", "country_code": 1, "phone": "201-555-0109",
         "name": None},
    ]  # fmt: skip
    data = "\n".join(json.dumps(line) for line in lines).encode()
    parsed = read_import(data)
    assert parsed.ok and parsed.format == "jsonl", parsed.errors
    assert [row.authy_id for row in parsed.rows] == [7, 8, 9]


def test_the_file_name_decides_the_format() -> None:
    record = '{"authy_id": 1, "email": "a@example.com", "country_code": 1, "phone": "2015550101"}'
    assert read_import(record, filename="export.jsonl").format == "jsonl"
    as_csv = read_import(record, filename="export.csv")
    assert as_csv.format == "csv" and not as_csv.ok
    assert as_csv.errors[0].line == 1 and "header" in as_csv.errors[0].reason


def test_bom_crlf_and_blank_lines() -> None:
    data = "\ufeff" + HEADER.replace("\n", "\r\n") + "\r\n101,a@example.com,1,2015550101,\r\n\r\n"
    parsed = read_import(data.encode("utf-8"))
    assert parsed.ok and parsed.total == 1 and parsed.rows[0].line == 3


def test_every_bad_row_is_named_by_its_line() -> None:
    parsed = read_import(
        csv_of(
            "101,a@example.com,1,2015550101,",  # line 2: fine
            "0,b@example.com,1,2015550102,",
            "103,not-an-email,1,2015550103,",
            "104,d@example.com,1,12,",
            "105,e@example.com,abc,2015550105,",
            "106,f@example.com,1,2015550106",  # a field short
            "101,g@example.com,1,2015550107,",  # the id of line 2
            "108,h@example.com,1,201-555-0101,",  # the phone of line 2
            "109,i@example.com,44,09061 234567,",  # UK premium rate
            ",j@example.com,1,2015550110,",
            "9007199254740993,k@example.com,1,2015550111,",  # beyond 2^53
        )
    )
    assert [row.line for row in parsed.rows] == [2]
    found = reasons(parsed)
    assert parsed.error_count == 10 and parsed.total == 11
    assert "authy_id must be a whole number" in found[3]
    assert "email" in found[4]
    assert "phone is not a possible number with country code 1" in found[5]
    assert "country_code" in found[6]
    assert "fields where the header names 5" in found[7]
    assert found[8] == "authy_id is also on line 2"
    assert "phone +12015550101 is also on line 2 (authy_id 101)" in found[9]
    assert "premium-rate" in found[10]
    assert "authy_id is missing" in found[11]
    assert "authy_id must be a whole number" in found[12]
    assert {error.authy_id for error in parsed.errors if error.line == 8} == {"101"}


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("authy_id,email,phone\n", "country_code"),
        ("authy_id,email,country_code,phone,password\n", "'password'"),
        ("authy_id,email,email,country_code,phone\n", "header"),
    ],
)
def test_a_bad_header_stops_the_reading(header: str, problem: str) -> None:
    parsed = read_import(header + "1,a@example.com,1,2015550101\n", filename="x.csv")
    assert parsed.rows == () and parsed.error_count == 1
    assert parsed.errors[0].line == 1 and problem in parsed.errors[0].reason


def test_unknown_json_keys_and_non_objects() -> None:
    lines = [
        '{"authy_id": 1, "email": "a@example.com", "country_code": 1, "phone": "2015550101"}',
        '{"authy_id": 2, "email": "b@example.com", "country_code": 1, "phone": "2015550102",'
        ' "is_admin": true}',
        "[1, 2, 3]",
        '{"authy_id": true, "email": "c@example.com", "country_code": 1, "phone": "2015550103"}',
        '{"authy_id": 4, "email": ["d@example.com"], "country_code": 1, "phone": "2015550104"}',
        "{not json",
    ]
    parsed = read_import("\n".join(lines))
    found = reasons(parsed)
    assert [row.authy_id for row in parsed.rows] == [1]
    assert "unknown key 'is_admin'" in found[2]
    assert found[3] == found[6] == "not a JSON object"
    assert "authy_id is missing or not text" in found[4]
    assert "email is missing or not text" in found[5]


# Hostile files ------------------------------------------------------------------------------


def test_a_binary_file_is_refused_as_a_whole() -> None:
    blob = bytes(range(256)) * 64
    parsed = read_import(blob)
    assert parsed.rows == () and parsed.error_count == 1
    assert parsed.errors[0].reason == "the file is not UTF-8 text (CSV or JSON lines)"
    gzipped = read_import(b"\x1f\x8b\x08\x00" + b"\x00" * 100, filename="users.csv")
    assert gzipped.error_count == 1 and "not UTF-8" in gzipped.errors[0].reason


def test_bad_bytes_in_one_line_refuse_that_line() -> None:
    data = (
        csv_of("101,a@example.com,1,2015550101,").encode()
        + b"102,b@example.com,1,2015550102,\xff\xfe\n"
        + b"103,c@example.com,1,2015550103,\x00\n"
    )
    parsed = read_import(data)
    assert reasons(parsed) == {3: "line is not UTF-8 text", 4: "line is not UTF-8 text"}


class Huge(io.RawIOBase):
    """A 10 MB line without materialising it, so the test itself stays small."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self._parts = [head, size, tail]
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._parts:
            part = self._parts[0]
            if isinstance(part, int):
                if part == 0:
                    self._parts.pop(0)
                    continue
                count = min(part, len(buffer))
                buffer[:count] = b"x" * count
                self._parts[0] = part - count
            else:
                if not part:
                    self._parts.pop(0)
                    continue
                count = min(len(part), len(buffer))
                buffer[:count] = part[:count]
                self._parts[0] = part[count:]
            self.served += count
            return count
        return 0


def test_a_ten_megabyte_line_is_one_refused_row() -> None:
    head = csv_of("101,a@example.com,1,2015550101,").encode() + b"102,b@example.com,1,2015550102,"
    raw = Huge(head, 10 * 1024 * 1024, b"\n103,c@example.com,1,2015550103,\n")
    parsed = read_import(io.BufferedReader(raw, buffer_size=65536))
    assert [row.authy_id for row in parsed.rows] == [101, 103]
    assert reasons(parsed) == {3: f"line is longer than {MAX_LINE} bytes"}
    assert raw.served > 10 * 1024 * 1024  # read through, not given up on


def test_huge_fields_and_deep_json_are_refused() -> None:
    long_email = "a" * 400 + "@example.com"
    deep = "[" * 2000 + "]" * 2000
    parsed = read_import(
        "\n".join(
            [
                json.dumps({"authy_id": 1, "email": long_email, "country_code": 1, "phone": "1"}),
                json.dumps({"authy_id": "9" * 400, "email": "a@example.com", "country_code": 1,
                            "phone": "2015550101"}),
                deep,
                json.dumps({"authy_id": 3, "email": "c@example.com", "country_code": 1,
                            "phone": "2015550103", "name": "N" * 101}),
            ]
        )
    )  # fmt: skip
    found = reasons(parsed)
    assert "email is longer than 320 characters" in found[1]
    assert "authy_id is longer than 320 characters" in found[2]
    assert found[3] == "not a JSON object"
    assert "name is longer than 100 characters" in found[4]
    assert parsed.errors[1].authy_id == "9" * 20  # what a report echoes is bounded too


@pytest.mark.parametrize(
    "name",
    ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
     "Eve\u202eevil", "Bell\x07", "Esc\x1b[2J"],
)  # fmt: skip
def test_names_that_attack_a_spreadsheet_or_a_terminal_are_refused(name: str) -> None:
    parsed = read_import(
        json.dumps(
            {"authy_id": 5, "email": "e@example.com", "country_code": 1, "phone": "2015550105",
             "name": name}
        )
    )  # fmt: skip
    assert parsed.rows == () and parsed.error_count == 1
    assert "name" in parsed.errors[0].reason


def test_errors_are_counted_past_the_listed_ones() -> None:
    count = MAX_REPORTED_ERRORS + 500
    parsed = read_import(HEADER + "x,y,z,w,\n" * count)
    assert parsed.error_count == count and len(parsed.errors) == MAX_REPORTED_ERRORS
    assert parsed.errors[-1].line == MAX_REPORTED_ERRORS + 1


def test_text_and_binary_streams_read_alike() -> None:
    text = csv_of("101,a@example.com,1,2015550101,Zoë")
    from_text = read_import(io.StringIO(text))
    from_bytes = read_import(io.BytesIO(text.encode()))
    assert from_text == from_bytes and from_text.rows[0].name == "Zoë"
