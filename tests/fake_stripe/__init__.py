"""A fake Stripe API for offline tests of the real `stripe` library (see `server.py`).

Register the fixtures with `"tests.fake_stripe.fixtures"` in `tests/conftest.py`'s
`pytest_plugins`: `fake_stripe` (the running server, on the tests' `clock`) and
`stripe_client` (a real `stripe.StripeClient` pointed at it).
"""

from tests.fake_stripe.events import build_event, signature, signed_delivery
from tests.fake_stripe.server import FAKE_API_KEY, FakeStripe, RecordedRequest

__all__ = [
    "FAKE_API_KEY",
    "FakeStripe",
    "RecordedRequest",
    "build_event",
    "signature",
    "signed_delivery",
]
