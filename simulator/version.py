"""The simulator's version, in a module of its own so any module can name it without importing the app."""

__version__ = "0.1.0"
