"""The revisit service of the guidance suite."""
