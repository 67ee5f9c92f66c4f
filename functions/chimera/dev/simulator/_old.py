"""A loopback server that speaks the Groq and Gemini streaming wire protocols.

The real SDKs reach it through ``GROQ_BASE_URL`` / ``GOOGLE_GEMINI_BASE_URL``, so everything from
the SDK's HTTP client to our SSE encoder runs for real. Scenarios (queued per provider, one per
request) inject what real providers do: 429 with ``retry-after``, 5xx, slow or stalled tokens,
dropped connections, malformed chunks. Answers are deterministic: ``simulated_answer`` tells a test
exactly what text to expect.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import uvicorn
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SimProvider = Literal["groq", "gemini"]
GROQ_MODELS = frozenset({"llama-3.3-70b-versatile", "llama-3.1-8b-instant"})
_WORDS = (
    "streaming tokens arrive one by one while the simulator pretends to think about your question "
    "and answers with calm deterministic words so every test knows exactly what to expect next"
).split()


class Scenario(BaseModel):
    """How the simulator answers one request. Unset fields take the simulator's defaults."""

    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, description="answer with this HTTP error instead")
    retry_after_s: float | None = None
    tokens: int | None = Field(default=None, ge=0)
    first_token_delay_s: float | None = Field(default=None, ge=0)
    token_delay_s: float | None = Field(default=None, ge=0)
    drop_after: int | None = Field(default=None, ge=0, description="cut the connection after N tokens")
    malformed_after: int | None = Field(default=None, ge=0, description="send a broken chunk after N tokens")
    stall_after: int | None = Field(default=None, ge=0, description="go silent after N tokens")
    remaining_requests: int | None = Field(default=None, ge=0, description="x-ratelimit-remaining-requests")


@dataclass
class SimulatorDefaults:
    tokens: int = 24
    first_token_delay_s: float = 0.02
    token_delay_s: float = 0.015


@dataclass(frozen=True)
class SeenRequest:
    provider: SimProvider
    model: str
    prompt: str


@dataclass
class SimulatorState:
    defaults: SimulatorDefaults = field(default_factory=SimulatorDefaults)
    queues: dict[str, deque[Scenario]] = field(default_factory=lambda: {"groq": deque(), "gemini": deque()})
    seen: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, provider: SimProvider, *scenarios: Scenario) -> None:
        with self.lock:
            self.queues[provider].extend(scenarios)

    def reset(self) -> None:
        with self.lock:
            for queue in self.queues.values():
                queue.clear()
            self.seen.clear()
            self.defaults = SimulatorDefaults()

    def next_scenario(self, provider: SimProvider, model: str, prompt: str) -> Scenario:
        with self.lock:
            self.seen.append(SeenRequest(provider=provider, model=model, prompt=prompt))
            queue = self.queues[provider]
            return queue.popleft() if queue else Scenario()

    def requests_to(self, provider: SimProvider) -> list[SeenRequest]:
        with self.lock:
            return [r for r in self.seen if r.provider == provider]


def simulated_tokens(prompt: str, count: int) -> list[str]:
    """The answer to ``prompt`` as the list of tokens the simulator streams."""
    start = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) % len(_WORDS)
    tokens = [("" if i == 0 else " ") + _WORDS[(start + i) % len(_WORDS)] for i in range(count)]
    if tokens:
        tokens[0] = tokens[0].capitalize()
    return tokens


def simulated_answer(prompt: str, count: int = SimulatorDefaults.tokens) -> str:
    return "".join(simulated_tokens(prompt, count))


def prompt_token_count(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts) + 4 * len(texts)  # a few tokens of framing per message


class _DropConnection(Exception):
    """Raised inside a streaming body: uvicorn then cuts the connection mid-response."""


class _QuietDrops(logging.Filter):
    """A scripted drop is not an error worth a traceback in the test output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _DropConnection))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass(frozen=True)
class _Plan:
    scenario: Scenario
    tokens: list[str]
    first_delay: float
    delay: float


def _plan(state: SimulatorState, scenario: Scenario, prompt: str) -> _Plan:
    d = state.defaults
    count = d.tokens if scenario.tokens is None else scenario.tokens
    return _Plan(
        scenario=scenario,
        tokens=simulated_tokens(prompt, count),
        first_delay=d.first_token_delay_s if scenario.first_token_delay_s is None else scenario.first_token_delay_s,
        delay=d.token_delay_s if scenario.token_delay_s is None else scenario.token_delay_s,
    )


async def _paced(plan: _Plan) -> AsyncIterator[tuple[int, str | None]]:
    """Yield (index, token) at the planned pace, acting out the scenario's faults on the way.

    A ``None`` token means "send a malformed chunk now"; each protocol knows how to break itself.
    """
    s = plan.scenario
    await asyncio.sleep(plan.first_delay)
    for i, token in enumerate(plan.tokens):
        if s.drop_after is not None and i == s.drop_after:
            raise _DropConnection
        if s.malformed_after is not None and i == s.malformed_after:
            yield i, None
            return
        if s.stall_after is not None and i == s.stall_after:
            await asyncio.sleep(3600)
        if i:
            await asyncio.sleep(plan.delay)
        yield i, token


def _sse(payload: dict[str, Any], sep: str = "\n\n") -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}{sep}".encode()


# --- Groq: OpenAI-compatible chat completions -------------------------------------------------


async def _groq_chat(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return _groq_error(401, "Invalid API Key", "invalid_request_error", "invalid_api_key")
    body = await request.json()
    model = str(body.get("model"))
    messages = body.get("messages") or []
    prompt = str(messages[-1].get("content", "")) if messages else ""
    scenario = state.next_scenario("groq", model, prompt)
    if scenario.status is not None:
        headers = {"retry-after": f"{scenario.retry_after_s:g}"} if scenario.retry_after_s is not None else {}
        kind = "tokens" if scenario.status == 429 else "internal_server_error"
        return _groq_error(scenario.status, f"simulated {scenario.status}", kind, kind, headers)
    if model not in GROQ_MODELS:
        return _groq_error(404, f"The model `{model}` does not exist", "invalid_request_error", "model_not_found")
    plan = _plan(state, scenario, prompt)
    prompt_tokens = prompt_token_count([str(m.get("content", "")) for m in messages])
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-requests": str(
            14399 if scenario.remaining_requests is None else scenario.remaining_requests
        ),
        "x-ratelimit-reset-requests": "6s",
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": str(max(0, 6000 - prompt_tokens)),
        "x-ratelimit-reset-tokens": "1.5s",
        "x-groq-region": "simulated",
    }
    return StreamingResponse(_groq_stream(plan, model, prompt_tokens), media_type="text/event-stream", headers=headers)


async def _groq_stream(plan: _Plan, model: str, prompt_tokens: int) -> AsyncIterator[bytes]:
    chunk_id = f"chatcmpl-sim-{uuid.uuid4().hex[:12]}"
    created = int(time.time())

    def chunk(delta: dict[str, str], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
        x_groq: dict[str, Any] = {"id": f"req_sim_{chunk_id[-8:]}"}
        if usage is not None:
            x_groq["usage"] = usage
        return _sse(
            {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_simulated",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                "x_groq": x_groq,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    sent = 0
    async for _, token in _paced(plan):
        if token is None:
            yield b'data: {"id": "broken", "choices": [{"delta": \n\n'
            return
        sent += 1
        yield chunk({"content": token})
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": sent,
        "total_tokens": prompt_tokens + sent,
        "queue_time": 0.001,
        "prompt_time": 0.001,
        "completion_time": 0.01,
        "total_time": 0.012,
    }
    yield chunk({}, finish="stop", usage=usage)
    yield b"data: [DONE]\n\n"


def _groq_error(status: int, message: str, kind: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status, headers=headers)


# --- Gemini: generativelanguage streamGenerateContent ------------------------------------------


async def _gemini_generate(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    target = request.path_params["target"]
    model, _, method = target.partition(":")
    if method != "streamGenerateContent":
        return _gemini_error(404, f"method {method or target} is not simulated", "NOT_FOUND")
    if not (request.headers.get("x-goog-api-key") or request.query_params.get("key")):
        return _gemini_error(403, "Method doesn't allow unregistered callers.", "PERMISSION_DENIED")
    body = await request.json()
    contents = body.get("contents") or []
    texts = [str(p.get("text", "")) for c in contents for p in c.get("parts", [])]
    prompt = texts[-1] if texts else ""
    system = body.get("systemInstruction") or body.get("system_instruction")
    if system:
        texts.extend(str(p.get("text", "")) for p in system.get("parts", []))
    scenario = state.next_scenario("gemini", model, prompt)
    if scenario.status is not None:
        details = []
        if scenario.retry_after_s is not None:
            details.append(
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{scenario.retry_after_s:g}s"}
            )
        status_name = "RESOURCE_EXHAUSTED" if scenario.status == 429 else "UNAVAILABLE"
        return _gemini_error(scenario.status, f"simulated {scenario.status}", status_name, details)
    plan = _plan(state, scenario, prompt)
    return StreamingResponse(_gemini_stream(plan, model, prompt_token_count(texts)), media_type="text/event-stream")


async def _gemini_stream(plan: _Plan, model: str, prompt_tokens: int) -> AsyncIterator[bytes]:
    response_id = f"sim-{uuid.uuid4().hex[:12]}"
    last = len(plan.tokens) - 1
    sent = 0

    def chunk(text: str, finish: bool) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": sent,
            "totalTokenCount": prompt_tokens + sent,
        }
        payload = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}
        return _sse(payload, sep="\r\n\r\n")

    if last < 0:
        yield chunk("", finish=True)
        return
    async for i, token in _paced(plan):
        if token is None:
            yield b'data: {"candidates": [{"content": \r\n\r\n'
            return
        sent += 1
        yield chunk(token, finish=i == last)


def _gemini_error(status: int, message: str, status_name: str, details: list[Any] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": status_name}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status)


# --- Control: scripting from another process (the e2e tests, `chimera dev`) --------------------


class _ScriptBody(BaseModel):
    provider: SimProvider
    scenarios: list[Scenario]


async def _control_script(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    if request.method == "DELETE":
        state.reset()
        return JSONResponse({"reset": True})
    body = _ScriptBody.model_validate(await request.json())
    state.script(body.provider, *body.scenarios)
    return JSONResponse({"queued": len(body.scenarios)})


async def _control_requests(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    with state.lock:
        return JSONResponse([asdict(r) for r in state.seen])


def create_simulator_app(state: SimulatorState | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/openai/v1/chat/completions", _groq_chat, methods=["POST"]),
            # google-genai 3.x calls /v1/; older releases and the REST docs use /v1beta/.
            Route("/v1beta/models/{target:path}", _gemini_generate, methods=["POST"]),
            Route("/v1/models/{target:path}", _gemini_generate, methods=["POST"]),
            Route("/_simulator/scenarios", _control_script, methods=["POST", "DELETE"]),
            Route("/_simulator/requests", _control_requests, methods=["GET"]),
        ]
    )
    app.state.sim = state or SimulatorState()
    return app


class ProviderSimulator:
    """The simulator on a loopback port, served from its own thread and event loop.

    Its own loop keeps token pacing honest when the app under test is busy.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = SimulatorState()
        config = uvicorn.Config(
            create_simulator_app(self.state), host=host, port=port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="provider-simulator", daemon=True)

    @property
    def base_url(self) -> str:
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def groq_base_url(self) -> str:
        return self.base_url  # the SDK appends /openai/v1/...

    @property
    def gemini_base_url(self) -> str:
        return self.base_url  # the SDK appends /v1/models/...

    def start(self) -> ProviderSimulator:
        self._thread.start()
        _wait_until(lambda: self._server.started, what="provider simulator")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _wait_until(ready: Callable[[], bool], *, what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout_s:g} s")
        time.sleep(0.01)
