"""Webhook sender over HTTP (httpx2): one POST, a timeout, no redirects.

Any HTTP answer is returned as a `WebhookResponse` (the delivery service decides what a
status means: 2xx delivered, 410 gone, anything else retried); network errors and
timeouts raise `DeliveryFailed`.
"""

from __future__ import annotations

import httpx2

from podpiska.ports import DeliveryFailed, WebhookRequest, WebhookResponse

USER_AGENT = "Podpiska-Webhooks/1"
RESPONSE_BODY_LIMIT = 2000  # enough to show the receiver's error in `last_error`


class HttpWebhookSender:
    """POSTs signed webhook bodies. Keeps one connection pool; `close()` when done."""

    def __init__(self, *, client: httpx2.Client | None = None, verify: bool = True) -> None:
        self._client = client or httpx2.Client(
            follow_redirects=False,
            trust_env=False,  # no proxies from the environment for vendor endpoints
            verify=verify,
            headers={"User-Agent": USER_AGENT},
        )

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        try:
            with self._client.stream(
                "POST",
                request.url,
                content=request.body,
                headers=dict(request.headers),
                timeout=httpx2.Timeout(timeout_seconds),
                follow_redirects=False,
            ) as response:
                # Read only the start of the answer: an endpoint cannot make us swallow
                # a huge body.
                head = b""
                for chunk in response.iter_bytes():
                    head += chunk
                    if len(head) >= RESPONSE_BODY_LIMIT:
                        break
                status = response.status_code
        except httpx2.TimeoutException as exc:
            raise DeliveryFailed(f"timed out after {timeout_seconds} s: {request.url}") from exc
        except (httpx2.HTTPError, httpx2.InvalidURL, ValueError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        body = head[:RESPONSE_BODY_LIMIT].decode("utf-8", "replace")
        return WebhookResponse(status=status, body=body)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpWebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
