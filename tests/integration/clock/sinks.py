"""Real notification peers for the tests: an SMTP server (aiosmtpd) and an SMS gateway.

Both honour the message key the way a production sink should: a message whose key was
already accepted is acknowledged again but not delivered twice. They count what they
delivered and what they refused, and can be told to refuse for a while; a test may
hook each attempt (to kill the sender, or cut its database, at the n-th message).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Deliveries:
    """What a sink received, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delivered: dict[str, dict[str, str]] = {}
        self.attempts: Counter[str] = Counter()
        self.refused = 0
        self.mode = "accept"  # accept | temporary | permanent
        # Called with the number of attempts so far, before the sender gets its answer.
        self.on_attempt: Callable[[int], None] | None = None

    def offer(self, key: str, item: dict[str, str]) -> str:
        """'ok', 'temporary' or 'permanent' for one delivery attempt."""
        with self._lock:
            self.attempts[key] += 1
            total = self.attempts.total()
            if self.mode != "accept":
                self.refused += 1
                verdict = self.mode
            else:
                self.delivered.setdefault(key, item)
                verdict = "ok"
        if self.on_attempt is not None:
            self.on_attempt(total)
        return verdict

    @property
    def duplicates(self) -> int:
        """Attempts beyond the first of keys that were delivered (absorbed by the key)."""
        with self._lock:
            return sum(n - 1 for k, n in self.attempts.items() if k in self.delivered)

    def count(self) -> int:
        with self._lock:
            return len(self.delivered)


class _SmtpHandler:
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        mail = message_from_bytes(content, policy=policy.default)
        key = str(mail.get("X-Tatulasu-Key", ""))
        verdict = self.deliveries.offer(
            key, {"to": ",".join(envelope.rcpt_tos), "subject": str(mail.get("Subject", ""))}
        )
        if verdict == "temporary":
            return "451 4.3.0 try again later"
        if verdict == "permanent":
            return "550 5.1.1 mailbox unavailable"
        return f"250 2.0.0 queued as {abs(hash(key)) % 10**8}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, Deliveries]]:
    deliveries = Deliveries()
    port = free_port()
    controller = Controller(_SmtpHandler(deliveries), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, deliveries
    finally:
        controller.stop()


def _gateway_handler(deliveries: Deliveries) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            key = self.headers.get("Idempotency-Key", "")
            verdict = deliveries.offer(
                key, {"to": str(body.get("to")), "text": body.get("text", "")}
            )
            status = {"ok": 200, "temporary": 500, "permanent": 400}[verdict]
            payload = json.dumps({"id": f"sms-{abs(hash(key)) % 10**8}"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def sms_gateway() -> Iterator[tuple[str, Deliveries]]:
    deliveries = Deliveries()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gateway_handler(deliveries))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send", deliveries
    finally:
        server.shutdown()
        server.server_close()
