"""Signatures with pyHanko: the trust roots (``confiance``), the RFC 3161 client (``horodatage``)."""
