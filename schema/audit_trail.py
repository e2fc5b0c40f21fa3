"""Records every write and every verification in the audit log (auth.audit), with how it ended.

Which fields are audited is each field's own declaration (schema/contract.py, `audited=`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import OperationType
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.utils.await_maybe import AwaitableOrValue, await_maybe

from auth import audit
from errors import ErrorCode
from resolvers.failures import as_api_error
from resolvers.liveness import audit_detail
from schema.contract import audit_of
from schema.liveness_types import LivenessResult
from schema.types import NewApiKey, Verification

ID_ARGUMENTS = ("id", "person_id", "personId", "into", "from", "collection", "session")


def _audited(info: Any) -> bool:
    if info.path.prev is not None:  # only the operation's root fields
        return False
    if info.operation.operation == OperationType.SUBSCRIPTION:
        return False  # each event of a stream resolves the root field again: AuditedOpen records the open
    field = info.parent_type.fields.get(info.field_name)  # None for __schema, __type and __typename
    return field is not None and audit_of(field) is True


def _targets(kwargs: dict[str, Any], result: object) -> list[str]:
    targets = [str(kwargs[name]) for name in ID_ARGUMENTS if kwargs.get(name) is not None]
    if isinstance(result, NewApiKey):
        result = result.api_key
    if isinstance(result, LivenessResult):  # the session (an argument) and whom it verified
        return targets + ([result.outcome.person_id] if result.outcome.person_id else [])
    answers = [
        answer for answer in (result if isinstance(result, list) else [result]) if isinstance(answer, Verification)
    ]
    if answers:  # verifications: the best candidate of each
        targets += [str(answer.best.person.id) for answer in answers if answer.best is not None]
    elif hasattr(result, "id"):  # a person, face, key or delete result
        targets.append(str(result.id))
    return targets


def _detail(result: object) -> str:
    if isinstance(result, LivenessResult):
        return audit_detail(result.outcome)
    if isinstance(result, Verification):
        return "match" if result.match else "no match"
    if isinstance(result, list) and all(isinstance(answer, Verification) for answer in result):
        return f"{sum(answer.match for answer in result)} of {len(result)} faces matched"  # recognizeFaces
    if isinstance(result, list):  # embedFaces
        return f"{len(result)} faces embedded"
    return ""


async def _record_failure(principal: Any, info: Any, kwargs: dict[str, Any], exc: Exception) -> None:
    """The entry of a field that failed: its code (INTERNAL for the unexpected) and message."""
    known = as_api_error(exc)
    code, message = (ErrorCode.INTERNAL, "") if known is None else (known.code, known.message)
    await audit.record(principal, info.field_name, _targets(kwargs, None), code.value, message)


class AuditTrail(SchemaExtension):
    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> AwaitableOrValue[object]:
        if not _audited(info):
            return _next(root, info, *args, **kwargs)
        return self._recorded(_next, root, info, *args, **kwargs)

    async def _recorded(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> object:
        principal = info.context.principal
        try:
            result = await await_maybe(_next(root, info, *args, **kwargs))
        except Exception as exc:
            await _record_failure(principal, info, kwargs, exc)
            raise
        await audit.record(principal, info.field_name, _targets(kwargs, result), "OK", _detail(result))
        return result


class AuditedOpen(FieldExtension):
    """A subscription's open, recorded once with its outcome: refused (scope, rate, BUSY, bad arguments) or OK.

    Outermost of the field's extensions, so that the scope check's refusal is recorded too; the
    subscription's resolver raises its own refusals when called, before any event.
    """

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any) -> Any:
        principal = info.context.principal
        try:
            stream = await await_maybe(next_(source, info, **kwargs))
        except Exception as exc:
            await _record_failure(principal, info, kwargs, exc)
            raise
        await audit.record(principal, info.field_name, _targets(kwargs, None), "OK", "opened")
        return stream
