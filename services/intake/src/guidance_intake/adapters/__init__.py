"""intake's adapters: the SQL that the domain stays free of."""
