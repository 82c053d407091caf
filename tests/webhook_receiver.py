"""A real HTTP receiver of change events for the tests, on 127.0.0.1 and a free port.

It verifies every request's signature with the ``standardwebhooks`` package, as a receiving system
would, records what it got, and answers as the test scripts it: ``"ok"`` (200), ``"error"``
(500), ``"slow"`` (200 after ``slow_seconds``), ``"hang"`` (never answers until the receiver
stops), ``"redirect"`` (302 elsewhere). Requests beyond the script get ``"ok"``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: dict | None
    error: str = ""

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")


@dataclass
class Receiver:
    secret: str = ""
    script: list[str] = field(default_factory=list)
    slow_seconds: float = 2.0
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                behaviour = receiver._record(self.path, headers, body)
                if behaviour == "hang":
                    receiver._release.wait(60)
                    return
                if behaviour == "slow":
                    time.sleep(receiver.slow_seconds)
                status = {"ok": 200, "slow": 200, "error": 500, "redirect": 302}[behaviour]
                try:
                    self.send_response(status)
                    if behaviour == "redirect":
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    answer = b'{"received": true}' if status == 200 else b"receiver broke"
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (timeout) before the answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/intercompany"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> str:
        verified, payload, error = False, None, ""
        try:
            payload = Webhook(self.secret).verify(body, headers)
            verified = True
        except (WebhookVerificationError, ValueError) as failure:
            error = str(failure)
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        with self._arrived:
            number = len(self.requests)
            self.requests.append(Received(time.monotonic(), path, headers, body, verified,
                                          payload, error))
            self._arrived.notify_all()
        return self.script[number] if number < len(self.script) else "ok"

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"the receiver got {len(self.requests)} request(s), not {count}, "
                        f"within {timeout} s"
                    )
                self._arrived.wait(remaining)
            return list(self.requests)

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def receiver():
    """A ``Receiver`` listening for the test, stopped at its end (a pytest plugin: see
    ``pytest_plugins`` in tests/conftest.py)."""
    receiver = Receiver()
    yield receiver
    receiver.stop()
