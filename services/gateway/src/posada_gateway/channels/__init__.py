"""Channel adapters of the gateway (one package per channel)."""
