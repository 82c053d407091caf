"""Fixtures for the web screens (views and browser tests)."""
