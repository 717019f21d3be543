"""A TCP proxy in front of RabbitMQ or PostgreSQL that a test can break as a network does.

- `cut()` (a reset): every open connection is dropped and new ones are refused, as when the
  server went away or restarts; `start()` listens again on the same port.
- `blackhole()`: connections stay open but nothing flows either way and new connections hang,
  as when packets are dropped by a broken link or firewall; `restore()` lets the traffic
  flow again, what was waiting included (TCP would have retransmitted it).
"""

import asyncio
import contextlib
from urllib.parse import urlsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0  # accepted so far, for tests that check clients reconnected
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every open connection, as an unreachable server would."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._flowing.set()  # the pipes of the dropped connections end now

    def blackhole(self) -> None:
        self._flowing.clear()

    def restore(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        await self.cut()

    async def _serve(self, client_reader, client_writer) -> None:
        self.connections += 1
        self._writers.add(client_writer)
        await self._flowing.wait()
        try:
            broker_reader, broker_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            self._writers.discard(client_writer)
            return
        self._writers.add(broker_writer)
        await asyncio.gather(
            self._pipe(client_reader, broker_writer), self._pipe(broker_reader, client_writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                await self._flowing.wait()
                data = await reader.read(65536)
                if not data:
                    break
                await self._flowing.wait()  # read just before a blackhole: held, not lost
                if writer.transport.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


def proxy_for(url: str, default_port: int) -> "TcpProxy":
    """A proxy (not started) to the server of this URL."""
    parts = urlsplit(url)
    return TcpProxy(parts.hostname, parts.port or default_port)


def through(url: str, proxy: TcpProxy, default_port: int) -> str:
    """The URL with its server replaced by the proxy."""
    parts = urlsplit(url)
    return url.replace(f"{parts.hostname}:{parts.port or default_port}", f"127.0.0.1:{proxy.port}")
