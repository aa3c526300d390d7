"""The generic (ObjectModel) engine: GET with display/filter/sort/limit/language, XML writes."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import secrets
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from . import store
from .render import (
    Ctx,
    EmptyNotFound,
    WsError,
    attr,
    cdata,
    json_response,
    xml_response,
)
from .schema import F, Resource

DATE_FIELDS = ("date_add", "date_upd")


# --- scalar rendering ------------------------------------------------------------------


def scalar(field: F, v: Any) -> str:
    """QloApps 1.6.x (PHP < 8) renders every column except ``id`` as a string."""
    if v is None:
        return ""
    if field.kind == "float":
        try:
            return f"{float(v):.6f}"
        except (TypeError, ValueError):
            return str(v)
    if field.kind in ("int", "bool"):
        try:
            return str(int(v))
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def i18n_values(v: Any) -> dict[str, str]:
    if v is None or v == "":
        return {}
    try:
        d = json.loads(v)
    except (TypeError, ValueError):
        return {"1": str(v)}
    return (
        {str(k): ("" if x is None else str(x)) for k, x in d.items()}
        if isinstance(d, dict)
        else {"1": str(d)}
    )


def i18n_json(v: Any, langs: list[int]) -> Any:
    vals = i18n_values(v)
    if len(langs) == 1:
        return vals.get(str(langs[0]), "")
    return [{"id": str(lg), "value": vals.get(str(lg), "")} for lg in langs]


# --- query parsing ---------------------------------------------------------------------


def split_top(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if depth != 0:
        raise ValueError("unbalanced")
    out.append(cur)
    return [x.strip() for x in out]


def parse_display(res: Resource, raw: str) -> tuple[list[str], dict[str, list[str] | None]]:
    """Return (fields, associations) to display. 'full' → every field and association."""
    if raw == "full":
        return ["id", *res.field_names], {a.name: None for a in res.associations}
    if not (raw.startswith("[") and raw.endswith("]")):
        raise WsError(
            400,
            (
                36,
                "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. These are available: "
                + ", ".join(["id", *res.field_names]),
            ),
        )
    try:
        items = split_top(raw[1:-1])
    except ValueError:
        raise WsError(400, (36, "The 'display' syntax is wrong.")) from None
    fields: list[str] = []
    assocs: dict[str, list[str] | None] = {}
    names = {a.name for a in res.associations}
    for item in items:
        match = re.fullmatch(r"(\w+)\[([\w,]*)\]", item)
        if match:
            if match.group(1) not in names:
                raise WsError(
                    400,
                    (
                        35,
                        f'Unable to display this field "{match.group(1)}". However, these are available: '
                        + ", ".join(sorted(names)),
                    ),
                )
            assocs[match.group(1)] = [x for x in match.group(2).split(",") if x]
            continue
        if not re.fullmatch(r"\w+", item):
            raise WsError(400, (36, "The 'display' syntax is wrong."))
        if item != "id" and res.field(item) is None:
            if item in names:
                assocs[item] = None
                continue
            raise WsError(
                400,
                (
                    35,
                    f'Unable to display this field "{item}". However, these are available: '
                    + ", ".join(["id", *res.field_names]),
                ),
            )
        fields.append(item)
    if "id" not in fields:
        fields.insert(0, "id")
    return fields, assocs


def parse_languages(conn: sqlite3.Connection, raw: str | None) -> list[int]:
    all_langs = [
        r["id"] for r in conn.execute("SELECT id FROM ws_languages WHERE active = 1 ORDER BY id")
    ]
    if raw is None:
        return all_langs
    try:
        if raw.startswith("[") and raw.endswith("]"):
            inner = raw[1:-1]
            if "," in inner:
                a, b = (int(x) for x in inner.split(","))
                langs = [x for x in all_langs if a <= x <= b]
            else:
                langs = [int(x) for x in inner.split("|")]
        else:
            langs = [int(raw)]
    except ValueError:
        raise WsError(400, (79, f'Language "{raw}" is not correctly formatted')) from None
    for lg in langs:
        if lg not in all_langs:
            raise WsError(400, (80, f'Language "{lg}" doesn\'t exist'))
    return langs


NUMERIC_RANGE = re.compile(r"[\d.:\- ]+")


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _eq(a: Any, b: str) -> bool:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    # MySQL's default *_ci collations compare case-insensitively.
    return str("" if a is None else a).lower() == b.lower()


def _cmp(a: Any, b: str) -> int:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    sa, sb = str("" if a is None else a).lower(), b.lower()
    return (sa > sb) - (sa < sb)


def parse_filter(raw: str) -> Callable[[Any], bool]:
    if raw == "":
        raise ValueError("empty")
    match = re.fullmatch(r"\[(.*)\]%", raw)
    if match:
        s = match.group(1).lower()
        return lambda v: str(v or "").lower().startswith(s)
    match = re.fullmatch(r"%\[(.*)\]%", raw)
    if match:
        s = match.group(1).lower()
        return lambda v: s in str(v or "").lower()
    match = re.fullmatch(r"%\[(.*)\]", raw)
    if match:
        s = match.group(1).lower()
        return lambda v: str(v or "").lower().endswith(s)
    match = re.fullmatch(r"([<>!])\[(.*)\]", raw, re.S)
    if match:
        op, val = match.group(1), match.group(2)
        if op == ">":
            return lambda v: v is not None and v != "" and _cmp(v, val) > 0
        if op == "<":
            return lambda v: v is not None and v != "" and _cmp(v, val) < 0
        parts = val.split("|")
        return lambda v: all(not _eq(v, p) for p in parts)
    match = re.fullmatch(r"\[(.*)\]", raw, re.S)
    if match:
        inner = match.group(1)
        if "|" in inner:
            parts = inner.split("|")
            return lambda v: any(_eq(v, p) for p in parts)
        if "," in inner:
            lo, _, hi = inner.partition(",")
            if NUMERIC_RANGE.fullmatch(lo) and NUMERIC_RANGE.fullmatch(hi):
                return lambda v: v not in (None, "") and _cmp(v, lo) >= 0 and _cmp(v, hi) <= 0
        return lambda v: _eq(v, inner)
    return lambda v: _eq(v, raw)


def build_filters(
    res: Resource, query: Any, langs: list[int]
) -> list[Callable[[sqlite3.Row], bool]]:
    preds: list[Callable[[sqlite3.Row], bool]] = []
    allow_dates = query.get("date") == "1"
    for key, raw in query.items():
        match = re.fullmatch(r"filter\[(\w+)\]", key)
        if not match:
            continue
        name = match.group(1)
        field = res.field(name)
        if name != "id" and (field is None or (name in DATE_FIELDS and not allow_dates)):
            candidates = ["id", *[x.name for x in res.fields if not x.virtual]]
            close = difflib.get_close_matches(name, candidates, n=1)
            hint = f' Did you mean: "{close[0]}"?' if close else ""
            raise WsError(
                400,
                (
                    32,
                    f'This filter does not exist.{hint} The full list is: "'
                    + '", "'.join(candidates)
                    + '"',
                ),
            )
        if field is not None and field.virtual:
            raise WsError(
                400,
                (
                    34,
                    f'The field "{name}" is dynamic. It is not possible to filter GET query with this field.',
                ),
            )
        try:
            pred = parse_filter(raw)
        except ValueError:
            raise WsError(400, (33, f'The filter "{name}" is malformed.')) from None
        preds.append(_row_pred(name, pred, langs if field is not None and field.i18n else None))
    return preds


def _row_pred(
    name: str, pred: Callable[[Any], bool], langs: list[int] | None
) -> Callable[[sqlite3.Row], bool]:
    if langs is not None:  # i18n field: match in any language in scope
        return lambda row: any(pred(i18n_values(row[name]).get(str(lg), "")) for lg in langs)
    return lambda row: pred(row[name])


def parse_sort(res: Resource, raw: str) -> list[tuple[str, bool]]:
    inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    out = []
    for part in inner.split(","):
        match = re.fullmatch(r"(\w+)_(ASC|DESC)", part.strip())
        if not match:
            raise WsError(
                400,
                (
                    37,
                    "The 'sort' value has to be formed as this example: 'field_ASC' or '[field_1_DESC,field_2_ASC,field_3_ASC,...]' ('field' has to be an available field)",
                ),
            )
        field = res.field(match.group(1))
        if match.group(1) != "id" and (field is None or field.virtual):
            raise WsError(
                400,
                (
                    38,
                    f"Unable to filter by this field. However, these are available: {', '.join(['id', *[x.name for x in res.fields if not x.virtual]])}",
                ),
            )
        out.append((match.group(1), match.group(2) == "DESC"))
    return out


def parse_limit(raw: str) -> tuple[int, int | None]:
    inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    parts = inner.split(",")
    if len(parts) > 2 or not all(p.strip().isdigit() for p in parts):
        raise WsError(
            400, (39, 'The "limit" value has to be formed as this example: "5,25" or "10"')
        )
    if len(parts) == 1:
        return 0, int(parts[0])
    return int(parts[0]), int(parts[1])


# --- object building -------------------------------------------------------------------


def assoc_items(
    conn: sqlite3.Connection, res: Resource, rid: int
) -> dict[str, list[dict[str, str]]]:
    out = {}
    for a in res.associations:
        rows = conn.execute(a.sql, {"id": rid}).fetchall()
        if rows:
            out[a.name] = [{k: str(r[k]) for k in r.keys()} for r in rows]  # noqa: SIM118 (sqlite3.Row)
    return out


def obj_json(
    conn: sqlite3.Connection,
    res: Resource,
    row: sqlite3.Row,
    fields: list[str],
    assocs: Mapping[str, list[str] | None],
    langs: list[int],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        if name == "id":
            out["id"] = int(row["id"])
            continue
        field = res.field(name)
        assert field is not None
        out[name] = i18n_json(row[name], langs) if field.i18n else scalar(field, row[name])
    if assocs:
        items = assoc_items(conn, res, int(row["id"]))
        shown = {k: v for k, v in items.items() if k in assocs}
        if shown:
            out["associations"] = shown
    return out


def obj_xml(
    conn: sqlite3.Connection,
    res: Resource,
    row: sqlite3.Row,
    fields: list[str],
    assocs: Mapping[str, list[str] | None],
    ctx: Ctx,
) -> str:
    parts = []
    for name in fields:
        if name == "id":
            parts.append(f"<id>{cdata(row['id'])}</id>")
            continue
        field = res.field(name)
        assert field is not None
        if field.i18n:
            vals = i18n_values(row[name])
            langs = "".join(
                f'<language id="{lg}" xlink:href={attr(ctx.href("languages", lg))}>{cdata(vals.get(str(lg), ""))}</language>'
                for lg in ctx.langs
            )
            parts.append(f"<{name}>{langs}</{name}>")
        elif field.xlink and row[name] not in (None, "", 0):
            parts.append(
                f"<{name} xlink:href={attr(ctx.href(field.xlink, row[name]))}>{cdata(scalar(field, row[name]))}</{name}>"
            )
        else:
            parts.append(f"<{name}>{cdata(scalar(field, row[name]))}</{name}>")
    if assocs:
        items = assoc_items(conn, res, int(row["id"]))
        a_parts = []
        for a in res.associations:
            if a.name not in assocs:
                continue
            lst = items.get(a.name, [])
            inner = "".join(
                f"<{a.item} xlink:href={attr(ctx.href(a.api, it['id']))}><id>{cdata(it['id'])}</id></{a.item}>"
                for it in lst
            )
            a_parts.append(f'<{a.name} nodeType="{a.item}" api="{a.api}">{inner}</{a.name}>')
        parts.append("<associations>" + "".join(a_parts) + "</associations>")
    return f"<{res.singular}>\n" + "\n".join(parts) + f"\n</{res.singular}>"


# --- GET -------------------------------------------------------------------------------


def schema_response(res: Resource, kind: str, ctx: Ctx) -> web.Response:
    if kind not in ("blank", "synopsis"):
        raise WsError(
            400,
            (
                28,
                "Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, which kind of content...) or 'blank' to get an empty schema to fill before using POST request",
            ),
        )
    if ctx.json:
        obj: dict[str, Any] = {"id": ""}
        for field in res.fields:
            if kind == "synopsis":
                d: dict[str, Any] = {"format": field.kind}
                if field.required:
                    d["required"] = "true"
                if field.readonly:
                    d["read_only"] = "true"
                if field.virtual:
                    d["notFilterable"] = "true"
                obj[field.name] = d
            else:
                obj[field.name] = (
                    [{"id": str(lg), "value": ""} for lg in ctx.langs] if field.i18n else ""
                )
        if res.associations:
            obj["associations"] = {a.name: [{"id": ""}] for a in res.associations}
        return json_response({res.singular: obj})
    parts = []
    for field in res.fields:
        attrs = ""
        if kind == "synopsis":
            attrs = (
                f' format="{field.kind}"'
                + (' required="true"' if field.required else "")
                + (' read_only="true"' if field.readonly else "")
                + (' notFilterable="true"' if field.virtual else "")
            )
        if field.i18n:
            langs = "".join(f'<language id="{lg}"></language>' for lg in ctx.langs)
            parts.append(f"<{field.name}{attrs}>{langs}</{field.name}>")
        else:
            parts.append(f"<{field.name}{attrs}></{field.name}>")
    return xml_response(
        f"<{res.singular}>\n<id></id>\n" + "\n".join(parts) + f"\n</{res.singular}>"
    )


def get(
    conn: sqlite3.Connection, res: Resource, rid: str | None, query: Any, ctx: Ctx
) -> web.Response:
    ctx.langs = parse_languages(conn, query.get("language"))
    if "schema" in query:
        return schema_response(res, query["schema"], ctx)
    display_raw = query.get("display")
    if rid is not None:
        if not rid.isdigit():
            raise WsError(400, (92, f"Invalid ID: {rid}"))
        row = conn.execute(f"SELECT * FROM {res.table} WHERE id = ?", (int(rid),)).fetchone()
        if row is None:
            raise EmptyNotFound()
        fields, assocs = (
            parse_display(res, display_raw)
            if display_raw
            else (["id", *res.field_names], {a.name: None for a in res.associations})
        )
        if ctx.json:
            obj = obj_json(conn, res, row, fields, assocs, ctx.langs)
            # Quirk (docs/external-apis/qloapps.md#generic-resources): with any `display` on a detail call, the wrapper is the plural key
            # with a one-element array.
            return json_response(
                {res.plural: [obj]} if display_raw is not None else {res.singular: obj}
            )
        body = obj_xml(conn, res, row, fields, assocs, ctx)
        if display_raw is not None:
            body = f"<{res.plural}>\n{body}\n</{res.plural}>"
        return xml_response(body)

    preds = build_filters(res, query, ctx.langs)
    rows = conn.execute(f"SELECT * FROM {res.table} ORDER BY id").fetchall()
    rows = [r for r in rows if all(p(r) for p in preds)]
    if "sort" in query:
        for name, desc in reversed(parse_sort(res, query["sort"])):
            kind = "int" if name == "id" else res.field(name).kind  # type: ignore[union-attr]

            def key(r: sqlite3.Row, n: str = name, k: str = kind) -> Any:
                v = r[n]
                if k in ("int", "bool", "float"):
                    return (0, float(v or 0))
                return (1, str(v or "").lower())

            rows.sort(key=key, reverse=desc)
    if "limit" in query:
        off, n = parse_limit(query["limit"])
        rows = rows[off : off + n] if n is not None else rows[off:]
    if display_raw is None:
        fields, assocs = ["id"], {}
    else:
        fields, assocs = parse_display(res, display_raw)
    if ctx.json:
        if not rows:
            return json_response([])  # Quirk: empty list is a bare []
        return json_response(
            {res.plural: [obj_json(conn, res, r, fields, assocs, ctx.langs) for r in rows]}
        )
    if display_raw is None:
        inner = "\n".join(
            f'<{res.singular} id="{r["id"]}" xlink:href={attr(ctx.href(res.name, r["id"]))}/>'
            for r in rows
        )
    else:
        inner = "\n".join(obj_xml(conn, res, r, fields, assocs, ctx) for r in rows)
    return xml_response(f"<{res.plural}>\n{inner}\n</{res.plural}>")


# --- writes ----------------------------------------------------------------------------


def parse_xml_body(body: bytes) -> ET.Element:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("xml="):
        text = text[4:]
    if not text:
        raise WsError(500, (127, "XML error : String could not be parsed as XML"))
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise WsError(500, (127, f"XML error : String could not be parsed as XML\n{exc}")) from None
    return root


def _entity(root: ET.Element, res: Resource) -> ET.Element:
    # The root element name is not checked; the first child is the object.
    children = list(root)
    if not children:
        raise WsError(500, (127, "XML error : no object found in the XML body"))
    return children[0]


def _coerce(conn: sqlite3.Connection, res: Resource, field: F, el: ET.Element) -> Any:
    if field.i18n:
        vals = {}
        for lang in el.findall("language"):
            vals[str(lang.get("id", "1"))] = (lang.text or "").strip()
        if not vals and (el.text or "").strip():
            vals["1"] = (el.text or "").strip()
        return vals
    text = (el.text or "").strip()
    if field.kind in ("int", "bool"):
        if text == "":
            return 0
        if not re.fullmatch(r"-?\d+", text):
            raise WsError(
                400, (85, f'Validation error: "Property {res.singular}->{field.name} is not valid"')
            )
        return int(text)
    if field.kind == "float":
        if text == "":
            return 0.0
        try:
            return float(text)
        except ValueError:
            raise WsError(
                400, (85, f'Validation error: "Property {res.singular}->{field.name} is not valid"')
            ) from None
    return text


def _missing_i18n(v: Any) -> bool:
    return not v or not any(x for x in v.values())


def write(
    conn: sqlite3.Connection,
    res: Resource,
    rid: str | None,
    body: bytes,
    ctx: Ctx,
    method: str,
    hooks: Any,
) -> web.Response:
    stripped = body.lstrip()
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        # JSON bodies are parsed by SimpleXML and fail (docs/external-apis/qloapps.md#formats).
        raise WsError(500, (127, "XML error : String could not be parsed as XML"))
    root = parse_xml_body(body)
    el = _entity(root, res)
    present = {c.tag: c for c in el}
    if method == "POST" and "id" in present:
        raise WsError(400, (91, "id is forbidden when adding a new resource"))
    existing = None
    if method == "PUT":
        ids = el.findall("id")
        if not ids:
            raise WsError(400, (90, "id is required when modifying a resource"))
        if len(ids) > 1:
            raise WsError(400, (89, "id is duplicate in request"))
        put_id = (ids[0].text or "").strip()
        if rid is not None and put_id != rid:
            raise WsError(400, (89, "id is duplicate in request"))
        existing = conn.execute(f"SELECT * FROM {res.table} WHERE id = ?", (put_id,)).fetchone()
        if existing is None:
            raise WsError(404, (92, f"Invalid ID: {put_id}"))
    values: dict[str, Any] = {}
    for field in res.fields:
        if field.name in present:
            if field.readonly:
                raise WsError(
                    400,
                    (
                        93,
                        f'parameter "{field.name}" not writable. Please remove this attribute of this XML',
                    ),
                )
            values[field.name] = _coerce(conn, res, field, present[field.name])
    # Resource specific pre-processing (customers' password, hotel_rooms.id_hotel, ...).
    hooks.before_write(conn, res, method, values, existing)
    for field in res.fields:
        if field.readonly:
            continue
        v = values.get(field.name)
        missing = (field.name not in values) or (
            _missing_i18n(v) if field.i18n else v in (None, "")
        )
        if field.required and missing:
            raise WsError(400, (41, f'parameter "{field.name}" required'))
        if field.name not in values:
            # PUT replaces everything: absent fields are emptied (docs/external-apis/qloapps.md#generic-resources).
            values[field.name] = {} if field.i18n else field.default
    ts = store.now_str()
    if res.field("date_upd"):
        values["date_upd"] = ts
    with store.tx(conn):
        if method == "POST":
            if res.field("date_add"):
                values["date_add"] = ts
            new_id = store.insert(conn, res.table, values)
        else:
            assert existing is not None
            new_id = int(existing["id"])
            store.update(conn, res.table, new_id, values)
        hooks.after_write(conn, res, method, new_id, existing)
    row = conn.execute(f"SELECT * FROM {res.table} WHERE id = ?", (new_id,)).fetchone()
    fields = ["id", *res.field_names]
    assocs = {a.name: None for a in res.associations}
    status = 201 if method == "POST" else 200
    if ctx.json:
        return json_response(
            {res.singular: obj_json(conn, res, row, fields, assocs, ctx.langs)}, status
        )
    return xml_response(obj_xml(conn, res, row, fields, assocs, ctx), status)


def delete(conn: sqlite3.Connection, res: Resource, rid: str | None, query: Any) -> web.Response:
    if rid is not None:
        ids = [rid]
    else:
        raw = query.get("id", "")
        ids = [x for x in raw.strip("[]").split(",") if x]
        if not ids:
            raise WsError(400, (87, "You have to set an ID or a list of IDs"))
    if not all(x.isdigit() for x in ids):
        raise WsError(400, (87, "Invalid ID"))
    found = [
        r["id"]
        for r in conn.execute(
            f"SELECT id FROM {res.table} WHERE id IN ({','.join('?' for _ in ids)})", ids
        )
    ]
    missing = [x for x in ids if int(x) not in found]
    if missing:
        raise WsError(404, (87, f"Id(s) not exists: {', '.join(missing)}"))
    with store.tx(conn):
        conn.execute(f"DELETE FROM {res.table} WHERE id IN ({','.join('?' for _ in ids)})", ids)
    return web.Response(status=200)


def hash_password(pw: str) -> str:
    return hashlib.sha256(pw.encode()).hexdigest()


def new_secure_key() -> str:
    return secrets.token_hex(16)
