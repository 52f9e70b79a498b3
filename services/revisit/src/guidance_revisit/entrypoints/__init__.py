"""How revisit is driven: HTTP (``http``), intake's events (``consumer``), the periodic tasks (``worker``), the CLI."""
