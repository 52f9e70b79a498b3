"""Shared kernel of the guidance suite (行政指导): what every service relies on."""
