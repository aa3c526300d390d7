"""Posada conversation service."""
