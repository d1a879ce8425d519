"""Placeholder: greedy block coordinate descent (filled in by its issue)."""

__all__: list = []
