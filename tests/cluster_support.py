"""What the cluster tests stand on: a fault proxy in front of moto, and a picklable runner.

``FaultProxy`` is an HTTP proxy on 127.0.0.1 between the collector and a moto server. It
names the account of each request from the ``ivs-account/<id>`` the collector's sessions
put in their User-Agent (the caller's STS calls apart, as ``sts``), counts the requests in
flight per account (and the most at once), can slow every request down (so that
concurrency shows), and can hold the first request that matches a test until the test
lets it go: the test then knows which worker process is waiting on it (from the socket's
port) and can kill that process mid-task.

``FakeRunnerFactory`` makes, on each worker, a runner of account stacks that needs no
Pulumi CLI; it fails the accounts it is told to, and kills its own worker process for
those it is told to (a worker dying mid-stack).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from governance.automation import Program, StackRun, StackRunError, StackRunner

_ACCOUNT = re.compile(r"ivs-account/(\d{12})")
#: Hop-by-hop headers a proxy does not pass on.
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "host"}


@dataclass
class Held:
    """A request the proxy holds: its account, its target, and the client's port."""

    account: str
    target: str
    client_port: int
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.hold_when: Callable[[str, str], bool] | None = None
        self.held: Held | None = None
        self.held_event = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _forward(self) -> None:
                proxy.forward(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        if self.held is not None:
            self.held.release.set()
        self.server.shutdown()
        self.server.server_close()

    def hold_first(self, when: Callable[[str, str], bool]) -> None:
        """Hold the first request for which ``when(account, target)`` is true."""
        self.hold_when = when

    def wait_held(self, timeout: float = 60) -> Held:
        assert self.held_event.wait(timeout), "no request was held"
        assert self.held is not None
        return self.held

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        agent = handler.headers.get("User-Agent", "")
        found = _ACCOUNT.search(agent)
        account = found.group(1) if found else "unknown"
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target", "") or body[:200].decode("latin-1")
        if target.startswith(("Action=AssumeRole&", "Action=GetCallerIdentity&")):
            account = "sts"  # the caller's STS calls, under its own STS quota
        with self.lock:
            self.in_flight[account] += 1
            self.most[account] = max(self.most[account], self.in_flight[account])
            self.requests[account] += 1
            hold = None
            if self.hold_when is not None and self.hold_when(account, target):
                self.hold_when = None
                hold = self.held = Held(account, target, handler.client_address[1])
        try:
            if hold is not None:
                self.held_event.set()
                hold.release.wait(120)
            if self.delay:
                time.sleep(self.delay)
            self._relay(handler, body)
        except OSError:
            pass  # the client went away (its worker was killed)
        finally:
            with self.lock:
                self.in_flight[account] -= 1

    def _relay(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
            headers["Host"] = f"{self.upstream[0]}:{self.upstream[1]}"
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        handler.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP and key.lower() != "content-length":
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)


def process_with_port(pids: Mapping[str, int], port: int) -> int:
    """The process among ``pids`` (worker address -> pid) that owns a socket whose local
    port is ``port``: the worker waiting on a held request."""
    for pid in pids.values():
        for conn in psutil.Process(pid).net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port:
                return pid
    raise AssertionError(f"no worker has a socket on port {port}")


# ---- account stacks without the Pulumi CLI --------------------------------------------------


@dataclass(frozen=True)
class FakeRunnerFactory:
    """Makes a :class:`FakeRunner` on each worker (picklable: plain data)."""

    fail: frozenset[str] = frozenset()
    die: frozenset[str] = frozenset()
    missing_cli: bool = False

    def __call__(self, spec_path: Path) -> StackRunner:
        if self.missing_cli:
            from core.errors import ToolMissingError
            from governance.automation import INSTALL_HINT

            raise ToolMissingError(INSTALL_HINT)
        return FakeRunner(self)


class FakeRunner:
    def __init__(self, factory: FakeRunnerFactory) -> None:
        self.factory = factory

    def run(
        self, stack_name: str, program: Program, *, preview: bool, config: Mapping[str, str]
    ) -> StackRun:
        account = stack_name.removeprefix("baseline-")
        if account in self.factory.die:
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-stack
        if account in self.factory.fail:
            raise StackRunError("error: AccessDenied: not authorized to perform sts:AssumeRole")
        # the stack is built on the worker from the spec it was sent (not run: no CLI)
        assert callable(program)
        return StackRun(stack_name, {"same" if preview else "create": 11, "pid": os.getpid()})
