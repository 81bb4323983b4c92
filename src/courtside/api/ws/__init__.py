"""The ``/v1/ws`` WebSocket: protocol parsing, per-client queues, sessions."""
