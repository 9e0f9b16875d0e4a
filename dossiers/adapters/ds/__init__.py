"""Démarches simplifiées (GraphQL API v2): the client, its queries and mutations."""

from __future__ import annotations

from dossiers.adapters.ds.client import DsClient, checksum_ds

__all__ = ["DsClient", "checksum_ds"]
