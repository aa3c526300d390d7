"""aiohttp application: Graph API routes (Meta's side) and the /sim/ control API + chat page."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import time
from importlib import resources
from typing import Any

import aiohttp
from aiohttp import web

from .config import SimConfig
from .errors import GraphError, graph_error_body
from .media import check_upload, sha256_hex, sniff
from .sim import Simulator
from .validate import BSUID_RE, normalize_to, validate_send

SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator", Simulator)
VERSION = r"{version:v\d+\.\d+}"


def _sim(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _check_token(request: web.Request, sim: Simulator) -> None:
    auth = request.headers.get("Authorization", "")
    token = (
        auth[7:].strip() if auth[:7].lower() == "bearer " else request.query.get("access_token", "")
    )
    if not token or not hmac.compare_digest(token.encode(), sim.config.access_token.encode()):
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", subcode=0)


MEDIA_CHUNK = 64 * 1024


def _fault_response(fault: dict) -> web.Response:
    if fault["code"] is None:
        return web.Response(status=fault["http_status"] or 502, text="upstream connect error")
    err = GraphError(fault["code"], fault.get("details"), fault.get("http_status"))
    return err.response()


async def _maybe_delay(fault: dict | None) -> None:
    if fault and fault.get("delay_ms"):
        await asyncio.sleep(fault["delay_ms"] / 1000)


# ---------------------------------------------------------------------------------- Graph API
async def graph_messages(request: web.Request) -> web.Response:
    sim = _sim(request)
    node = request.match_info["node"]
    info: dict[str, Any] = {
        "method": "POST",
        "path": request.path,
        "endpoint": "messages",
        "phone_number_id": node,
        "to": None,
        "type": None,
        "body": None,
        "wamid": None,
    }
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
        info["body"] = raw[:2000].decode("utf-8", "replace")
    else:
        info["body"] = body
    warnings: list[str] = []
    try:
        _check_token(request, sim)
        if node != sim.config.phone_number_id:
            raise GraphError(
                100,
                f"Unsupported post request. Object with ID '{node}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        if not isinstance(body, dict):
            raise GraphError(100, "The request body must be a JSON object.")
        is_read = "status" in body and "to" not in body and "type" not in body
        if is_read:
            info["endpoint"] = "read"
            info["to"] = sim.inbound_wamids.get(str(body.get("message_id")))
        else:
            to, recipient = body.get("to"), body.get("recipient")
            if isinstance(to, str):
                info["to"] = normalize_to(to)
            elif isinstance(recipient, str):
                key = sim.by_user_id.get(recipient)
                info["to"] = key or recipient
            info["type"] = body.get("type", "text")
        fault = sim.take_fault("messages", info["to"], is_read=is_read)
        await _maybe_delay(fault)
        if fault is not None and (fault["mode"] == "sync" or is_read):
            resp = _fault_response(fault)
            sim.record(info, resp.status, _resp_json(resp), fault=fault["id"])
            return resp
        if is_read:
            return _read_receipt(sim, info, body)
        mtype, warnings = validate_send(
            body, lambda mid: sim.live_media(mid) is not None, sim.templates
        )
        response, sent = sim.accept_send(body, mtype, fault)
        info["wamid"] = sent.wamid
        sim.record(info, 200, response, warnings=warnings)
        return web.json_response(response)
    except GraphError as err:
        sim.record(info, err.http_status, err.body(), warnings=warnings)
        return err.response()


def _resp_json(resp: web.Response) -> Any:
    try:
        return json.loads(resp.text or "")
    except ValueError:
        return resp.text


def _read_receipt(sim: Simulator, info: dict, body: dict) -> web.Response:
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    if body.get("status") != "read":
        raise GraphError(100, "Param status must be 'read'.")
    message_id = body.get("message_id")
    if not message_id or not isinstance(message_id, str):
        raise GraphError(100, "The parameter message_id is required.")
    typing = body.get("typing_indicator")
    if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
        raise GraphError(131009, "typing_indicator['type'] must be 'text'.")
    guest = info["to"]
    if guest:
        sim.add_event(guest, dir="read", wamid=message_id)
        if typing is not None:
            sim.add_event(guest, dir="typing", wamid=message_id, until=time.time() + 25)
    response = {"success": True}
    sim.record(info, 200, response)
    return web.json_response(response)


async def graph_media_upload(request: web.Request) -> web.Response:
    sim = _sim(request)
    node = request.match_info["node"]
    info: dict[str, Any] = {
        "method": "POST",
        "path": request.path,
        "endpoint": "media_upload",
        "phone_number_id": node,
        "to": None,
        "type": None,
        "body": None,
        "wamid": None,
    }
    try:
        _check_token(request, sim)
        if node != sim.config.phone_number_id:
            raise GraphError(
                100,
                f"Unsupported post request. Object with ID '{node}' does not exist.",
                subcode=33,
            )
        fault = sim.take_fault("media_upload")
        await _maybe_delay(fault)
        if fault is not None:
            resp = _fault_response(fault)
            sim.record(info, resp.status, _resp_json(resp), fault=fault["id"])
            return resp
        if not request.content_type.startswith("multipart/"):
            raise GraphError(100, "Media upload must be multipart/form-data.")
        form = await request.post()
        file = form.get("file")
        data = b""
        filename = None
        file_ct = None
        if isinstance(file, web.FileField):
            data = file.file.read()
            filename = file.filename
            file_ct = file.content_type
        mime = str(form.get("type") or file_ct or "")
        info["type"] = mime
        info["body"] = {
            "messaging_product": form.get("messaging_product"),
            "type": form.get("type"),
            "file": {
                "filename": filename,
                "content_type": file_ct,
                "size": len(data),
                "sha256": sha256_hex(data),
            }
            if file is not None
            else None,
        }
        if form.get("messaging_product") != "whatsapp":
            raise GraphError(
                100, "The parameter messaging_product is required and must be 'whatsapp'."
            )
        if not isinstance(file, web.FileField):
            raise GraphError(100, "The parameter file is required.")
        if not mime:
            raise GraphError(100, "The parameter type is required.")
        problem = check_upload(mime, data)
        if problem:
            raise GraphError(131053, problem)
        m = sim.store_media(data, mime, "business", filename)
        response = {"id": m.id}
        sim.record(info, 200, response)
        return web.json_response(response)
    except GraphError as err:
        sim.record(info, err.http_status, err.body())
        return err.response()


async def graph_node_get(request: web.Request) -> web.Response:
    sim = _sim(request)
    node = request.match_info["node"]
    is_number = node == sim.config.phone_number_id
    info: dict[str, Any] = {
        "method": "GET",
        "path": request.path_qs,
        "endpoint": "number" if is_number else "media_get",
        "phone_number_id": request.query.get("phone_number_id"),
        "to": None,
        "type": None,
        "body": None,
        "wamid": None,
    }
    try:
        _check_token(request, sim)
        if is_number:
            c = sim.config
            response: dict = {
                "id": c.phone_number_id,
                "display_phone_number": "+" + c.display_phone_number,
                "verified_name": c.verified_name,
                "quality_rating": "GREEN",
                "throughput": {"level": "STANDARD"},
            }
            sim.record(info, 200, response)
            return web.json_response(response)
        fault = sim.take_fault("media_get")
        await _maybe_delay(fault)
        if fault is not None:
            resp = _fault_response(fault)
            sim.record(info, resp.status, _resp_json(resp), fault=fault["id"])
            return resp
        pni = request.query.get("phone_number_id")
        m = sim.live_media(node)
        if m is None or (pni is not None and pni != sim.config.phone_number_id):
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due "
                "to missing permissions, or does not support this operation.",
                subcode=33,
            )
        response = {
            "messaging_product": "whatsapp",
            "url": sim.media_url(_origin(request), m),
            **m.info(),
        }
        sim.record(info, 200, response)
        return web.json_response(response)
    except GraphError as err:
        sim.record(info, err.http_status, err.body())
        return err.response()


async def graph_node_delete(request: web.Request) -> web.Response:
    sim = _sim(request)
    node = request.match_info["node"]
    info: dict[str, Any] = {
        "method": "DELETE",
        "path": request.path_qs,
        "endpoint": "media_delete",
        "phone_number_id": request.query.get("phone_number_id"),
        "to": None,
        "type": None,
        "body": None,
        "wamid": None,
    }
    try:
        _check_token(request, sim)
        m = sim.live_media(node)
        if m is None:
            raise GraphError(
                100,
                f"Unsupported delete request. Object with ID '{node}' does not exist.",
                subcode=33,
            )
        m.deleted = True
        sim.record(info, 200, {"success": True})
        return web.json_response({"success": True})
    except GraphError as err:
        sim.record(info, err.http_status, err.body())
        return err.response()


async def media_download(request: web.Request) -> web.StreamResponse:
    sim = _sim(request)
    mid = request.query.get("mid", "")
    info: dict[str, Any] = {
        "method": "GET",
        "path": request.path_qs,
        "endpoint": "media_download",
        "phone_number_id": None,
        "to": None,
        "type": None,
        "body": None,
        "wamid": None,
    }
    try:
        _check_token(request, sim)
    except GraphError as err:
        sim.record(info, err.http_status, err.body())
        return err.response()
    fault = sim.take_fault("media_download")
    await _maybe_delay(fault)
    if fault is not None and not fault.get("corrupt"):
        resp = _fault_response(fault)
        sim.record(info, resp.status, _resp_json(resp), fault=fault["id"])
        return resp
    m = sim.check_media_url(mid, request.query.get("ext", ""), request.query.get("hash", ""))
    if m is None:
        # Expired or forged URL: resolve the media id again (reference §8.2).
        sim.record(info, 404, "not found")
        return web.Response(status=404, text="URL signature expired")
    data = m.data
    if fault is not None:  # corrupt: same size, one byte changed
        data = bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00"
    sim.record(
        info,
        200,
        {"id": m.id, "mime_type": m.mime_type, "file_size": len(data)},
        fault=fault["id"] if fault is not None else None,
    )
    # Streamed in chunks like a CDN: a client must read to the end, not take the first chunk.
    stream = web.StreamResponse(
        headers={"Content-Type": m.mime_type, "Content-Length": str(len(data))}
    )
    await stream.prepare(request)
    for start in range(0, len(data), MEDIA_CHUNK):
        await stream.write(data[start : start + MEDIA_CHUNK])
        await asyncio.sleep(0)
    await stream.write_eof()
    return stream


# ---------------------------------------------------------------------------------- control API
def _index_html() -> str:
    return resources.files("posada_sim_whatsapp").joinpath("static/index.html").read_text("utf-8")


async def sim_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/sim/")


async def sim_index(request: web.Request) -> web.Response:
    return web.Response(
        text=_index_html(), content_type="text/html", headers={"Cache-Control": "no-store"}
    )


async def sim_health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _int_arg(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be an integer"}),
            content_type="application/json",
        ) from None


async def sim_outbox(request: web.Request) -> web.Response:
    sim = _sim(request)
    records = sim.outbox_query(
        to=request.query.get("to"),
        since=_int_arg(request, "since"),
        endpoint=request.query.get("endpoint"),
        mtype=request.query.get("type"),
        limit=_int_arg(request, "limit"),
    )
    return web.json_response(records)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be JSON"}), content_type="application/json"
        ) from None


async def _wait_first(sim: Simulator, d) -> dict:
    try:
        return await asyncio.wait_for(
            asyncio.shield(d.first), timeout=sim.config.webhook_timeout_s + 2
        )
    except TimeoutError:
        return {"status": None, "error": "timeout"}


async def sim_inbound(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return _bad("body must be an object")
    specs = body.get("batch") if "batch" in body else [body]
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
        return _bad("batch must be a non-empty list of message objects")
    try:
        d, wamids = sim.inbound(specs, sim.config.graph_base or _origin(request))
    except ValueError as exc:
        return _bad(str(exc))
    result: dict[str, Any] = {
        "wamid": wamids[0],
        "wamids": wamids,
        "payload": d.payload,
        "webhook_seq": d.seq,
    }
    if body.get("wait", True):
        first = await _wait_first(sim, d)
        result["delivery"] = {
            "status": first.get("status"),
            "error": first.get("error"),
            "attempts": len(d.attempts),
        }
    return web.json_response(result)


async def sim_webhook_raw(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or ("payload" not in body and "body" not in body):
        return _bad("give 'payload' (JSON) or 'body' (raw string)")
    signature = body.get("signature", "valid")
    if signature not in ("valid", "invalid", "missing"):
        return _bad("signature must be valid, invalid or missing")
    raw = body["body"].encode() if isinstance(body.get("body"), str) else None
    d = sim.deliver(body.get("payload"), "raw", [], raw=raw, retries=False, signature=signature)
    first = await _wait_first(sim, d)
    return web.json_response(
        {"status": first.get("status"), "error": first.get("error"), "webhook_seq": d.seq}
    )


async def sim_verify(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request) if request.can_read_body else {}
    body = body if isinstance(body, dict) else {}
    challenge = str(body.get("challenge") or secrets.randbelow(9_000_000_000) + 1_000_000_000)
    params = {
        "hub.mode": body.get("mode", "subscribe"),
        "hub.challenge": challenge,
        "hub.verify_token": body.get("verify_token", sim.config.verify_token),
    }
    try:
        async with sim.session.get(
            sim.config.webhook_url, params=params, timeout=aiohttp.ClientTimeout(total=10)
        ) as resp:
            text = await resp.text()
            status = resp.status
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return web.json_response(
            {"ok": False, "status": None, "error": str(exc), "challenge": challenge}
        )
    return web.json_response(
        {
            "ok": status == 200 and text == challenge,
            "status": status,
            "body": text[:500],
            "challenge": challenge,
        }
    )


async def sim_media_upload(request: web.Request) -> web.Response:
    sim = _sim(request)
    if not request.content_type.startswith("multipart/"):
        return _bad("multipart/form-data with a 'file' field expected")
    form = await request.post()
    file = form.get("file")
    if not isinstance(file, web.FileField):
        return _bad("missing 'file'")
    data = file.file.read()
    if not data:
        return _bad("empty file")
    mime = str(form.get("type") or file.content_type or sniff(data) or "application/octet-stream")
    m = sim.store_guest_media(data, mime, file.filename)
    return web.json_response(
        {
            "id": m.id,
            "mime_type": m.mime_type,
            "sha256": sha256_hex(m.data),
            "file_size": len(m.data),
        }
    )


async def sim_media_get(request: web.Request) -> web.Response:
    sim = _sim(request)
    m = sim.media.get(request.match_info["media_id"])
    if m is None:
        return _bad("no such media", 404)
    return web.Response(
        body=m.data, headers={"Content-Type": m.mime_type, "Cache-Control": "no-store"}
    )


async def sim_faults_post(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    specs = body.get("faults") if isinstance(body, dict) and "faults" in body else [body]
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        return _bad("a fault object or {'faults': [...]} expected")
    try:
        added = []
        for spec in specs:
            added.append(sim.add_fault(spec))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return web.json_response({"faults": added})


async def sim_faults_get(request: web.Request) -> web.Response:
    return web.json_response({"faults": _sim(request).faults})


async def sim_faults_delete(request: web.Request) -> web.Response:
    _sim(request).faults.clear()
    return web.json_response({"faults": []})


async def sim_templates_post(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    specs = body.get("templates") if isinstance(body, dict) and "templates" in body else [body]
    if not isinstance(specs, list):
        return _bad("'templates' must be a list")
    for spec in specs:
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("language"):
            return _bad("a template needs 'name' and 'language'")
        sim.templates[(spec["name"], spec["language"])] = spec
    return web.json_response({"templates": list(sim.templates.values())})


async def sim_templates_get(request: web.Request) -> web.Response:
    return web.json_response({"templates": list(_sim(request).templates.values())})


async def sim_window(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or not body.get("wa_id"):
        return _bad("'wa_id' required")
    g = sim.guest(wa_id=str(body["wa_id"]))
    value = body.get("last_inbound_at")
    g.last_inbound_at = None if value is None else float(value)
    return web.json_response(g.public())


async def sim_config_get(request: web.Request) -> web.Response:
    return web.json_response(_sim(request).config.public())


async def sim_config_post(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return _bad("object expected")
    rejected = sim.config.update(body)
    if rejected:
        return _bad(f"not changeable at run time or bad value: {rejected}")
    return web.json_response(sim.config.public())


async def sim_webhooks(request: web.Request) -> web.Response:
    sim = _sim(request)
    since = _int_arg(request, "since") or 0
    return web.json_response([d.public() for d in sim.deliveries if d.seq > since])


async def sim_chat(request: web.Request) -> web.Response:
    sim = _sim(request)
    raw_key = request.match_info["guest"]
    key = raw_key if BSUID_RE.match(raw_key) else normalize_to(raw_key)
    after = _int_arg(request, "after") or 0
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        wait = 0.0
    events = await sim.wait_events(key, after, wait)
    g = sim.guests.get(key)
    return web.json_response(
        {
            "guest": g.public() if g else None,
            "events": events,
            "last": max([after] + [e["seq"] for e in events]),
            "business": {
                "name": sim.config.verified_name,
                "number": sim.config.display_phone_number,
            },
        }
    )


async def sim_guests(request: web.Request) -> web.Response:
    return web.json_response([g.public() for g in _sim(request).guests.values()])


async def sim_reset(request: web.Request) -> web.Response:
    await _sim(request).reset()
    return web.json_response({"ok": True})


# ---------------------------------------------------------------------------------- app
@web.middleware
async def graph_errors_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404 and not request.path.startswith("/sim"):
            # Unknown Graph path: Graph answers a JSON error, not an HTML page.
            return web.json_response(
                graph_error_body(100, f"Unknown path components: {request.path}", subcode=0),
                status=400,
            )
        raise


def build_app(config: SimConfig | None = None) -> web.Application:
    sim = Simulator(config or SimConfig.from_env(announce=False))
    app = web.Application(client_max_size=120 * 1024 * 1024, middlewares=[graph_errors_middleware])
    app[SIM_KEY] = sim

    async def on_startup(_: web.Application) -> None:
        await sim.start()

    async def on_cleanup(_: web.Application) -> None:
        await sim.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    r = app.router
    # Graph API (Meta's side)
    r.add_post(f"/{VERSION}/{{node}}/messages", graph_messages)
    r.add_post(f"/{VERSION}/{{node}}/media", graph_media_upload)
    r.add_get(f"/{VERSION}/{{node}}", graph_node_get)
    r.add_delete(f"/{VERSION}/{{node}}", graph_node_delete)
    r.add_get("/whatsapp_business/attachments/", media_download)
    # control API and chat page
    r.add_get("/sim", sim_redirect)
    r.add_get("/sim/", sim_index)
    r.add_get("/sim/healthz", sim_health)
    r.add_get("/sim/outbox", sim_outbox)
    r.add_post("/sim/inbound", sim_inbound)
    r.add_post("/sim/webhook/raw", sim_webhook_raw)
    r.add_post("/sim/verify", sim_verify)
    r.add_post("/sim/media", sim_media_upload)
    r.add_get("/sim/media/{media_id}", sim_media_get)
    r.add_get("/sim/faults", sim_faults_get)
    r.add_post("/sim/faults", sim_faults_post)
    r.add_delete("/sim/faults", sim_faults_delete)
    r.add_get("/sim/templates", sim_templates_get)
    r.add_post("/sim/templates", sim_templates_post)
    r.add_post("/sim/window", sim_window)
    r.add_get("/sim/config", sim_config_get)
    r.add_post("/sim/config", sim_config_post)
    r.add_get("/sim/webhooks", sim_webhooks)
    r.add_get("/sim/chat/{guest}", sim_chat)
    r.add_get("/sim/guests", sim_guests)
    r.add_post("/sim/reset", sim_reset)
    return app


class RunningSimulator:
    """Handle for an in-process simulator (tests, tools)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"
        self.sim: Simulator = runner.app[SIM_KEY]

    @property
    def config(self) -> SimConfig:
        return self.sim.config


async def start_simulator(
    config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if port == 0 else port
    handle = RunningSimulator(runner, host, bound)
    if not handle.config.graph_base:
        handle.config.graph_base = handle.base_url
        handle.sim._startup.graph_base = handle.base_url
    return handle


@contextlib.asynccontextmanager
async def running_simulator(
    config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0
):
    handle = await start_simulator(config, host, port)
    try:
        yield handle
    finally:
        await handle.runner.cleanup()
