"""opsh: an interactive shell for operations work."""

__version__ = "0.1.0"
