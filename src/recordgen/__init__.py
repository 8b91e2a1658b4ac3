"""recordgen: statutory documents and records for UK housing-support services."""

__version__ = "0.1.0"
