"""Posada nlp service."""
