"""`uvicorn` with its own command line, and TCP_NODELAY on every connection.

uvicorn 0.54 with `--workers N` binds the listening socket itself with `proto` 0; accepted
connections inherit it and asyncio then leaves Nagle's algorithm on, so every keep-alive
request after the first waits ~40 ms for the client's delayed ACK (uvicorn issue #3149; a
single process is not affected). This binds the socket with IPPROTO_TCP instead:

    .venv/bin/python bench/serve.py podpiska.app:serve_app --factory --workers 2 --port 8000
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config
import uvicorn.main

_bind = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, sock.detach())
        sock.set_inheritable(True)
    return sock


if __name__ == "__main__":  # the workers are spawned: they import this module again
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]
    sys.exit(uvicorn.main.main())
