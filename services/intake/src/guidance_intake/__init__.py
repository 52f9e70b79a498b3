"""The intake service of the guidance suite."""
