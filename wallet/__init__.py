"""End-to-end encrypted personal document wallet."""

__version__ = "0.1.0"
