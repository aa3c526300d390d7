"""Fixtures live in gmail_sim_harness.py (a uniquely named module, importable from the tests)."""

from gmail_sim_harness import gmail, push_receiver  # noqa: F401
