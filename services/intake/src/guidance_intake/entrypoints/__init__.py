"""How the world reaches intake: the HTTP API, the consumer of revisit.events, and the command line."""
