"""parlor SDK tests (a package so the Django platform under tests/marketplace imports as tests.marketplace)."""
