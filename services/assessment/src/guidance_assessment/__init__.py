"""The assessment service of the guidance suite."""
