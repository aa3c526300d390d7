"""Validation of outbound Graph `messages` payloads against WhatsApp's rules (docs/external-apis/whatsapp.md#sending).

Codes: malformed/unknown top-level parameters → 100; a required nested field missing → 131008;
a value or limit violated → 131009; template problems → 132000/132001/132018. Meta's exact
choice between 100 and 131008/131009 for some fields is not documented; this is the reading
docs/external-apis/whatsapp.md#errors suggests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import GraphError

SEND_TYPES = {
    "text",
    "audio",
    "image",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
}
MEDIA_TYPES = {"audio", "image", "video", "document", "sticker"}
BSUID_RE = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")


def normalize_to(raw: str) -> str:
    """Meta tolerates spaces, hyphens, parentheses and a leading +."""
    return re.sub(r"[\s\-().+]", "", raw)


def _missing(path: str) -> GraphError:
    return GraphError(131008, f"The parameter {path} is required.")


def _invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def _str_len(obj: dict, key: str, path: str, lo: int, hi: int, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None or (value == "" and required):
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, str):
        raise _invalid(f"{path} must be a string.")
    if not lo <= len(value) <= hi:
        raise _invalid(f"{path} length is invalid. Should be between {lo} and {hi} characters.")
    return value


def _obj(body: dict, key: str, path: str | None = None) -> dict:
    value = body.get(key)
    if value is None:
        raise _missing(path or key)
    if not isinstance(value, dict):
        raise GraphError(100, f"Param {path or key} must be a JSON object.")
    return value


def validate_send(
    body: dict,
    media_exists: Callable[[str], bool],
    templates: dict[tuple[str, str], dict] | None = None,
) -> tuple[str, list[str]]:
    """Validate a send; returns (type, warnings). Raises GraphError."""
    warnings: list[str] = []
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    rtype = body.get("recipient_type", "individual")
    if rtype not in ("individual", "group"):
        raise GraphError(100, "Param recipient_type must be 'individual'.")
    to = body.get("to")
    recipient = body.get("recipient")
    if not to and not recipient:
        raise GraphError(100, "The parameter to is required.")
    if to is not None:
        if not isinstance(to, str):
            raise GraphError(100, "Param to must be a string.")
        digits = normalize_to(to)
        if not digits.isdigit() or not 7 <= len(digits) <= 15:
            raise GraphError(100, f"Invalid parameter to: {to!r} is not a phone number.")
        if not to.strip().startswith("+"):
            warnings.append(
                "'to' has no leading '+': Meta may prepend the business number's country code "
                "(docs/external-apis/whatsapp.md#usernames)"
            )
    elif not isinstance(recipient, str) or not BSUID_RE.match(recipient):
        raise GraphError(100, "Param recipient must be a business-scoped user id.")
    mtype = body.get("type", "text")
    if mtype not in SEND_TYPES:
        raise GraphError(100, f"Param type must be one of {sorted(SEND_TYPES)}; got {mtype!r}.")
    ctx = body.get("context")
    if ctx is not None and (not isinstance(ctx, dict) or not ctx.get("message_id")):
        raise _missing("context['message_id']")
    bocd = body.get("biz_opaque_callback_data")
    if bocd is not None and (not isinstance(bocd, str) or len(bocd) > 512):
        raise _invalid("biz_opaque_callback_data must be a string of at most 512 characters.")

    content = _obj(body, mtype)
    if mtype == "text":
        _str_len(content, "body", "text['body']", 1, 4096)
        if "preview_url" in content and not isinstance(content["preview_url"], bool):
            raise _invalid("text['preview_url'] must be a boolean.")
    elif mtype in MEDIA_TYPES:
        _validate_media(mtype, content, media_exists, warnings)
    elif mtype == "location":
        for key in ("latitude", "longitude"):
            if key not in content:
                raise _missing(f"location['{key}']")
            value = content[key]
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise _invalid(f"location['{key}'] must be a number.") from None
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _invalid(f"location['{key}'] must be a number.")
            bound = 90 if key == "latitude" else 180
            if not -bound <= value <= bound:
                raise _invalid(f"location['{key}'] is out of range.")
    elif mtype == "contacts":
        if not isinstance(body.get("contacts"), list) or not body["contacts"]:
            raise _missing("contacts")
    elif mtype == "interactive":
        _validate_interactive(content, media_exists)
    elif mtype == "template":
        _validate_template(content, templates or {})
    elif mtype == "reaction":
        if not content.get("message_id"):
            raise _missing("reaction['message_id']")
        if "emoji" not in content:
            raise _missing("reaction['emoji']")
        emoji = content["emoji"]
        if not isinstance(emoji, str) or len(emoji) > 10:
            raise _invalid("reaction['emoji'] must be a single emoji or empty.")
    return mtype, warnings


def _validate_media(
    mtype: str, content: dict, media_exists: Callable[[str], bool], warnings: list[str]
) -> None:
    has_id, has_link = bool(content.get("id")), bool(content.get("link"))
    if has_id == has_link:
        raise GraphError(131008, f"{mtype} requires exactly one of 'id' or 'link'.")
    if has_id and not media_exists(str(content["id"])):
        raise _invalid(f"{mtype}['id'] {content['id']!r} is not a valid media id.")
    if has_link and not re.match(r"^https?://", str(content["link"])):
        raise _invalid(f"{mtype}['link'] must be an http(s) URL.")
    if mtype == "audio" and "caption" in content:
        warnings.append("audio messages have no caption; Meta ignores or rejects it")
    if "caption" in content:
        if mtype in ("audio", "sticker"):
            pass
        else:
            _str_len(content, "caption", f"{mtype}['caption']", 0, 1024, required=False)


def _validate_header(header: Any, allowed: set[str], media_exists: Callable[[str], bool]) -> None:
    if not isinstance(header, dict):
        raise GraphError(100, "Param interactive['header'] must be a JSON object.")
    htype = header.get("type")
    if htype not in allowed:
        raise _invalid(f"interactive['header']['type'] must be one of {sorted(allowed)}.")
    if htype == "text":
        _str_len(header, "text", "interactive['header']['text']", 1, 60)
    else:
        media = header.get(htype)
        if not isinstance(media, dict):
            raise _missing(f"interactive['header']['{htype}']")
        if bool(media.get("id")) == bool(media.get("link")):
            raise GraphError(131008, "header media requires exactly one of 'id' or 'link'.")
        if media.get("id") and not media_exists(str(media["id"])):
            raise _invalid("header media id is not a valid media id.")


def _validate_interactive(it: dict, media_exists: Callable[[str], bool]) -> None:
    itype = it.get("type")
    if not itype:
        raise _missing("interactive['type']")
    if itype == "button":
        body = _obj(it, "body", "interactive['body']")
        _str_len(body, "text", "interactive['body']['text']", 1, 1024)
        if "header" in it:
            _validate_header(it["header"], {"text", "image", "video", "document"}, media_exists)
        if "footer" in it:
            _str_len(_obj(it, "footer"), "text", "interactive['footer']['text']", 1, 60)
        action = _obj(it, "action", "interactive['action']")
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise _missing("interactive['action']['buttons']")
        if len(buttons) > 3:
            raise _invalid(
                f"Too many buttons: {len(buttons)}. Buttons count should be between 1 and 3."
            )
        ids, titles = set(), set()
        for i, button in enumerate(buttons):
            path = f"interactive['action']['buttons'][{i}]"
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise _invalid(f"{path}['type'] must be 'reply'.")
            reply = button.get("reply")
            if not isinstance(reply, dict):
                raise _missing(f"{path}['reply']")
            bid = _str_len(reply, "id", f"{path}['reply']['id']", 1, 256)
            title = _str_len(reply, "title", f"{path}['reply']['title']", 1, 20)
            if bid in ids:
                raise _invalid(f"Duplicate button id {bid!r}. Button ids must be unique.")
            if title in titles:
                raise _invalid(f"Duplicate button title {title!r}. Button titles must be unique.")
            ids.add(bid)
            titles.add(title)
    elif itype == "list":
        body = _obj(it, "body", "interactive['body']")
        _str_len(body, "text", "interactive['body']['text']", 1, 4096)
        if "header" in it:
            _validate_header(it["header"], {"text"}, media_exists)
        if "footer" in it:
            _str_len(_obj(it, "footer"), "text", "interactive['footer']['text']", 1, 60)
        action = _obj(it, "action", "interactive['action']")
        _str_len(action, "button", "interactive['action']['button']", 1, 20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise _missing("interactive['action']['sections']")
        if len(sections) > 10:
            raise _invalid("Too many sections. Sections count should be between 1 and 10.")
        total, ids = 0, set()
        for s, section in enumerate(sections):
            spath = f"interactive['action']['sections'][{s}]"
            if not isinstance(section, dict):
                raise GraphError(100, f"Param {spath} must be a JSON object.")
            _str_len(section, "title", f"{spath}['title']", 1, 24, required=len(sections) > 1)
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise _missing(f"{spath}['rows']")
            for r, row in enumerate(rows):
                rpath = f"{spath}['rows'][{r}]"
                if not isinstance(row, dict):
                    raise GraphError(100, f"Param {rpath} must be a JSON object.")
                rid = _str_len(row, "id", f"{rpath}['id']", 1, 200)
                _str_len(row, "title", f"{rpath}['title']", 1, 24)
                _str_len(row, "description", f"{rpath}['description']", 0, 72, required=False)
                if rid in ids:
                    raise _invalid(f"Duplicate row id {rid!r}. Row ids must be unique.")
                ids.add(rid)
            total += len(rows)
        if total > 10:
            raise _invalid(f"Too many rows: {total}. Total row count should be between 1 and 10.")
    elif itype == "cta_url":
        _str_len(
            _obj(it, "body", "interactive['body']"), "text", "interactive['body']['text']", 1, 1024
        )
        params = _obj(
            _obj(it, "action", "interactive['action']"),
            "parameters",
            "interactive['action']['parameters']",
        )
        _str_len(
            params, "display_text", "interactive['action']['parameters']['display_text']", 1, 20
        )
        _str_len(params, "url", "interactive['action']['parameters']['url']", 1, 2000)
    elif itype in (
        "product",
        "product_list",
        "catalog_message",
        "flow",
        "location_request_message",
        "address_message",
        "call_permission_request",
    ):
        pass  # accepted, not validated in depth (not used by the hotel bot)
    else:
        raise GraphError(100, f"Param interactive['type'] {itype!r} is not valid.")


_BAD_PARAM = re.compile(r"[\n\t]| {5,}")


def template_params(tpl: dict) -> tuple[list[dict], list[dict]]:
    body_params: list[dict] = []
    buttons: list[dict] = []
    for comp in tpl.get("components") or []:
        if not isinstance(comp, dict):
            raise GraphError(100, "Param template['components'] items must be objects.")
        if comp.get("type") == "body":
            body_params.extend(p for p in comp.get("parameters") or [] if isinstance(p, dict))
        elif comp.get("type") == "button":
            buttons.append(comp)
    return body_params, buttons


def _validate_template(tpl: dict, templates: dict[tuple[str, str], dict]) -> None:
    name = tpl.get("name")
    if not name:
        raise _missing("template['name']")
    lang = tpl.get("language")
    if not isinstance(lang, dict) or not lang.get("code"):
        raise _missing("template['language']['code']")
    body_params, _ = template_params(tpl)
    for comp in tpl.get("components") or []:
        for p in comp.get("parameters") or []:
            if (
                isinstance(p, dict)
                and p.get("type") == "text"
                and _BAD_PARAM.search(str(p.get("text", "")))
            ):
                raise GraphError(132018)
    if not templates:
        return  # no registry: accept any template name (lenient dev default)
    spec = templates.get((name, lang["code"]))
    if spec is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {lang['code']}")
    expected = spec.get("body_params", 0)
    if isinstance(expected, list):
        if len(body_params) != len(expected):
            raise GraphError(
                132000, f"expected {len(expected)} body parameters, got {len(body_params)}"
            )
        for p in body_params:
            if not p.get("parameter_name"):
                raise GraphError(100, "Parameter name is missing or empty")
    elif len(body_params) != int(expected):
        raise GraphError(132000, f"expected {expected} body parameters, got {len(body_params)}")
