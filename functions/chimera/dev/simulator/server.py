"""The simulator's HTTP app and the thread that serves it on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chimera.dev.simulator import gemini, groq
from chimera.dev.simulator.state import Scenario, SimProvider, SimulatorDefaults, SimulatorState

# --- Control: scripting from another process (the e2e tests, `chimera dev`) --------------------


class _ScriptBody(BaseModel):
    provider: SimProvider
    scenarios: list[Scenario]


class _ModelsBody(BaseModel):
    provider: SimProvider
    retire: list[str] = []
    serve: list[str] = []


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


async def _control_models(request: Request) -> Response:
    """GET: what is served and retired; POST {provider, retire, serve}: change it until a reset."""
    state: SimulatorState = request.app.state.sim
    if request.method == "POST":
        body = _ModelsBody.model_validate(await request.json())
        for model in body.retire:
            state.retire(body.provider, model)
        for model in body.serve:
            state.serve(body.provider, model)
    with state.lock:
        return JSONResponse(
            {p: {"served": sorted(state.served[p]), "retired": sorted(state.retired[p])} for p in state.served}
        )


def create_simulator_app(state: SimulatorState | None = None) -> Starlette:
    routes = [
        Route("/openai/v1/chat/completions", groq.chat, methods=["POST"]),
        Route("/openai/v1/models", groq.list_models, methods=["GET"]),
        Route("/_simulator/scenarios", _control_script, methods=["POST", "DELETE"]),
        Route("/_simulator/requests", _control_requests, methods=["GET"]),
        Route("/_simulator/models", _control_models, methods=["GET", "POST"]),
    ]
    # google-genai 3.x calls /v1/; older releases and the REST docs use /v1beta/.
    for version in ("v1beta", "v1"):
        routes.append(Route(f"/{version}/models", gemini.list_models, methods=["GET"]))
        routes.append(Route(f"/{version}/models/{{target:path}}", gemini.generate, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.sim = state or SimulatorState()
    return app


class ProviderSimulator:
    """The simulator on a loopback port, served from its own thread and event loop.

    Its own loop keeps token pacing honest when the app under test is busy.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, defaults: SimulatorDefaults | None = None) -> None:
        self.state = SimulatorState(defaults=defaults or SimulatorDefaults())
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
