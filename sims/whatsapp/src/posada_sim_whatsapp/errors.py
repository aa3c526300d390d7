"""Graph API errors in Meta's shape (docs/external-apis/whatsapp.md#errors)."""

from __future__ import annotations

import json
import secrets

from aiohttp import web

# code -> (title, default details, default HTTP status, default fault mode)
CATALOGUE: dict[int, tuple[str, str, int, str]] = {
    0: ("AuthException", "We were unable to authenticate the app user.", 401, "sync"),
    1: ("API Unknown", "An unknown error occurred.", 500, "sync"),
    2: ("API Service", "Service temporarily unavailable.", 503, "sync"),
    4: ("API Too Many Calls", "The app has reached its API call rate limit.", 400, "sync"),
    10: ("Permission Denied", "Permission is either not granted or has been removed.", 403, "sync"),
    100: ("Invalid parameter", "Invalid parameter.", 400, "sync"),
    190: (
        "Error validating access token: Session has expired",
        "The access token has expired.",
        401,
        "sync",
    ),
    368: (
        "Temporarily blocked for policies violations",
        "Blocked for policy violations.",
        400,
        "sync",
    ),
    130429: (
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number in a short period of time.",
        400,
        "sync",
    ),
    131000: (
        "Something went wrong",
        "Message failed to send due to an unknown error.",
        500,
        "sync",
    ),
    131008: ("Required parameter is missing", "A required parameter is missing.", 400, "sync"),
    131009: ("Parameter value is not valid", "A parameter value is not valid.", 400, "sync"),
    131016: ("Service unavailable", "A service is temporarily unavailable.", 503, "sync"),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. The recipient may not be a WhatsApp user or may be using an old client.",
        400,
        "async",
    ),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        400,
        "async",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "Meta chose not to deliver this message.",
        400,
        "async",
    ),
    131051: ("Message type unknown", "Message type is currently not supported.", 400, "sync"),
    131053: ("Media upload error", "Unable to upload the media used in the message.", 400, "sync"),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        400,
        "sync",
    ),
    131057: (
        "Account in maintenance mode",
        "Business Account is in maintenance mode.",
        400,
        "sync",
    ),
    132000: (
        "Number of parameters does not match the expected number of params",
        "The number of template parameters does not match.",
        400,
        "sync",
    ),
    132001: (
        "Template name does not exist in the translation",
        "The template does not exist in the requested language.",
        400,
        "sync",
    ),
    132018: (
        "There was an issue with the parameters in your template.",
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces.",
        400,
        "sync",
    ),
}

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")[:20]


def graph_error_body(code: int, details: str | None = None, subcode: int | None = None) -> dict:
    title, default_details, _, _ = CATALOGUE.get(
        code, ("Unknown error", "Unknown error.", 400, "sync")
    )
    err: dict = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or default_details},
        "fbtrace_id": fbtrace_id(),
    }
    if code == 190:
        # Token errors are plain Graph errors: subcode 463 = expired (docs/external-apis/whatsapp.md#errors).
        err["message"] = details or "Error validating access token: Session has expired."
        err.pop("error_data")
        if subcode is None:
            err["error_subcode"] = 463
        elif subcode:
            err["error_subcode"] = subcode
    elif subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


def http_status_for(code: int) -> int:
    return CATALOGUE.get(code, ("", "", 400, "sync"))[2]


def default_mode(code: int) -> str:
    return CATALOGUE.get(code, ("", "", 400, "sync"))[3]


def status_error(code: int, details: str | None = None) -> dict:
    """The error object carried by a `failed` status webhook (docs/external-apis/whatsapp.md#status-webhooks)."""
    title, default_details, _, _ = CATALOGUE.get(
        code, ("Unknown error", "Unknown error.", 400, "async")
    )
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or default_details},
        "href": ERROR_HREF,
    }


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        details: str | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
    ) -> None:
        super().__init__(f"({code}) {details or ''}")
        self.code = code
        self.details = details
        self.http_status = http_status or http_status_for(code)
        self.subcode = subcode

    def body(self) -> dict:
        return graph_error_body(self.code, self.details, self.subcode)

    def response(self) -> web.Response:
        return web.Response(
            status=self.http_status,
            text=json.dumps(self.body()),
            content_type="application/json",
            headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
            if self.code == 190
            else None,
        )
