"""Fixtures live in wa_sim_harness.py (a uniquely named module, importable from the tests)."""

from wa_sim_harness import graph, http, receiver, sim  # noqa: F401
