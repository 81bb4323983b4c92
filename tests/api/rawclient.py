"""A WebSocket client that reads only when told to: a truly stalled client for tests.

It speaks the protocol through websockets' sans-I/O ``ClientProtocol`` over a plain blocking
socket with a small receive buffer, so that when the test stops reading, the kernel stops
taking data and the server's sends back up.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Close, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri


class StalledClient:
    """Connects, sends, and receives only inside ``read_until_closed``."""

    def __init__(self, url: str, *, rcvbuf: int = 4096) -> None:
        uri = parse_uri(url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((uri.host, uri.port))
        self.proto = ClientProtocol(uri, max_size=None)
        self.proto.send_request(self.proto.connect())
        self._flush()
        self.messages: list[dict[str, Any]] = []
        self.close: Close | None = None
        while self.proto.state is State.CONNECTING:
            self._feed(self.sock.recv(65536))
        if self.proto.state is not State.OPEN:
            raise ConnectionError(f"handshake failed: {self.proto.handshake_exc}")

    def _flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def _feed(self, data: bytes) -> None:
        if data:
            self.proto.receive_data(data)
        else:
            self.proto.receive_eof()
        for event in self.proto.events_received():
            opcode = getattr(event, "opcode", None)  # the first event is the HTTP response
            if opcode is Opcode.TEXT:
                self.messages.append(json.loads(event.data))
            elif opcode is Opcode.CLOSE:
                self.close = Close.parse(event.data) if event.data else Close(1005, "")
        self._flush()

    def send(self, **message: Any) -> None:
        self.proto.send_text(json.dumps(message).encode())
        self._flush()

    def read_one(self, timeout: float = 5.0) -> dict[str, Any]:
        """Read until at least one more message arrived."""
        self.sock.settimeout(timeout)
        seen = len(self.messages)
        while len(self.messages) == seen:
            self._feed(self.sock.recv(65536))
        return self.messages[seen]

    def read_until_closed(self, timeout: float = 20.0) -> Close | None:
        """Read everything until the server closes (or ``timeout`` of silence)."""
        self.sock.settimeout(timeout)
        while self.close is None:
            data = self.sock.recv(1 << 20)
            self._feed(data)
            if not data:
                break
        return self.close

    def shutdown(self) -> None:
        self.sock.close()
