"""intake's HTTP API: one blueprint module per resource, their schemas, and the one way views reach the runtime."""
