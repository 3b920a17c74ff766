"""Importers that bring another tool's digest history into the store."""
