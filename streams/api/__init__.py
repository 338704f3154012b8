"""``forewarn api``: the read model, the HTTP API and the live dashboard (see docs/api.md)."""
