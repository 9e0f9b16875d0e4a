"""The facts of a PDF, read with pypdf in a limited child process (see ``pool.py``).

:func:`parse` runs in the child and returns JSON-ready facts or raises ``Refused``;
:func:`from_json` rebuilds :class:`~dossiers.domain.pieces.PdfFacts` in the parent, trusting
nothing it was sent. What is read, and why this way:

- no ``%%EOF`` in the last KB (where readers look for it): an upload cut short, :attr:`CORROMPU`;
- any ``/Encrypt`` is :attr:`CHIFFRE`, even one pypdf cannot read (a garbage ``/Encrypt`` raises
  ``NotImplementedError``, not a pypdf error): a protected piece cannot be checked;
- active content by a bounded walk over every object reachable from the catalogue, not only the
  usual places (JavaScript hides in outline items, field actions, ``/Next`` chains), reading keys,
  never stream data; an image whose declared size is a decompression bomb stops the analysis;
- signature fields from ``/AcroForm``: signed when the field's ``/V`` holds a ``/ByteRange``;
- the text of the first pages, capped in characters and in time (a soft deadline before each page;
  the parent's wall clock is the hard one). A page pypdf fails to extract is skipped, not fatal:
  its text extractor trips on valid files, and the kind's check says when text is missing.

pypdf's own limits (``pypdf.Configuration``) are lowered in :func:`configure`: 10 MB decoded per
stream (its 75 MB took 5-7 s and 370 MiB on one 60 MB content stream), 100 000 tokens parsed per
content stream (~2 s of pypdf; a dense page of text has 1 000 to 20 000), 5 000 page tree entries,
and no ``jbig2dec`` binary ever runs. A limit reached is :attr:`INTERROMPU`, as a timeout would be,
but found sooner and the same on a loaded machine. Measured on the hostile corpus: at most ~1.2 s
and ~60 MiB per file (the same 5 MB and 60 MB streams cost 17 s / 250 MiB and 6 s / 370 MiB with
pypdf's defaults).
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict
from typing import Any

from pypdf import PdfReader, overwrite_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from dossiers.adapters.inspection._child import Refused
from dossiers.domain.pieces import PdfFacts, Probleme, Signature, SignatureVerifiee

__all__ = ["ACTIVE_KINDS", "PYPDF_LIMITS", "configure", "parse", "from_json"]

STREAM_MAX = 10_000_000  # decoded bytes per stream
PAGE_TREE_MAX = 5_000  # page tree entries: 25 times the most pages a kind accepts (~0.7 s to walk)
PYPDF_LIMITS: dict[str, Any] = {
    "maximum_declared_stream_length": 40_000_000,  # the largest accepted piece is 30 MB
    **dict.fromkeys([f"{codec}_maximum_output_length" for codec in ("jbig2", "lzw", "run_length", "zlib", "brotli")]
                    + ["array_based_stream_maximum_output_length"], STREAM_MAX),
    "zlib_maximum_recovery_input_length": 200_000,  # its byte-by-byte recovery: ~2 s per MB
    "image_maximum_buffer_size": 50_000_000,
    "stream_decoding_work_maximum_length": 50_000_000,
    "stream_parsing_work_maximum_count": 100_000,
    "page_tree_maximum_entries": PAGE_TREE_MAX,
    "page_tree_maximum_depth": 64,
    "page_tree_maximum_page_entries": 200_000,
    "form_fields_maximum_entries": 20_000,
    "form_fields_maximum_depth": 32,
    "xform_maximum_invocations_per_extraction": 500,
    "outline_maximum_entries": 20_000,
    "jbig2dec_binary": None,
    "disable_legacy_handling": True,
}
MAX_OBJECTS = 200_000  # containers visited looking for active content
MAX_FIELDS = 5_000
_EOF_WINDOW = 1024  # where readers look for %%EOF (PDF 32000-1, Annex H.3, note 18); absent: cut off
MAX_META = 500  # characters kept of a metadata value (a "Unicode bomb" title is cut, not refused)

# What marks active content -> its name in PdfFacts.active_content (the check words each one:
# dossiers.domain.checks.fichier.ACTIVE_CONTENT; the child does not import the checks).
_ACTION_KINDS = {"/JavaScript": "javascript", "/Launch": "launch", "/GoToE": "fichier_joint",
                 "/RichMediaExecute": "multimedia"}
_ANNOT_KINDS = {"/FileAttachment": "fichier_joint", "/RichMedia": "multimedia", "/Movie": "multimedia",
                "/Sound": "multimedia", "/Screen": "multimedia"}
_KEY_KINDS = {"/JS": "javascript", "/JavaScript": "javascript", "/EmbeddedFiles": "fichier_joint",
              "/EF": "fichier_joint", "/XFA": "formulaire_xfa"}
ACTIVE_KINDS = frozenset({*_ACTION_KINDS.values(), *_ANNOT_KINDS.values(), *_KEY_KINDS.values()})
_UP_LINKS = frozenset({"/Parent", "/P"})  # back to a page or a parent: reached from the root anyway


def configure() -> None:
    """Lower pypdf's limits for this process (the child calls it once at start)."""
    overwrite_configuration(**PYPDF_LIMITS)


def parse(data: bytes, *, text_limit: int, max_pages_text: int, text_seconds: float,
          max_pixels: int, verification: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts of a PDF as a JSON-ready dict; raises ``Refused`` when it cannot be analysed.
    ``verification`` (``{"racines": [DER base64], "maintenant": ISO}``): validate the signed fields too."""
    try:
        facts = _parse(data, text_limit, max_pages_text, time.monotonic() + text_seconds, max_pixels)
    except Refused:
        raise
    except LimitReachedError as exc:
        raise Refused(Probleme.INTERROMPU, "le fichier dépasse une limite d'analyse "
                                           "(flux trop volumineux ou trop complexe)") from exc
    except NotImplementedError as exc:  # a garbage /Encrypt ends here, among others
        if b"/Encrypt" in data:
            raise Refused(Probleme.CHIFFRE, "il déclare un chiffrement illisible") from exc
        raise Refused(Probleme.CORROMPU, "il utilise une construction non prise en charge") from exc
    except RecursionError as exc:
        raise Refused(Probleme.CORROMPU, "sa structure est imbriquée trop profondément") from exc
    except MemoryError:
        raise
    except Exception as exc:
        if b"/Encrypt" in data:  # e.g. AES without the ``cryptography`` package: still encrypted
            raise Refused(Probleme.CHIFFRE, "il déclare un chiffrement") from exc
        raise Refused(Probleme.CORROMPU, "sa structure est endommagée ou incomplète") from exc
    if verification is not None and any(s["signed"] for s in facts.get("signatures", ())):
        facts["verifications"] = _verify(data, verification)
    return facts


def _verify(data: bytes, verification: dict[str, Any]) -> list[dict[str, Any]]:
    from dossiers.adapters.inspection.signatures import valider

    try:
        return valider(data, verification["racines"], verification["maintenant"])
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyHanko could not read the file's signatures at all
        return [{"champ": "", "integre": False, "approuvee": False,
                 "erreur": f"signatures illisibles ({type(exc).__name__}: {str(exc)[:200]})"}]


def _parse(data: bytes, text_limit: int, max_pages_text: int, deadline: float, max_pixels: int) -> dict[str, Any]:
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise Refused(Probleme.CORROMPU, "le fichier est incomplet (sa fin manque)")
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise Refused(Probleme.CHIFFRE, "chiffré par un mot de passe ou des restrictions")
    meta = _metadata(reader)
    try:
        pages = len(reader.pages)
    except LimitReachedError:
        declared = _resolve(_resolve(reader.root_object.get("/Pages", {})).get("/Count"))
        if not isinstance(declared, int) or declared <= PAGE_TREE_MAX:
            raise
        # Thousands of pages: refused for that whatever else they hold; not worth walking them.
        return asdict(PdfFacts(pages=declared, text="", text_truncated=True, **meta))
    if pages == 0:
        raise Refused(Probleme.CORROMPU, "il ne contient aucune page")
    root = reader.trailer["/Root"].get_object()
    active = _active_content(root, max_pixels)
    text, truncated = _text(reader, pages, text_limit, max_pages_text, deadline)
    facts = PdfFacts(pages=pages, text=text, text_truncated=truncated, active_content=tuple(sorted(active)),
                     signatures=_signatures(root), pages_images=_pages_with_images(reader, pages, max_pages_text),
                     **meta)
    return asdict(facts)


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _active_content(root: DictionaryObject, max_pixels: int) -> set[str]:
    """Names of the active content reachable from the catalogue (iterative: no recursion limit)."""
    found: set[str] = set()
    stack: list[Any] = [root]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            try:
                obj = obj.get_object()
            except (LimitReachedError, MemoryError):
                raise
            except Exception:
                continue
        if isinstance(obj, DictionaryObject):
            _classify(obj, found, max_pixels)
            children = [v for k, v in obj.items() if k not in _UP_LINKS]
        elif isinstance(obj, ArrayObject):
            children = list(obj)
        else:
            continue
        visited += 1
        if visited > MAX_OBJECTS:
            raise Refused(Probleme.INTERROMPU, "le PDF contient trop d'objets pour être analysé")
        stack.extend(c for c in children if isinstance(c, (IndirectObject, DictionaryObject, ArrayObject)))
    return found


def _classify(d: DictionaryObject, found: set[str], max_pixels: int) -> None:
    for key, kind in _KEY_KINDS.items():
        if key in d:
            found.add(kind)
    action, subtype = _name(d.get("/S")), _name(d.get("/Subtype"))
    if _name(d.get("/Type")) == "/EmbeddedFile":
        found.add("fichier_joint")
    if action in _ACTION_KINDS:
        found.add(_ACTION_KINDS[action])
    if subtype in _ANNOT_KINDS:
        found.add(_ANNOT_KINDS[subtype])
    if subtype == "/Image":
        width, height = _resolve(d.get("/Width", 0)), _resolve(d.get("/Height", 0))
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0 \
                and width * height > max_pixels:
            raise Refused(Probleme.INTERROMPU, f"une image du PDF mesure {width} × {height} pixels, au-delà "
                                               f"de la limite de {max_pixels // 1_000_000} mégapixels")


def _name(value: Any) -> str | None:
    value = _resolve(value) if isinstance(value, IndirectObject) else value
    return str(value) if isinstance(value, str) else None


def _text(reader: PdfReader, pages: int, text_limit: int, max_pages: int, deadline: float) -> tuple[str, bool]:
    parts: list[str] = []
    total = 0
    truncated = pages > max_pages
    for index in range(min(pages, max_pages)):
        if total >= text_limit or time.monotonic() > deadline:
            return _clean("\n".join(parts))[:text_limit], True
        try:
            page_text = reader.pages[index].extract_text() or ""
        except (LimitReachedError, MemoryError, RecursionError):
            raise
        except Exception:
            truncated = True
            continue
        parts.append(page_text)
        total += len(page_text) + 1
    text = _clean("\n".join(parts))
    return text[:text_limit], truncated or len(text) > text_limit


def _pages_with_images(reader: PdfReader, pages: int, max_pages: int) -> int:
    """How many of the first pages draw an image (an image XObject, directly or in a form XObject): a scan
    does, a blank page does not. Keys only, never stream data."""
    found = 0
    for index in range(min(pages, max_pages)):
        try:
            resources = _resolve(reader.pages[index].get("/Resources"))
        except (LimitReachedError, MemoryError, RecursionError):
            raise
        except Exception:
            continue
        if _draws_image(resources, depth=3):
            found += 1
    return found


def _draws_image(resources: Any, depth: int) -> bool:
    xobjects = _resolve(resources.get("/XObject")) if isinstance(resources, DictionaryObject) else None
    if not isinstance(xobjects, DictionaryObject) or depth <= 0:
        return False
    for ref in list(xobjects.values())[:200]:
        xobject = _resolve(ref)
        if not isinstance(xobject, DictionaryObject):
            continue
        subtype = _name(xobject.get("/Subtype"))
        if subtype == "/Image" or (subtype == "/Form" and _draws_image(_resolve(xobject.get("/Resources")),
                                                                       depth - 1)):
            return True
    return False


def _metadata(reader: PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
        items = dict(info.items()) if info is not None else {}
    except (LimitReachedError, MemoryError):
        raise
    except Exception:
        return {}
    result = {}
    for key, name in _META_KEYS.items():
        value = _resolve(items.get(key))
        if isinstance(value, str) and (value := _clean(value[:MAX_META]).strip()):
            result[name] = value
    return result


# Info keys read: the usual ones, and the identification conum stamps on the PDFs it issues
_META_KEYS = {"/Title": "title", "/Author": "author", "/Producer": "producer",
              "/ConumConventionId": "conum_convention_id", "/ConumVersion": "conum_version",
              "/ConumDocxSha256": "conum_docx_sha256"}


def _signatures(root: DictionaryObject) -> tuple[Signature, ...]:
    form = _resolve(root.get("/AcroForm"))
    fields = _resolve(form.get("/Fields")) if isinstance(form, DictionaryObject) else None
    if not isinstance(fields, ArrayObject):
        return ()
    found: list[Signature] = []
    stack: list[tuple[Any, str, str | None]] = [(f, "", None) for f in reversed(fields)]
    seen: set[int] = set()
    while stack and len(seen) < MAX_FIELDS:
        ref, parent_name, parent_type = stack.pop()
        node = _resolve(ref)
        if not isinstance(node, DictionaryObject) or id(node) in seen:
            continue
        seen.add(id(node))
        own = _resolve(node.get("/T"))
        name = f"{parent_name}.{own}" if parent_name and own else str(own or parent_name)
        field_type = _name(node.get("/FT")) or parent_type
        kids = _resolve(node.get("/Kids"))
        kids = [_resolve(k) for k in kids] if isinstance(kids, ArrayObject) else []
        fields_below = [k for k in kids if isinstance(k, DictionaryObject) and "/T" in k]  # not widgets
        if fields_below:
            stack.extend((k, name, field_type) for k in reversed(fields_below))
        elif field_type == "/Sig":
            found.append(_signature(_clean(name[:MAX_META]), _resolve(node.get("/V"))))
    return tuple(found)


def _signature(name: str, value: Any) -> Signature:
    if not isinstance(value, DictionaryObject):
        return Signature(field_name=name, signed=False)
    signer, when = _resolve(value.get("/Name")), _resolve(value.get("/M"))
    return Signature(
        field_name=name, signed="/ByteRange" in value,
        signer=_clean(str(signer)[:MAX_META]) if isinstance(signer, str) else None,
        signing_time=_clean(str(when)[:64]) if isinstance(when, str) else None,
    )


def _clean(text: str) -> str:
    """Valid UTF-8 (no lone surrogate from a broken UTF-16 string) and no NUL."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


# -- the parent's side ----------------------------------------------------------------------------


def from_json(d: Any) -> PdfFacts:
    """PdfFacts from a child's answer; ``ValueError`` if anything is not of the expected type."""
    if not isinstance(d, dict):
        raise ValueError("facts")
    sigs = d.get("signatures", [])
    active = d.get("active_content", [])
    if not isinstance(sigs, list) or not isinstance(active, list):
        raise ValueError("facts")
    return PdfFacts(
        pages=_typed(d.get("pages"), int), text=_typed(d.get("text"), str),
        text_truncated=_typed(d.get("text_truncated"), bool),
        title=_optional(d.get("title")), author=_optional(d.get("author")),
        producer=_optional(d.get("producer")),
        conum_convention_id=_optional(d.get("conum_convention_id")), conum_version=_optional(d.get("conum_version")),
        conum_docx_sha256=_optional(d.get("conum_docx_sha256")),
        active_content=tuple(a for a in active if isinstance(a, str) and a in ACTIVE_KINDS),
        signatures=tuple(
            Signature(field_name=_typed(s.get("field_name"), str), signed=_typed(s.get("signed"), bool),
                      signer=_optional(s.get("signer")), signing_time=_optional(s.get("signing_time")))
            for s in sigs if isinstance(s, dict)
        ),
        verifications=_verifications(d.get("verifications")),
        pages_images=_typed(d["pages_images"], int) if d.get("pages_images") is not None else None,
    )


_VERIFIEE_TEXTS = ("signataire", "organisation", "emetteur", "numero_serie", "valide_du", "valide_au", "date",
                   "horodatage", "couverture", "modifications", "erreur")


def _verifications(found: Any) -> tuple[SignatureVerifiee, ...] | None:
    if found is None:
        return None
    if not isinstance(found, list):
        raise ValueError("verifications")
    return tuple(
        SignatureVerifiee(
            champ=_typed(v.get("champ"), str)[:MAX_META], integre=_typed(v.get("integre"), bool),
            approuvee=_typed(v.get("approuvee"), bool), certification=bool(v.get("certification")),
            docmdp_ok=_optional_bool(v.get("docmdp_ok")),
            chaine_hors_validite=_optional_bool(v.get("chaine_hors_validite")),
            **{k: _short(v.get(k)) for k in _VERIFIEE_TEXTS},
        )
        for v in found if isinstance(v, dict)
    )


def _short(value: Any) -> str | None:
    text = _optional(value)
    return text[:300] if text else None


def _optional_bool(value: Any) -> bool | None:
    return _typed(value, bool) if value is not None else None


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"expected {kind.__name__}")
    return value


def _optional(value: Any) -> str | None:
    return _typed(value, str) if value is not None else None
