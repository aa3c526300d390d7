"""Posada gateway service."""
