"""Several provider processes on one port, each accepting on a listening socket of its own.

uvicorn's ``--workers`` shares one listening socket between its processes; every idle process
wakes for each new connection and the first to call ``accept`` wins, so a burst of keep-alive
connections (a load balancer's pool, a benchmark) can all land on one process and stay there.
With ``SO_REUSEPORT`` each process listens on its own socket bound to the same port and the
kernel spreads new connections over them by hash. uvicorn has no option for that, so this small
supervisor starts the processes, restarts one that dies, and stops them all on SIGTERM/SIGINT.
The price, documented in docs/operations.md: connections still waiting in a dying process's
accept queue are reset.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger(__name__)
RESTART_PAUSE = 0.5
STOP_SECONDS = 10.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind to the same address too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, options: dict[str, Any], log_level: str, json: bool) -> None:
    """One provider process (run in a fresh interpreter)."""
    import uvicorn

    from twofa.provider.observability import logs

    logs.configure(log_level, json_output=json)
    config = uvicorn.Config(**options)
    # Build the application before joining the port: from the moment the socket listens, the
    # kernel hands it new connections, which would wait for a process still importing.
    config.load()
    sock = listening_socket(host, port)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    *, host: str, port: int, workers: int, options: dict[str, Any], log_level: str, json: bool
) -> None:
    """Run ``workers`` provider processes on ``host:port`` until SIGTERM or SIGINT."""
    listening_socket(host, port).close()  # fail here, at once, if the port is taken
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> BaseProcess:
        process = context.Process(
            target=_worker, args=(host, port, options, log_level, json), daemon=False
        )
        process.start()
        return process

    def stop(signum: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    log.info("provider on %s:%s with %d processes (SO_REUSEPORT)", host, port, workers)
    try:
        while not stopping.wait(RESTART_PAUSE):
            for index, process in enumerate(processes):
                if not process.is_alive():
                    log.warning(
                        "provider process %s exited (%s); restarting", process.pid, process.exitcode
                    )
                    processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
