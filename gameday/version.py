"""gameday's version (a leaf module: any part may import it without importing the package API)."""

__version__ = "0.1.0"
