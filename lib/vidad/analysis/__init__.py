"""Measurements behind the chapters (dataset statistics, probes), kept out of notebook cells."""
