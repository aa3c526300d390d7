"""Gateway test harness: the real simulator, real Redis, a real gRPC conversation (echo policy).

* `conversation` — a small grpc.aio ConversationService on a free port. Its policy echoes the
  guest's text; tests swap the policy, make it fail (UNAVAILABLE) or hold calls on an event.
  Like the real service it is idempotent by message id.
* `sim` — the WhatsApp Cloud API simulator (sims/whatsapp) in-process on a free port.
* `gateway` — a factory starting the real gateway (`register`/`warmup` of posada_gateway.main on
  the common server skeleton) in-process, with its own stream names and consumer so tests sharing
  one Redis do not see each other's entries; `gateway_process` runs it as a subprocess (for kill -9).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from hotel.channel.v1 import channel_service_pb2_grpc
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common.server import ServiceHost
from posada_common.testing import free_port
from posada_gateway.main import SERVICE_NAME, Gateway, register, warmup
from posada_gateway.settings import GatewaySettings
from posada_sim_whatsapp import SimConfig, start_simulator

SECRET = "test-app-secret"
VERIFY = "test-verify-token"
TOKEN = "test-access-token"
PNID = "1098765432101"

Policy = Callable[[m.InboundMessage], list[m.Reply]]


def echo_policy(msg: m.InboundMessage) -> list[m.Reply]:
    if msg.kind == m.MESSAGE_KIND_REACTION:
        return []
    if msg.kind == m.MESSAGE_KIND_AUDIO:
        body = f"audio: {len(msg.media.data)} bytes"
    elif msg.kind in (m.MESSAGE_KIND_INTERACTIVE_REPLY, m.MESSAGE_KIND_TEMPLATE_BUTTON):
        body = f"chose: {msg.interactive_reply.id}"
    else:
        body = f"echo: {msg.text}"
    return [m.Reply(reply_id=f"{msg.message_id}:0", text=m.TextReply(body=body))]


@dataclass
class EchoConversation(conv_grpc.ConversationServiceServicer):
    policy: Policy = echo_policy
    down: bool = False
    fail_next: int = 0
    hold: asyncio.Event | None = None
    calls: list[m.InboundMessage] = field(default_factory=list)
    requests: list[conv_pb2.HandleMessageRequest] = field(default_factory=list)
    # Overrides the echo answer (return None to fall through); a `retry_later` answer is not
    # remembered, like the real service.
    respond: Callable[[conv_pb2.HandleMessageRequest], Any] | None = None
    # Message ids answered UNAVAILABLE until removed (poisoned messages).
    unavailable_for: set[str] = field(default_factory=set)
    deliveries: list[conv_pb2.RecordDeliveryRequest] = field(default_factory=list)
    handled: dict[str, conv_pb2.HandleMessageResponse] = field(default_factory=dict)
    port: int = 0
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    health: Any = None
    tasks: dict[str, conv_pb2.OpenTaskRequest] = field(default_factory=dict)
    tasks_down: bool = False
    # Status code of a failing HandleMessage (UNAVAILABLE: transient; INVALID_ARGUMENT: permanent)
    fail_code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    # conversation id → language OpenTask reports (unknown by default)
    language_of: dict[str, str] = field(default_factory=dict)

    async def HandleMessage(self, request: conv_pb2.HandleMessageRequest, context: Any) -> Any:
        msg = request.message
        self.calls.append(msg)
        self.requests.append(request)
        self.entered.set()
        if self.down or self.fail_next > 0 or msg.message_id in self.unavailable_for:
            self.fail_next = max(0, self.fail_next - 1)
            await context.abort(self.fail_code, "conversation is down (test)")
        if self.hold is not None:
            await self.hold.wait()
        if self.respond is not None:
            custom = self.respond(request)
            if custom is not None:
                if not custom.retry_later:
                    self.handled[msg.message_id] = custom
                return custom
        if msg.message_id in self.handled:
            resp = conv_pb2.HandleMessageResponse()
            resp.CopyFrom(self.handled[msg.message_id])
            resp.duplicate = True
            return resp
        resp = conv_pb2.HandleMessageResponse(
            conversation_id=msg.conversation_id,
            replies=self.policy(msg),
            language="en",
            state=conv_pb2.CONVERSATION_STATE_ACTIVE,
        )
        self.handled[msg.message_id] = resp
        return resp

    async def OpenTask(self, request: conv_pb2.OpenTaskRequest, context: Any) -> Any:
        """Like the real service: one task per idempotency key; answers the known language."""
        if self.tasks_down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "conversation is down (test)")
        if request.idempotency_key not in self.tasks:
            self.tasks[request.idempotency_key] = request
        return conv_pb2.OpenTaskResponse(
            task=conv_pb2.Task(
                task_id=f"t-{len(self.tasks)}",
                conversation_id=request.conversation_id,
                kind=request.kind,
                status=conv_pb2.TASK_STATUS_OPEN,
                description=request.description,
            ),
            language=self.language_of.get(request.conversation_id, ""),
        )

    async def RecordDelivery(self, request: conv_pb2.RecordDeliveryRequest, context: Any) -> Any:
        self.deliveries.append(request)
        return conv_pb2.RecordDeliveryResponse()

    def calls_for(self, message_id: str) -> list[m.InboundMessage]:
        return [c for c in self.calls if c.message_id == message_id]


@pytest.fixture
async def conversation():
    servicer = EchoConversation()
    server = grpc.aio.server()
    conv_grpc.add_ConversationServiceServicer_to_server(servicer, server)
    # Like the real service: the gateway consumes only once this says SERVING.
    health_servicer = health.aio.HealthServicer()
    await health_servicer.set(
        "hotel.conversation.v1.ConversationService", health_pb2.HealthCheckResponse.SERVING
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    servicer.health = health_servicer
    servicer.port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer
    if servicer.hold is not None:
        servicer.hold.set()
    await server.stop(0)


class Sim:
    """The in-process simulator plus its control API."""

    def __init__(self, handle: Any, http: aiohttp.ClientSession):
        self.handle = handle
        self.http = http
        self.base_url = handle.base_url

    async def control(self, method: str, path: str, **kw: Any) -> Any:
        async with self.http.request(method, f"{self.base_url}/sim/{path}", **kw) as resp:
            body = await resp.json(content_type=None)
            assert resp.status < 500, body
            return body

    async def inbound(self, **spec: Any) -> dict:
        return await self.control("POST", "inbound", json=spec)

    async def outbox(self, to: str | None = None, **params: Any) -> list[dict]:
        if to:
            params["to"] = to
        return await self.control("GET", "outbox", params=params)

    async def sent_messages(self, to: str) -> list[dict]:
        """Successful sends (not read receipts) to one guest."""
        rows = await self.outbox(to, endpoint="messages")
        return [r for r in rows if r["response"]["status"] == 200 and r.get("wamid")]

    async def wait_sent(self, to: str, count: int, within: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + within
        while True:
            rows = await self.sent_messages(to)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.05)


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def sim(http):
    handle = await start_simulator(
        SimConfig(
            app_secret=SECRET,
            verify_token=VERIFY,
            access_token=TOKEN,
            phone_number_id=PNID,
            webhook_url="http://127.0.0.1:9/unset",
            status_delay_ms=10,
            webhook_retry_base_ms=50,
            webhook_max_attempts=3,
        )
    )
    yield Sim(handle, http)
    await handle.runner.cleanup()


def guest_number() -> str:
    """A fresh guest per test (keys in the shared Redis are per guest and per message)."""
    return "49151" + str(uuid.uuid4().int)[:8]


def gateway_env(
    tag: str, conversation: EchoConversation, sim: Sim, redis_url: str, **overrides: Any
) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "test",
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": "0",
        "METRICS_PORT": "0",
        "GATEWAY_HTTP_HOST": "127.0.0.1",
        "GATEWAY_HTTP_PORT": "0",
        "MESH_ADDRESS": f"127.0.0.1:{conversation.port}",
        "REDIS_URL": redis_url,
        "WHATSAPP_APP_SECRET": SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY,
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PNID,
        "WHATSAPP_API_BASE": sim.base_url,
        "WHATSAPP_API_VERSION": "v23.0",
        "WHATSAPP_REENGAGEMENT_TEMPLATE": "reengagement",
        "HOTEL_ID": "1",
        "GATEWAY_INBOX_STREAM": f"gw:test:{tag}:inbox",
        "GATEWAY_STATUS_STREAM": f"gw:test:{tag}:status",
        "GATEWAY_DLQ_STREAM": f"gw:test:{tag}:dlq",
        "GATEWAY_CONSUMER_NAME": f"test-{tag}",
        "GATEWAY_WORKER_CONCURRENCY": "4",
        "GATEWAY_MAX_ATTEMPTS": "3",
        "GATEWAY_RETRY_BASE_SECONDS": "0.05",
        "GATEWAY_RETRY_MAX_SECONDS": "0.2",
        "GATEWAY_CLAIM_IDLE_SECONDS": "1.5",
        "GATEWAY_CLAIM_INTERVAL_SECONDS": "0.3",
        "WHATSAPP_PAIR_PER_MINUTE": "0",
        "WHATSAPP_SEND_BACKOFF_SECONDS": "0.02",
        "WHATSAPP_PAIR_BACKOFF_SECONDS": "0.02",
        "WHATSAPP_AUTH_PAUSE_SECONDS": "30",
        "SHUTDOWN_GRACE_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.update({k.upper(): str(v) for k, v in overrides.items()})
    return env


@dataclass
class RunningGateway:
    host: ServiceHost
    gw: Gateway
    grpc_port: int
    sim: Sim

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.gw.http_port}/webhooks/whatsapp"

    def channel(self) -> channel_service_pb2_grpc.ChannelServiceStub:
        ch = grpc.aio.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        return channel_service_pb2_grpc.ChannelServiceStub(ch)

    async def stop(self) -> None:
        await self.host.stop()

    async def crash(self) -> None:
        """Stop without letting the worker acknowledge anything it holds."""
        await self.gw.worker.kill()
        await self.host.stop()


@pytest.fixture
async def gateway(conversation, sim, redis_url, monkeypatch):
    started: list[RunningGateway] = []
    tag = uuid.uuid4().hex[:8]

    async def start(**overrides: Any) -> RunningGateway:
        for key, value in gateway_env(tag, conversation, sim, redis_url, **overrides).items():
            monkeypatch.setenv(key, value)
        settings = GatewaySettings()
        host = ServiceHost(
            settings,
            service_names=[SERVICE_NAME],
            register=register,
            warmup=warmup,
            drain_seconds=0,
        )
        rt = await host.start()
        await host.wait_ready(10)
        running = RunningGateway(host, rt.state["gateway"], rt.port, sim)
        sim.handle.config.webhook_url = running.webhook_url
        started.append(running)
        return running

    yield start
    for running in started:
        with contextlib.suppress(Exception):
            await running.stop()


@dataclass
class GatewayProcess:
    proc: subprocess.Popen
    http_port: int
    grpc_port: int

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _spawn_gateway(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "posada_gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


@pytest.fixture
async def gateway_process(conversation, sim, redis_url, http):
    procs: list[GatewayProcess] = []
    tag = uuid.uuid4().hex[:8]

    async def start(**overrides: Any) -> GatewayProcess:
        http_port, grpc_port = free_port(), free_port()
        env = {
            **os.environ,
            **gateway_env(
                tag,
                conversation,
                sim,
                redis_url,
                gateway_http_port=http_port,
                grpc_port=grpc_port,
                **overrides,
            ),
        }
        log_path = Path(tempfile.gettempdir()) / f"posada-gw-test-{tag}-{len(procs)}.log"
        proc = _spawn_gateway(env, log_path)
        gp = GatewayProcess(proc, http_port, grpc_port)
        procs.append(gp)
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()[-2000:]
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{http_port}/healthz") as resp:
                    if resp.status == 200 and (await resp.json())["ready"]:
                        break
            assert time.monotonic() < deadline, "gateway process did not become ready"
            await asyncio.sleep(0.1)
        sim.handle.config.webhook_url = f"http://127.0.0.1:{http_port}/webhooks/whatsapp"
        return gp

    yield start
    for gp in procs:
        gp.terminate()


async def eventually(
    predicate: Callable[[], Any], within: float = 10.0, interval: float = 0.05
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
