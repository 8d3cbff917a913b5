"""The one stand-in for Stripe: an HTTP client under the real StripeClient, answering like Stripe.

It keeps every request the SDK made (method, path, headers, the decoded form body) so tests can
assert what we asked Stripe for, and it honours idempotency keys as Stripe does: the same key
returns the same object.
"""

import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import stripe


@dataclass
class StripeRequest:
    method: str
    path: str
    headers: dict
    params: dict


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[StripeRequest] = []
        self.replies_by_key: dict[str, tuple[str, int, dict]] = {}
        self.error: tuple[int, dict] | None = None

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        params = dict(parse_qsl(post_data or ""))
        request = StripeRequest(method.upper(), urlsplit(url).path, dict(headers or {}), params)
        self.requests.append(request)
        if self.error:
            status, body = self.error
            return json.dumps(body), status, {"Stripe-Should-Retry": "false"}
        key = request.headers.get("Idempotency-Key", "")
        if key not in self.replies_by_key:
            self.replies_by_key[key] = (json.dumps(self._create(request)), 200, {})
        return self.replies_by_key[key]

    def _create(self, request):
        if request.path == "/v1/checkout/sessions":
            session_id = f"cs_test_{uuid.uuid4().hex}"
            return {
                "id": session_id,
                "object": "checkout.session",
                "mode": request.params.get("mode"),
                "status": "open",
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
        if request.path == "/v1/billing_portal/sessions":
            session_id = f"bps_{uuid.uuid4().hex[:24]}"
            return {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": request.params.get("customer"),
                "return_url": request.params.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/test_{session_id}",
            }
        if request.path.startswith("/v1/subscriptions/"):
            subscription_id = request.path.rsplit("/", 1)[1]
            trial_end = request.params.get("trial_end")
            return {
                "id": subscription_id,
                "object": "subscription",
                "status": "trialing" if trial_end and trial_end != "now" else "active",
                "trial_end": int(trial_end) if trial_end and trial_end != "now" else None,
            }
        if request.path == "/v1/refunds":
            return {
                "id": f"re_{uuid.uuid4().hex[:24]}",
                "object": "refund",
                "amount": int(request.params["amount"]),
                "payment_intent": request.params.get("payment_intent"),
                "status": "succeeded",
            }
        raise AssertionError(f"unexpected Stripe call {request.method} {request.path}")

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise AssertionError("streaming is not used")

    def close(self):
        pass

    def fail(self, status, message):
        self.error = (status, {"error": {"type": "invalid_request_error", "message": message}})
