"""Posada pms service."""
