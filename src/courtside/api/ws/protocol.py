"""The WebSocket protocol's client messages, parsed and checked (see docs/websocket.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_UNAUTHORIZED",
    "ClientMessage",
    "ProtocolError",
    "parse_client_message",
]

#: Close codes (besides queue.CLOSE_SLOW_CONSUMER).
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001

MAX_MESSAGE_BYTES = 16_384
MAX_FORMULAS = 200
_TOPIC = re.compile(r"^(game|player|team|jobs):[A-Za-z0-9_.-]{1,64}$|^(scoreboard|alerts)$")
_TYPES = ("subscribe", "unsubscribe", "ping", "resume")


class ProtocolError(Exception):
    """A client message the server cannot act on; ``code`` goes into the error message."""

    def __init__(self, code: str, message: str, *, topic: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.topic = topic


@dataclass(slots=True, frozen=True)
class ClientMessage:
    """One parsed client message."""

    type: str
    topic: str | None = None
    formulas: tuple[str, ...] | None = None
    seq: int | None = None
    id: Any = None  # echoed back in the reply, so a client can match replies to requests


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse and check one client message; raises ProtocolError with a code and a fix."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > MAX_MESSAGE_BYTES:  # bytes, not characters: 'é' is two
        raise ProtocolError("message_too_large",
                            f"messages are limited to {MAX_MESSAGE_BYTES} bytes")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("invalid_json", f"message is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ProtocolError("invalid_message", "a message is a JSON object with a 'type'")
    kind = doc.get("type")
    if kind not in _TYPES:
        raise ProtocolError("unknown_type",
                            f"unknown message type {kind!r}; expected one of {', '.join(_TYPES)}")
    msg_id = doc.get("id")
    if kind == "ping":
        return ClientMessage("ping", id=msg_id)
    topic = doc.get("topic")
    if not isinstance(topic, str) or not _TOPIC.match(topic):
        raise ProtocolError("invalid_topic",
                            f"{kind} needs a topic such as 'game:0022000001' (got {topic!r})")
    if kind == "unsubscribe":
        return ClientMessage("unsubscribe", topic=topic, id=msg_id)
    formulas = doc.get("formulas")
    if formulas is not None:
        if (not isinstance(formulas, list) or len(formulas) > MAX_FORMULAS
                or not all(isinstance(f, str) and 0 < len(f) <= 64 for f in formulas)):
            raise ProtocolError(
                "invalid_formulas",
                f"'formulas' is a list of up to {MAX_FORMULAS} formula ids or stat names",
                topic=topic)
        formulas = tuple(formulas)
    seq = None
    if kind == "resume":
        seq = doc.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ProtocolError("invalid_seq",
                                "resume needs 'seq': the last seq you received (an integer >= 0)",
                                topic=topic)
    return ClientMessage(kind, topic=topic, formulas=formulas, seq=seq, id=msg_id)
