"""A local HTTP server standing in for Slack (Web API chat.postMessage and incoming webhooks).

It records every request body and answers with a programmable sequence of
statuses, so a test can take Slack down for a few calls and bring it back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class SlackStandIn:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []   # {"path": ..., "body": {...}}
        self.down_for = 0                          # answer 503 to this many next calls
        self.errors: list[str] = []                # the next Web API calls answer {"ok": false, "error": ...}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if stand_in.down_for > 0:
                    stand_in.down_for -= 1
                    self._answer(503, "text/plain", b"service unavailable")
                    return
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {key: values[0] for key, values in parse_qs(raw).items()}
                stand_in.received.append({"path": self.path, "body": body,
                                           "authorization": self.headers.get("Authorization")})
                if self.path.startswith("/webhook"):
                    self._answer(200, "text/plain", b"ok")
                elif stand_in.errors:  # Slack refuses with HTTP 200 and ok: false (e.g. channel_not_found)
                    error = stand_in.errors.pop(0)
                    self._answer(200, "application/json", json.dumps({"ok": False, "error": error}).encode())
                else:
                    self._answer(200, "application/json", json.dumps({"ok": True, "ts": "1.0"}).encode())

            def _answer(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook/T000/B000/xyz"


@contextmanager
def running_slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
