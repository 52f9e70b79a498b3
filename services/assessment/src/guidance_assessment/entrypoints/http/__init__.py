"""assessment's Flask blueprints, one module per resource, with their request and response schemas."""
