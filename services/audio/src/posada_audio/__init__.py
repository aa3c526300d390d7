"""Posada audio service."""
