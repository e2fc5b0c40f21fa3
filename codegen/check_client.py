"""Run in codegen/.venv after ariadne-codegen (tests/test_codegen.py): the generated client maps the
scalars as the README says and parses answers shaped like the server's."""

from __future__ import annotations

import datetime
import sys

sys.path.insert(0, "generated")

from faceid_client import Client, ImageInput
from faceid_client.error_codes import ErrorCodes
from faceid_client.identify import Identify
from faceid_client.people import People

client = Client(url="http://localhost:8000/graphql", headers={"Authorization": "Bearer <key>"})
assert ImageInput(base64="aGVsbG8=").model_dump(by_alias=True, exclude_none=True) == {"base64": "aGVsbG8="}

people = People.model_validate(
    {
        "persons": {
            "totalCount": 1,
            "edges": [
                {
                    "cursor": "c",
                    "node": {
                        "id": "1",
                        "name": "Ada",
                        "createdAt": "2026-11-28T18:58:23.123456+00:00",
                        "metadata": {"team": "x"},
                    },
                }
            ],
        }
    }
)
created = people.persons.edges[0].node.created_at
assert isinstance(created, datetime.datetime) and created.tzinfo is not None, created
identify = Identify.model_validate({"verifyLinear": {"match": True, "threshold": 1.087, "best": None}})
assert identify.verify_linear.match is True
codes = ErrorCodes.model_validate({"errorCodes": [{"code": "RATE_LIMITED", "description": "..."}]})
assert codes.error_codes[0].code.value == "RATE_LIMITED"
print("ok")
