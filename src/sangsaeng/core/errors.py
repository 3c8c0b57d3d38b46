"""One error base class carrying its HTTP status; the web layer turns it into JSON or a page."""

from __future__ import annotations

from sangsaeng.core.i18n import Msg


class SangsaengError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: Msg | str | None = None, *, details: object = None) -> None:
        self.message = message if message is not None else self.default_message()
        self.details = details
        # Set by the policy when this error is a permission denial, for the audit log.
        self.denial: dict | None = None
        super().__init__(str(self.message))

    def default_message(self) -> Msg:
        return Msg("An unexpected error occurred.")


class NotAuthenticated(SangsaengError):
    status_code = 401
    code = "not_authenticated"

    def default_message(self) -> Msg:
        return Msg("Please sign in.")


class Forbidden(SangsaengError):
    status_code = 403
    code = "forbidden"

    def default_message(self) -> Msg:
        return Msg("You do not have permission for this.")


class NotFound(SangsaengError):
    status_code = 404
    code = "not_found"

    def default_message(self) -> Msg:
        return Msg("The requested item was not found.")


class Conflict(SangsaengError):
    status_code = 409
    code = "conflict"

    def default_message(self) -> Msg:
        return Msg("This conflicts with existing data.")


class TooManyRequests(SangsaengError):
    status_code = 429
    code = "too_many_requests"

    def default_message(self) -> Msg:
        return Msg("Too many attempts. Please try again later.")


class InvalidInput(SangsaengError):
    """Bad input, with a message per field so forms can show each one beside its field."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, fields: dict[str, Msg], message: Msg | None = None) -> None:
        self.fields = fields
        super().__init__(message or Msg("Please check your input."), details=fields)


class CsrfFailed(SangsaengError):
    status_code = 403
    code = "csrf_failed"

    def default_message(self) -> Msg:
        return Msg("The form has expired. Please reload the page and try again.")
