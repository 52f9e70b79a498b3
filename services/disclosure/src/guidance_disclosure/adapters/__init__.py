"""disclosure's own storage: the read model of requests, kept in disclosure's database."""
