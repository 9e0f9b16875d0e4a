"""Revisions of the catalog schema (a package so that setuptools ships them)."""
