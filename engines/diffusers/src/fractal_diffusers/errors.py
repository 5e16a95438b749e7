"""Engine errors and the protocol's error table (docs/engine-protocol.md, Errors)."""

from __future__ import annotations


class EngineError(Exception):
    """An error with its protocol code and HTTP status."""

    code = "internal"
    status = 500

    def __init__(self, message: str, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        err: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"error": err}


class Invalid(EngineError):
    """A malformed request or a spec outside the profile's limits (400)."""

    code, status = "invalid", 400


class NotFound(EngineError):
    code, status = "not_found", 404


class MethodNotAllowed(EngineError):
    code, status = "method_not_allowed", 405


class TooLarge(EngineError):
    code, status = "too_large", 413


class Overloaded(EngineError):
    """Every engine slot is busy, or the device ran out of memory (503 + Retry-After)."""

    code, status = "overloaded", 503


class Unavailable(EngineError):
    """The engine cannot serve now, e.g. weights still loading (503 + Retry-After)."""

    code, status = "unavailable", 503


class Cancelled(Exception):
    """The caller went away; the generation stopped between steps."""


class ManifestError(Exception):
    """A weight directory does not match the profile's manifest."""
