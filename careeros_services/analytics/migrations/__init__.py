"""Versioned migrations of the analytics database."""
