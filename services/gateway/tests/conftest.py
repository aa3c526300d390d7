"""Fixtures live in gw_harness.py (a uniquely named module, importable from the tests)."""

from gw_harness import conversation, gateway, gateway_process, http, sim  # noqa: F401
from mail_servers import dovecot, smtp_server  # noqa: F401
