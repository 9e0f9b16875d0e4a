"""Démarches simplifiées in memory: the ``Ds`` port without HTTP, for the fast service tests and local runs.

It holds dossiers as DS's API returns them (the shape of ``adapters.ds.queries``: ``number``, ``id``,
``dateDerniereModification``, ``champs``…), files by URL, and the mutations and uploads it was sent. Pages
of ``dossiers_modifies`` come in DS's order (last modification, then number) with an opaque cursor, a
dossier modified since ``depuis`` included; ``download`` refuses a file as ``DsClient`` does (announced
size over the limit, other size or checksum: ``DsFichierInvalide``). A mutation is recorded and answered
without errors; what it would change on DS is the test's to state.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from dossiers.adapters.ds.client import MAX_DOWNLOAD, checksum_ds
from dossiers.errors import DsError, DsFichierInvalide

if TYPE_CHECKING:
    from dossiers.ports import Ds

__all__ = ["MemoryDs"]

PAGE_MAX = 100  # DS's own maximum page size


def _cursor(node: dict[str, Any]) -> str:
    return base64.b64encode(f"{node['dateDerniereModification']}|{node['number']}".encode()).decode()


def _mark(node: dict[str, Any]) -> tuple[str, int]:
    return str(node["dateDerniereModification"]), int(node["number"])


class MemoryDs:
    """DS's GraphQL API over dicts (see the module's docstring)."""

    def __init__(self) -> None:
        self.dossiers: dict[int, dict[str, Any]] = {}  # number -> node
        self.demarche_de: dict[int, int] = {}  # number -> démarche
        self.files: dict[str, bytes] = {}  # url -> bytes
        self.mutations: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, tuple[str, str, bytes, str]] = {}  # signed blob id -> (dossier, name, data, type)
        self.downloads: list[str] = []

    # -- what a test sets up --------------------------------------------------------------------------
    def fichier(self, filename: str, data: bytes, *, created_at: str, content_type: str = "application/pdf"
                ) -> dict[str, Any]:
        """A DS ``File`` for ``data``: its announced size and checksum are the real ones."""
        url = f"memory://fichiers/{len(self.files) + 1}/{filename}"
        self.files[url] = data
        return {"filename": filename, "byteSize": len(data), "byteSizeBigInt": str(len(data)),
                "checksum": checksum_ds(data), "contentType": content_type, "createdAt": created_at, "url": url}

    def put_dossier(self, demarche: int, node: dict[str, Any]) -> None:
        """Create or replace a dossier (``node`` as DS returns it, ``number`` and ``dateDerniereModification``
        included)."""
        self.dossiers[int(node["number"])] = node
        self.demarche_de[int(node["number"])] = demarche

    # -- the port ----------------------------------------------------------------------------------------
    def dossiers_modifies(self, demarche: int, *, depuis: str | None, apres: str | None,
                          nombre: int | None = None) -> dict[str, Any]:
        found = sorted((d for n, d in self.dossiers.items() if self.demarche_de[n] == demarche), key=_mark)
        if depuis is not None:
            found = [d for d in found if str(d["dateDerniereModification"]) >= depuis]
        if apres is not None:
            stamp, _, number = base64.b64decode(apres).decode().partition("|")
            found = [d for d in found if _mark(d) > (stamp, int(number))]
        size = min(nombre or PAGE_MAX, PAGE_MAX)
        page = found[:size]
        return {"pageInfo": {"hasNextPage": len(found) > size, "endCursor": _cursor(page[-1]) if page else apres},
                "nodes": page}

    def dossier(self, number: int) -> dict[str, Any]:
        if number not in self.dossiers:
            raise DsError(f"DS ne renvoie pas le dossier n° {number}.")
        return self.dossiers[number]

    def etat(self, number: int) -> dict[str, Any]:
        return self.dossier(number)

    def muter(self, mutation: str, data: dict[str, Any]) -> dict[str, Any] | None:
        self.mutations.append((mutation, data))
        return {"errors": None}

    def download(self, file: dict[str, Any], *, max_bytes: int = MAX_DOWNLOAD) -> bytes:
        name = file.get("filename") or "fichier"
        size = int(file.get("byteSizeBigInt") or file.get("byteSize") or -1)
        if not 0 <= size <= max_bytes:
            raise DsFichierInvalide(f"« {name} » : taille annoncée {size} octets, au plus {max_bytes}.")
        if str(file.get("url")) not in self.files:
            raise DsError(f"« {name} » : téléchargement refusé (HTTP 404).")
        data = self.files[str(file["url"])]
        self.downloads.append(str(file["url"]))
        if len(data) != size or checksum_ds(data) != file.get("checksum"):
            raise DsFichierInvalide(f"« {name} » : taille ou somme de contrôle autres que celles annoncées par DS "
                                    "(fichier altéré) : fichier refusé.")
        return data

    def upload(self, dossier_id: str, filename: str, data: bytes, content_type: str) -> str:
        signed = f"signed-{len(self.uploads) + 1}"
        self.uploads[signed] = (dossier_id, filename, data, content_type)
        return signed

    def close(self) -> None:
        return None

    def __enter__(self) -> MemoryDs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    def _as_port(memory: MemoryDs) -> Ds:  # mypy checks MemoryDs against the port here
        return memory
