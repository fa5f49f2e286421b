"""Tuning: a quick preview with the current options, the pictures that explain it, and parameter sets."""
