"""The disclosure service of the guidance suite."""
