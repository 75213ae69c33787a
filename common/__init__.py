"""Helpers every app may use: pure functions with no Django app of their own (money)."""
