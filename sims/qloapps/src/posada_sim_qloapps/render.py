"""Output formats (docs/external-apis/qloapps.md#formats, docs/external-apis/qloapps.md#generic-resources, docs/external-apis/qloapps.md#errors): JSON and XML writers, the error envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from aiohttp import web

XLINK_NS = "http://www.w3.org/1999/xlink"


class WsError(Exception):
    """An error answered with the QloApps error envelope; HTTP status = status of the last error."""

    def __init__(self, status: int, *errors: tuple[int, str]):
        super().__init__(errors[-1][1] if errors else str(status))
        self.status = status
        self.errors = list(errors)


class EmptyNotFound(Exception):
    """Unknown id on GET: 404 with an empty body (both formats)."""


@dataclass
class Ctx:
    json: bool
    base_url: str  # "http://host:port"
    langs: list[int] = field(default_factory=lambda: [1, 2])

    def href(self, resource: str, rid: Any) -> str:
        return f"{self.base_url}/api/{resource}/{rid}"


def wants_json(request: web.Request) -> bool:
    # Precedence per docs/external-apis/qloapps.md#formats; the value must be exactly "JSON" (upper case).
    for value in (
        request.headers.get("Io-Format"),
        request.headers.get("Output-Format"),
        request.query.get("output_format"),
        request.query.get("io_format"),
    ):
        if value is not None:
            return value == "JSON"
    return False


def cdata(value: Any) -> str:
    s = "" if value is None else str(value)
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_doc(inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<qloapps xmlns:xlink="{XLINK_NS}">\n{inner}\n</qloapps>\n'


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def xml_response(inner: str, status: int = 200) -> web.Response:
    return web.Response(
        body=xml_doc(inner).encode(), status=status, content_type="text/xml", charset="utf-8"
    )


def error_response(err: WsError, as_json: bool) -> web.Response:
    if as_json:
        return json_response(
            {"errors": [{"code": c, "message": m} for c, m in err.errors]}, err.status
        )
    items = "".join(
        f"<error>\n<code>{cdata(c)}</code>\n<message>{cdata(m)}</message>\n</error>\n"
        for c, m in err.errors
    )
    return xml_response(f"<errors>\n{items}</errors>", err.status)


# --- generic tree → XML (used by bookings and hotel_ari) ---------------------------------

SINGULAR = {
    "room_types": "room_type",
    "rooms": "room",
    "services": "service",
    "facilities": "facility",
    "cart_rules": "cart_rule",
    "remarks": "remark",
    "child_ages": "child_age",
    "bookings": "booking",
    "hotel_aris": "hotel_ari",
    "detail": "detail",
}


def tree_to_xml(name: str, value: Any, empty_zero: bool = False, attrs: str = "") -> str:
    """Render a JSON-like tree; lists use the singular item name; dicts keyed by ids use
    ``<item id="k">`` (the XML form of objects keyed by id)."""
    if isinstance(value, dict):
        if value and all(str(k).isdigit() for k in value):
            item = SINGULAR.get(name, name.rstrip("s"))
            inner = "".join(
                tree_to_xml(item, v, empty_zero, f' id="{k}"') for k, v in value.items()
            )
        else:
            inner = "".join(tree_to_xml(k, v, empty_zero) for k, v in value.items())
        return f"<{name}{attrs}>{inner}</{name}>"
    if isinstance(value, list):
        item = SINGULAR.get(name, name.rstrip("s"))
        inner = "".join(tree_to_xml(item, v, empty_zero) for v in value)
        return f"<{name}{attrs}>{inner}</{name}>"
    if value is None or value == "":
        value = 0 if empty_zero else ""
    if isinstance(value, bool):
        value = int(value)
    return f"<{name}{attrs}>{cdata(value)}</{name}>"


def attr(v: str) -> str:
    return quoteattr(v)
