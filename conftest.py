"""Fixtures available to every test in the workspace: real Kafka, real PostgreSQL."""

pytest_plugins = ["tests.support.kafka", "tests.support.postgres", "tests.support.auth"]
