"""Local stand-ins for AWS: moto's server, behind a proxy that can inject HTTP faults.

moto answers Cost Explorer and EventBridge like AWS; the proxy in front of it
lets a test make the next N calls fail (throttling, 5xx, 4xx) the way AWS does,
so botocore's retry modes are exercised over real HTTP through boto3.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from botocore.retries.standard import ExponentialBackoff
from moto.server import ThreadedMotoServer


class FaultProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        # The next calls' answers: (status, error code) or (status, a whole JSON body, e.g. a partial failure).
        self.faults: list[tuple[int, str | dict[str, Any]]] = []
        self.calls = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self.path.startswith("/moto-api"):
                    proxy.calls += 1
                    if proxy.faults:
                        status, answer = proxy.faults.pop(0)
                        body_json = answer if isinstance(answer, dict) else {"__type": answer,
                                                                              "message": f"injected {answer}"}
                        payload = json.dumps(body_json).encode()
                        self.send_response(status)
                        self.send_header("Content-Type", "application/x-amz-json-1.1")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                connection = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port)
                headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        """Forget moto's state, the queued faults and the call count: a fresh AWS for the next test."""
        assert requests.post(f"{self.url}/moto-api/reset", timeout=10).status_code == 200
        self.faults, self.calls = [], 0


def shorten_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale botocore's backoff (rand(0, 1) x 2^n s after a throttle, 50 ms x 2^n after a 5xx) down to 1 ms x 2^n.

    Tests then take milliseconds, not seconds; which answers botocore retries, and how often,
    is unchanged. (adaptive mode's client-side rate limiter is not scaled: tests of that mode
    throttle no call.)
    """
    monkeypatch.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG",
                        {"throttling_base_scale": 0.001, "non_throttling_base_scale": 0.001})


@contextmanager
def moto_behind_proxy() -> Iterator[FaultProxy]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        proxy = FaultProxy(moto.get_host_and_port()[1])
        proxy.thread.start()
        try:
            yield proxy
        finally:
            proxy.server.shutdown()
    finally:
        moto.stop()


def queue_cost_explorer_results(proxy: FaultProxy, results: list[dict[str, Any]]) -> None:
    """Queue GetCostAndUsage answers in moto: each new request takes the next one."""
    response = requests.post(f"{proxy.url}/moto-api/static/ce/cost-and-usage-results",
                             json={"results": results}, timeout=10)
    assert response.status_code == 201
