"""Placeholder: filled in by its family's issue."""

__all__: list = []
