"""The built-in scalars this API uses, each with a @specifiedBy URL for client codegen."""

from __future__ import annotations

import dataclasses
import datetime

from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.schema.types.base_scalars import DateTimeDefinition

DateTime = dataclasses.replace(
    DateTimeDefinition,
    description="A point in time, RFC 3339 with a UTC offset (as Python's isoformat writes it), e.g. "
    "`2026-11-28T18:58:23.123456+00:00`. Codegen: `string` or a Date in TypeScript, `datetime` in Python.",
    specified_by_url="https://scalars.graphql.org/andimarek/date-time",
)
UploadScalar = dataclasses.replace(
    UploadDefinition,
    description="A file part of a multipart request (the GraphQL multipart request spec). Codegen: `File` "
    "or `Blob` in TypeScript (apollo-upload-client), `gql`'s FileVar or an open file in Python.",
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
)

SCALAR_OVERRIDES = {datetime.datetime: DateTime, Upload: UploadScalar}
