"""The HTTP webhook sender against a real `http.server` on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podpiska.adapters.webhooks import RESPONSE_BODY_LIMIT, USER_AGENT, HttpWebhookSender
from podpiska.ports import DeliveryFailed, WebhookRequest

BODY = '{"id":1,"type":"invoice.paid","data":{"number":"2026-000001","note":"Счёт"}}'.encode()
HEADERS = {
    "Content-Type": "application/json",
    "Podpiska-Event": "invoice.paid",
    "Podpiska-Delivery": "17",
    "Podpiska-Timestamp": "1795338000",
    "Podpiska-Signature": "v1=" + "ab" * 32,
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Handler(BaseHTTPRequestHandler):
    received: list[Received]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.received.append(Received("POST", self.path, dict(self.headers.items()), body))
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.end_headers()
            return
        status = {"/ok": 200, "/accepted": 202, "/gone": 410, "/error": 500}.get(self.path, 200)
        answer = ("x" * 100_000 if self.path == "/big" else f"answer to {self.path}").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
            self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@dataclass
class Server:
    base_url: str
    received: list[Received]


@pytest.fixture
def server() -> Iterator[Server]:
    received: list[Received] = []
    handler = type("RecordingHandler", (Handler,), {"received": received})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield Server(f"http://{host!s}:{port}", received)
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def sender() -> Iterator[HttpWebhookSender]:
    with HttpWebhookSender() as made:
        yield made


def request_to(url: str) -> WebhookRequest:
    return WebhookRequest(url=url, body=BODY, headers=HEADERS)


def test_posts_the_body_and_headers_as_given(server: Server, sender: HttpWebhookSender) -> None:
    response = sender.post(request_to(f"{server.base_url}/ok"), timeout_seconds=5)

    assert (response.status, response.body) == (200, "answer to /ok")
    [got] = server.received
    assert (got.method, got.path, got.body) == ("POST", "/ok", BODY)
    for name, value in HEADERS.items():
        assert got.headers[name] == value
    assert got.headers["User-Agent"] == USER_AGENT


def test_any_http_answer_is_returned_for_the_service_to_judge(
    server: Server, sender: HttpWebhookSender
) -> None:
    statuses = [
        sender.post(request_to(f"{server.base_url}{path}"), timeout_seconds=5).status
        for path in ("/accepted", "/gone", "/error")
    ]
    assert statuses == [202, 410, 500]


def test_redirects_are_not_followed(server: Server, sender: HttpWebhookSender) -> None:
    response = sender.post(request_to(f"{server.base_url}/redirect"), timeout_seconds=5)
    assert response.status == 302
    assert [r.path for r in server.received] == ["/redirect"]


def test_only_the_start_of_a_long_answer_is_kept(server: Server, sender: HttpWebhookSender) -> None:
    response = sender.post(request_to(f"{server.base_url}/big"), timeout_seconds=5)
    assert response.status == 200
    assert response.body == "x" * RESPONSE_BODY_LIMIT


def test_a_timeout_is_delivery_failed(server: Server, sender: HttpWebhookSender) -> None:
    with pytest.raises(DeliveryFailed, match="timed out after 1 s"):
        sender.post(request_to(f"{server.base_url}/slow"), timeout_seconds=1)


def test_network_errors_are_delivery_failed(sender: HttpWebhookSender) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryFailed, match="ConnectError"):
        sender.post(request_to(f"http://127.0.0.1:{port}/hook"), timeout_seconds=2)
    with pytest.raises(DeliveryFailed):
        sender.post(request_to("ftp://127.0.0.1/hook"), timeout_seconds=2)
    with pytest.raises(DeliveryFailed):
        sender.post(request_to("not a url"), timeout_seconds=2)
