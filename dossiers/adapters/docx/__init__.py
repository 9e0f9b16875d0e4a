"""DOCX adapter: docxtpl templates prepared once, rendered many times, and their manifest."""

from __future__ import annotations

from dossiers.adapters.docx.manifest import (
    TemplateInfo,
    load_manifest,
    missing_paths,
    render_manifest,
    template_variables,
)
from dossiers.adapters.docx.renderer import PreparedTemplate, TemplateCache, jinja_environment

__all__ = [
    "PreparedTemplate",
    "TemplateCache",
    "TemplateInfo",
    "jinja_environment",
    "load_manifest",
    "missing_paths",
    "render_manifest",
    "template_variables",
]
