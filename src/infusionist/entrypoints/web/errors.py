"""Every refusal as JSON: ``{"error": {"code", "message", "field", "details"}}`` with a stable code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from infusionist.domain.errors import (
    AccessDenied,
    BookingRefused,
    ConfigError,
    Conflict,
    EventRefused,
    InfusionistError,
    NotAuthenticated,
    NotFound,
    PlanningError,
    Throttled,
    Unavailable,
    ValidationFailed,
)
from infusionist.domain.text_input import NUL_CODE, NUL_MESSAGE
from infusionist.entrypoints.web.schemas import NUL_ERROR

STATUS: tuple[tuple[type[InfusionistError], int], ...] = (
    (NotAuthenticated, 401),
    (Throttled, 429),
    (AccessDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ValidationFailed, 422),
    (EventRefused, 422),
    (PlanningError, 422),
    (BookingRefused, 422),
    (ConfigError, 422),
    (Unavailable, 501),
)


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: dict[str, str] = {}
    requirements: list[str] = []


class ErrorOut(BaseModel):
    error: ErrorBody


# Every refusal an operation can answer, documented in the OpenAPI with the same body: 400 a
# body that is not JSON, 413 a body over the size limit, 422 an invalid or refused entry.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 413, 422)
}
ERROR_RESPONSES[413]["description"] = "The request body is larger than the server accepts"
THROTTLED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "Too many failed log-ins (or signature passwords) for "
          "the account or from the address; the Retry-After header says "
          "how many seconds to wait", "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}
# Pydantic error types with a code and a sentence of their own (the rest are INPUT-INVALID).
_INPUT_ERRORS = {
    NUL_ERROR: (NUL_CODE, NUL_MESSAGE),
}


def _response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": body.model_dump()}, headers=headers)


def status_of(error: InfusionistError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 400)


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InfusionistError)
    field = next(iter(error.details), None)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return _response(status_of(error), ErrorBody(code=error.code, message=error.message, field=field,
                                                 details=error.details,
                                                 requirements=list(error.requirements)), headers)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details: dict[str, str] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        details.setdefault(location, str(item.get("msg", "invalid")))
    special = next((_INPUT_ERRORS[item["type"]] for item in error.errors()
                    if item.get("type") in _INPUT_ERRORS), None)
    if special is not None:
        code, message = special
    else:
        code = "INPUT-INVALID"
        message = "; ".join(f"{field}: {msg}" for field, msg in details.items())
    return _response(422, ErrorBody(code=code, message=message,
                                    field=next(iter(details), None), details=details))


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = "REQUEST-TOO-LARGE" if error.status_code == 413 else f"HTTP-{error.status_code}"
    return _response(error.status_code, ErrorBody(code=code, message=str(error.detail)))


def install(app: FastAPI) -> None:
    app.add_exception_handler(InfusionistError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
