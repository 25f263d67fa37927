"""Result codes of the main API (spec section 4) and the one domain exception.

The domain raises :class:`SimError` carrying a :class:`ResultCode`; the HTTP
layer turns it into the spec's envelope.  ``detail`` is a human explanation that
never enters the JSON body (the spec fixes ``message`` to the symbolic name), but
is returned in the ``X-Sim-Error-Detail`` header and kept in the journal so a
developer can see *why* a call failed.
"""

from __future__ import annotations

from enum import IntEnum


class ResultCode(IntEnum):
    OK = 0
    UNDER_MAINTENANCE = 1
    INTERNAL_SERVER_ERROR = 1001
    VALIDATION_ERROR = 1002
    SERVICE_EXCEPTION = 1003
    RESOURCE_NOT_FOUND = 1005
    TOKEN_NOT_FOUND = 1007
    TOKEN_INVALID = 1009
    PERMISSION_ERROR = 1010
    PROVIDER_ERROR = 1011
    PARAMETERS_INVALID = 1012
    CALLBACK_ERROR = 1015
    SERVER_IS_BUSY = 1018
    IP_NOT_ALLOWED = 1020
    AGENT_NOT_FOUND = 2001
    USER_NOT_FOUND = 2002
    GAME_NOT_FOUND = 2003
    POINT_NOT_ENOUGH = 2005
    BALANCE_NOT_ENOUGH = 2006
    PROVIDER_NOT_FOUND = 2007
    BONUSCALL_DOUBLE = 2011
    # The real service spells it this way; keep the spelling (spec section 4).
    BONUSCALL_ALEADY_ENDED = 2012
    ROUND_NOT_FOUND = 2013
    CURRENCY_NOT_SUPPORTED = 2014
    FREEROUND_NO_EXIST = 2020


class SimError(Exception):
    """A failure the caller can see, expressed as a spec result code.

    ``field_errors`` is only used with ``VALIDATION_ERROR``: a list of
    ``{"field": ..., "message": ...}`` items that become the envelope's ``data``.
    """

    def __init__(
        self,
        code: ResultCode,
        detail: str = "",
        field_errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail or code.name)
        self.code = ResultCode(code)
        self.detail = detail or code.name
        self.field_errors = field_errors

    @classmethod
    def validation(cls, field: str, message: str) -> SimError:
        return cls(ResultCode.VALIDATION_ERROR, message, [{"field": field, "message": message}])
