"""revisit's domain: when follow-ups are due and what happened to them, free of Flask, SQL and Kafka."""
