"""Shared fixtures. Each group lives in tests/fixtures/ and is loaded here."""

pytest_plugins = [
    "tests.fixtures.casesystem",
    "tests.fixtures.databases",
    "tests.fixtures.dovecot",
]
