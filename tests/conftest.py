"""Project-wide pytest configuration: registers the shared fixture plugins."""

pytest_plugins = [
    "tests.fixtures_db",
    "tests.harness.fixtures",
    "tests.fixtures_bot",
    "tests.fake_stripe.fixtures",
]
