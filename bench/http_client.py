"""A small HTTP/1.1 keep-alive client for the loopback benchmarks.

httpx spends about a millisecond of its own per request. With 32 concurrent requests on a
2-core machine it capped every route at the same couple of hundred requests a second, so
the service and its baselines measured alike. This client writes the request
bytes and reads the status, headers and body off one connection, and nothing else. It
speaks only what the benchmarks need: GET and POST, Content-Length and chunked bodies.
"""

from __future__ import annotations

import asyncio


class HttpConnection:
    """One keep-alive connection to a server on loopback; requests on it run one at a time."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._fixed_headers = f"Host: {host}:{port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    def to(cls, base_url: str, headers: dict[str, str] | None = None) -> HttpConnection:
        """Make a connection to `base_url`, such as http://127.0.0.1:8000."""
        address = base_url.removeprefix("http://").rstrip("/")
        host, _, port = address.partition(":")
        return cls(host, int(port or 80), headers)

    async def __aenter__(self) -> HttpConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path)

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        return await self.request("POST", path, body, "application/json")

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str | None = None
    ) -> tuple[int, bytes]:
        """Send one request and return the status and the whole body."""
        if self._reader is None or self._writer is None:
            raise RuntimeError("Open the connection with `async with` first.")
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed_headers}"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        if body or method != "GET":
            head += f"Content-Length: {len(body)}\r\n"
        self._writer.write(head.encode("latin-1") + b"\r\n" + body)
        reader = self._reader
        status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
        length = 0
        chunked = False
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if not chunked:
            return status, await reader.readexactly(length)
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        return status, b"".join(parts)
