"""Deadlines that fit streaming: per read, never per answer; no SDK retrying behind our back.

Through the real SDKs against the simulator (and, for connection faults, against sockets that
refuse or hang up), with the test settings' 1.5 s first-token and idle deadlines.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from chimera.providers.base import FailureKind, PromptMessage, ProviderError
from chimera.providers.catalogue import load_catalogue
from chimera.runtime import build_providers
from chimera.settings import ChatSettings
from pydantic import SecretStr

from tests.support.sse import iter_events, of_type, streamed_text

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(("provider", "model"), [("groq", "groq-llama-70b"), ("gemini", "gemini-flash")])
def test_a_long_healthy_answer_is_never_cut(
    client: httpx.Client, simulator: ProviderSimulator, provider: str, model: str
) -> None:
    # 8 s of answer, longer than anything the providers' clients are given as a timeout here
    # (max(first-token, idle) + 5 s = 6.5 s): only silence between tokens may end a stream.
    simulator.state.script(provider, Scenario(tokens=16, token_delay_s=0.5, first_token_delay_s=0))  # type: ignore[arg-type]

    with client.stream("POST", "/api/chat", json={"message": "a long one", "model": model}) as response:
        events = [r.event for r in iter_events(response)]

    started = of_type(events, "data-model")[0]["data"]
    assert (started["provider"], started["fallbackReason"]) == (provider, None)
    assert streamed_text(events) == simulated_answer("a long one", 16)
    assert of_type(events, "finish") and not of_type(events, "error")


def test_keep_alives_flow_between_words_too(client: httpx.Client, simulator: ProviderSimulator) -> None:
    # Words 1 s apart, keep-alive every 0.4 s (test settings): comments between the words.
    simulator.state.script("groq", Scenario(tokens=3, token_delay_s=1.0, first_token_delay_s=0, reasoning_tokens=0))

    with client.stream("POST", "/api/chat", json={"message": "slow words"}) as response:
        lines = [line for line in response.iter_lines() if line]

    first_word = next(i for i, line in enumerate(lines) if '"type":"text-delta"' in line)
    last_word = max(i for i, line in enumerate(lines) if '"type":"text-delta"' in line)
    assert ": keep-alive" in lines[first_word:last_word]


# --- Connection faults, provider by provider ---------------------------------------------------


@pytest.fixture
def hang_up_server() -> Iterator[tuple[str, list[int]]]:
    """A port that accepts each connection and closes it at once; counts the connections."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    server.close()


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def one_call(provider: str, base_url: str) -> ProviderError:
    settings = ChatSettings(  # type: ignore[call-arg]
        _env_file=None,
        groq_api_key=SecretStr("k"),
        google_generative_ai_api_key=SecretStr("k"),
        groq_base_url=base_url,
        google_gemini_base_url=base_url,
    )
    spec = CATALOGUE.spec("gemini-flash" if provider == "gemini" else "groq-llama-70b")

    async def call() -> ProviderError:
        client = build_providers(settings)[provider]
        try:
            async for _ in client.stream(model=spec, messages=[PromptMessage("user", "hi")]):
                pass
        except ProviderError as error:
            return error
        finally:
            await client.aclose()
        raise AssertionError("the call succeeded")

    return asyncio.run(call())


@pytest.mark.parametrize("provider", ["groq", "gemini"])
def test_a_refused_connection_is_unavailable_not_a_timeout(provider: str, refusing_url: str) -> None:
    error = one_call(provider, refusing_url)
    assert error.kind == FailureKind.UNAVAILABLE


@pytest.mark.parametrize("provider", ["groq", "gemini"])
def test_the_sdks_do_not_retry_behind_the_routers_back(provider: str, hang_up_server: tuple[str, list[int]]) -> None:
    url, accepted = hang_up_server

    error = one_call(provider, url)

    assert error.kind == FailureKind.UNAVAILABLE, error.detail
    assert len(accepted) == 1  # one connection: retrying is the router's decision alone
