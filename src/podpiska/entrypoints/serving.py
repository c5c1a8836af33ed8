"""`podpiska serve`: the API in one uvicorn process, or in N with a socket each.

Why not `uvicorn --workers N`: uvicorn 0.54 binds that shared socket with `proto` 0, so
accepted connections keep Nagle's algorithm on and every keep-alive request after the first
waits ~40 ms for the client's delayed ACK (uvicorn issue #3149); and the processes accept
from one queue, so a client with a few keep-alive connections (a proxy, a load tool) can
land them all on one process while the others idle. Here each process binds its own socket
to the same port (SO_REUSEPORT: the kernel spreads the connections over them), with
IPPROTO_TCP so that TCP_NODELAY applies. Each process keeps its own entitlement snapshot.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
from types import FrameType

APP = "podpiska.app:serve_app"


def serve_one(host: str, port: int, *, reuse_port: bool = False) -> None:
    import uvicorn

    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        log_config=None,  # our JSON logs (PODPISKA_LOG_FORMAT=text for plain lines)
        access_log=False,  # the application logs every request itself, with its id
    )
    uvicorn.Server(config).run(sockets=[_socket(host, port, reuse_port=reuse_port)])


def _socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_processes(host: str, port: int, workers: int) -> None:
    """Serve until SIGINT or SIGTERM; with `workers` > 1, in that many processes (spawned:
    each builds its own application, engine and snapshot)."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        serve_one(host, port)
        return
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=serve_one, args=(host, port), kwargs={"reuse_port": True})
        for _ in range(workers)
    ]

    def stop(_signum: int, _frame: FrameType | None) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=30)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    sys.exit(max((p.exitcode or 0) for p in processes))
