"""revisit's HTTP API: one blueprint module per resource, each with its request and response schemas."""
