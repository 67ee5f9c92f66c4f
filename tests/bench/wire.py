"""A small HTTP/1.1 client over asyncio streams, for driving load: one keep-alive connection per
simulated person, a request written in one call, the response read as it arrives.

httpx spends tens of microseconds of Python per chunk and per request; at hundreds of chats a
second with twenty events each, a load generator built on it uses more CPU than the app it
measures. This one does only what the benchmark needs: Content-Length and chunked bodies, SSE
``data:`` lines timestamped when their bytes arrive, and nothing it does not need (no redirects,
no TLS, no compression).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass


class WireError(Exception):
    """The server broke the protocol or hung up mid-response."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case


class Connection:
    """One keep-alive connection; requests one after another (``async with`` closes it)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        return self._reader, self._writer

    async def send(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, body: object = None
    ) -> Response:
        """Write a request (``body`` as JSON) and read the status line and headers."""
        reader, writer = await self._open()
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(payload)}"]
        if body is not None:
            head.append("content-type: application/json")
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        try:
            status_line = await reader.readuntil(b"\r\n")
            raw_headers = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            await self.close()
            raise WireError(f"no response: {type(exc).__name__}") from exc
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            await self.close()
            raise WireError(f"not HTTP: {status_line[:40]!r}")
        fields: dict[str, str] = {}
        for line in raw_headers.decode("latin-1").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        return Response(status=int(parts[1]), headers=fields)

    async def chunks(self, response: Response) -> AsyncIterator[bytes]:
        """The response's body as it arrives (a chunked body chunk by chunk)."""
        reader = self._reader
        assert reader is not None, "send() first"
        try:
            if response.headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                    if size == 0:
                        await reader.readuntil(b"\r\n")  # no trailers are sent here
                        break
                    data = await reader.readexactly(size + 2)
                    yield data[:-2]
            else:
                length = int(response.headers.get("content-length", "0"))
                if length:
                    yield await reader.readexactly(length)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            await self.close()
            raise WireError(f"body cut short: {type(exc).__name__}") from exc
        if response.headers.get("connection", "").lower() == "close":
            await self.close()

    async def body(self, response: Response) -> bytes:
        return b"".join([chunk async for chunk in self.chunks(response)])

    async def events(self, response: Response) -> AsyncIterator[tuple[float, str]]:
        """Each SSE ``data:`` payload with the ``perf_counter`` time its last byte arrived."""
        pending = b""
        async for chunk in self.chunks(response):
            now = time.perf_counter()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.startswith(b"data: "):
                    yield now, line[6:].decode()
