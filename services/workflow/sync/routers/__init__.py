"""HTTP routers of the provincial sync (mounted by the workflow app)."""
