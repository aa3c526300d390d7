"""Shared server skeleton and cross-cutting pieces (no business logic)."""
