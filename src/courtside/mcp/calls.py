"""What happens around every MCP call: one usage event, and errors an agent can act on.

:class:`UsageMiddleware` wraps each ``tools/call`` and ``resources/read`` in
``courtside.usage.scope.interface_call`` (interface ``mcp``, the client's declared name), so
each call is one usage event, and the service, when it calculates, describes that event
instead of recording its own. :func:`tool_errors` turns courtside's errors into MCP tool
errors carrying their message (and marks the event with the error's code); anything
unexpected is logged here and reaches the agent as one line, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from courtside.model import CourtsideError, NotFoundError
from courtside.usage.scope import current_call, interface_call

__all__ = ["UsageMiddleware", "client_name", "resource_errors", "tool_errors"]

log = logging.getLogger("courtside.mcp")

_TRACKED = {"tools/call", "resources/read"}
_MAX_NAME = 100


def client_name(session: Any) -> str:
    """The name the MCP client declared (``claude-ai``, ``cursor``...), or ``mcp-client``."""
    params = getattr(session, "client_params", None)
    info = getattr(params, "client_info", None)
    name = getattr(info, "name", None)
    return str(name)[:_MAX_NAME] if name else "mcp-client"


def _fail(code: str) -> None:
    call = current_call()
    if call is not None:
        call.fail(code)


@contextmanager
def tool_errors() -> Iterator[None]:
    """Re-raise courtside errors as ``ToolError`` (message kept); unexpected ones as one line."""
    try:
        yield
    except ToolError:
        raise
    except CourtsideError as exc:
        _fail(exc.code)
        raise ToolError(str(exc)) from None
    except Exception as exc:
        _fail(type(exc).__name__)
        log.exception("MCP tool failed unexpectedly")
        raise ToolError(f"internal error ({type(exc).__name__}): {exc}; the server log has "
                        "the details") from None


@contextmanager
def resource_errors() -> Iterator[None]:
    """Like :func:`tool_errors` for resource reads (a missing game is 'not found')."""
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError

    try:
        yield
    except ResourceError:
        raise
    except NotFoundError as exc:
        _fail(exc.code)
        raise ResourceNotFoundError(str(exc)) from None
    except CourtsideError as exc:
        _fail(exc.code)
        raise ResourceError(str(exc)) from None


class UsageMiddleware:
    """MCP server middleware recording one usage event per tool call and resource read.

    Args:
        service: the service whose usage tracker records (None while it is stopped).
        on_message: called before every inbound message (starts the resource notifier).
    """

    def __init__(self, service: Any, on_message: Any = None) -> None:
        self.service = service
        self.on_message = on_message

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if self.on_message is not None:
            self.on_message()
        if ctx.method not in _TRACKED:
            return await call_next(ctx)
        params = ctx.params or {}
        if ctx.method == "tools/call":
            tool, resource = str(params.get("name") or "?")[:_MAX_NAME], None
        else:
            tool, resource = "read_resource", str(params.get("uri") or "")[:_MAX_NAME]
        tracker = self.service.usage
        with interface_call(tracker, tool, interface="mcp", client=client_name(ctx.session),
                            resource=resource) as call:
            result = await call_next(ctx)
            if call is not None and call.outcome is None and _is_error(result):
                call.fail("invalid_arguments")  # rejected before the tool ran
        if tracker is not None and self.service.usage is not tracker:
            # the call stopped the service: its tracker is closed, so write this last event
            tracker.flush()
        return result


def _is_error(result: Any) -> bool:
    if isinstance(result, dict):
        return bool(result.get("isError"))
    return bool(getattr(result, "is_error", False))
