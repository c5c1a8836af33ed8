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

import errno
import multiprocessing
import os
import signal
import socket
import sys
from types import FrameType

APP = "podpiska.app:serve_app"


class CannotListen(Exception):
    """The address cannot be listened on (a busy port, a foreign address, a privileged
    port): one line for the user."""


def serve_one(host: str, port: int, *, reuse_port: bool = False) -> None:
    import uvicorn

    sock = _socket(host, port, reuse_port=reuse_port)
    # The application is built by uvicorn from the settings (PODPISKA_*): it learns the
    # address it is served at, so that its default public URL (return URLs, the sandbox's
    # notifications) is this one, not the default port's.
    os.environ["PODPISKA_HOST"] = host
    os.environ["PODPISKA_PORT"] = str(port)

    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        log_config=None,  # our JSON logs (PODPISKA_LOG_FORMAT=text for plain lines)
        access_log=False,  # the application logs every request itself, with its id
    )
    uvicorn.Server(config).run(sockets=[sock])


def _socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotListen(_why(host, port, exc)) from None
    return sock


def _why(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {host} (another server is listening there): "
            "stop it or choose another port with --port or PODPISKA_PORT"
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {where} (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def check_address(host: str, port: int, *, reuse_port: bool) -> None:
    """Raise CannotListen now if `host`:`port` cannot be listened on (before processes are
    spawned, each of which binds its own socket)."""
    _socket(host, port, reuse_port=reuse_port).close()


def serve_processes(host: str, port: int, workers: int) -> None:
    """Serve until SIGINT or SIGTERM; with `workers` > 1, in that many processes (spawned:
    each builds its own application, engine and snapshot)."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        serve_one(host, port)
        return
    check_address(host, port, reuse_port=True)
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
