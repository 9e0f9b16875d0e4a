"""Signatures with pyHanko: the trust roots (``confiance``), the RFC 3161 client (``horodatage``),
the seal (``sceau``) and where the parties sign in what conum issues (``champs``)."""
