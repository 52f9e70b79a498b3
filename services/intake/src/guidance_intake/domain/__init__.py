"""intake's domain: guidance acts and enforcement cases, free of Flask, SQL and Kafka."""
