"""A lean HTTP/1.1 client for the measured phases: one keep-alive connection per simulated
person, one request at a time on it, the answer read by its Content-Length.

The load generator shares the machine's two cores with the system it measures. aiohttp's
client cost ~210 us of CPU per vote in bench/committee.py, a tenth of what the whole system
spent on it; this one costs a fraction of that, so more of the cores go to what is measured
(bench/README.md, "A leaner load generator"). It speaks only what the gateway answers: a
status line, headers, and a body of Content-Length bytes (no chunked bodies, no redirects).
"""

import asyncio
import json
from urllib.parse import urlsplit


class HttpError(RuntimeError):
    pass


class KeptAlive:
    """One connection to the gateway, opened on first use and again after the server closed it."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", **headers}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body=None) -> tuple[int, object]:
        """(status, the JSON answer) of one request, its body sent as JSON."""
        status, answer = await self.exchange(method, path, body)
        return status, json.loads(answer) if answer else None

    async def exchange(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        """(status, the answer's bytes) of one request, its body sent as JSON."""
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\n{self._fixed}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(head.encode() + data)
        status, length, closes = _parse_head(await self._reader.readuntil(b"\r\n\r\n"))
        answer = await self._reader.readexactly(length)
        if closes:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


class Connections:
    """Kept-alive connections to one server for any number of requests at once: a request
    takes an idle connection or opens one, and gives it back when answered."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self._idle: list[KeptAlive] = []
        self._all: list[KeptAlive] = []

    async def exchange(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        if self._idle:
            connection = self._idle.pop()
        else:
            connection = KeptAlive(self.url, self.headers)
            self._all.append(connection)
        try:
            return await connection.exchange(method, path, body)
        except BaseException:
            await connection.close()  # opened afresh by the next request that takes it
            raise
        finally:
            self._idle.append(connection)

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if "content-length" not in fields:
        raise HttpError(f"an answer without Content-Length: {lines[0]}")
    return status, int(fields["content-length"]), fields.get("connection", "").lower() == "close"
