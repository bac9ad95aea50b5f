"""Hardened XML loading for uploaded BPMN and DMN files.

SpiffWorkflow parses with lxml's default parser, which expands entities. Uploads are parsed here
instead, with entities, DTDs and network access off, and any DOCTYPE is refused outright, so
entity-expansion bombs and external-entity (XXE) file reads never reach a parser.
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import EngineError, UnsafeXMLError

DEFAULT_MAX_BYTES = 5_000_000
_SECURITY_NOTE = "(DTDs and entities are refused for security)"
_HIDDEN = re.compile(r"<!--.*?-->|<\?.*?\?>", re.DOTALL)  # comments and processing instructions
_ROOT_START = re.compile(r"<[A-Za-z_:]")
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_LXML_POSITION = re.compile(r", line \d+, column \d+$")
_ENCODING_DECL = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


class MalformedXMLError(EngineError):
    """An uploaded document is not well-formed XML."""

    def __init__(self, message: str, file_name: str, line: int | None = None):
        super().__init__(message)
        self.file_name = file_name
        self.line = line


def _declaration_problem(prolog: str) -> str:
    """Describe what a prolog containing a DOCTYPE or ENTITY declaration tries to do."""
    if re.search(r"<!ENTITY\s+%", prolog, re.IGNORECASE):
        what = "a DOCTYPE declaration with a parameter entity"
    elif re.search(r"<!ENTITY[^>]*\b(?:SYSTEM|PUBLIC)\b", prolog, re.IGNORECASE):
        what = "a DOCTYPE declaration with an external entity (SYSTEM/PUBLIC reference)"
    elif re.search(r"<!ENTITY", prolog, re.IGNORECASE):
        what = "a DOCTYPE declaration with entity declarations"
    elif re.search(r"<!DOCTYPE[^>\[]*\b(?:SYSTEM|PUBLIC)\b", prolog, re.IGNORECASE):
        what = "a DOCTYPE declaration referencing an external DTD"
    else:
        what = "a DOCTYPE declaration"
    return f"{what} is not allowed {_SECURITY_NOTE}"


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def parse_xml(data: bytes | str, file_name: str = "<upload>",
              max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse an uploaded document safely.

    Raises UnsafeXMLError for oversized documents and any DOCTYPE/entity declaration, and
    MalformedXMLError (with the line number) for documents that are not well-formed.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise UnsafeXMLError(f"{file_name}: the document is {size:,} bytes, more than the "
                             f"{max_bytes:,} bytes allowed")

    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    visible = _HIDDEN.sub("", text)
    root_start = _ROOT_START.search(visible)
    prolog = visible[:root_start.start()] if root_start else visible
    if _DECLARATION.search(prolog):
        raise UnsafeXMLError(f"{file_name}: {_declaration_problem(prolog)}")

    if isinstance(data, str):
        # lxml refuses str input that carries an encoding declaration; the text is already decoded.
        data = _ENCODING_DECL.sub(r"\1", data, count=1)
    try:
        root = etree.fromstring(data, _make_parser())
    except etree.XMLSyntaxError as err:
        line = err.lineno or None
        message = _LXML_POSITION.sub("", err.msg or str(err))
        where = f" (line {line})" if line else ""
        raise MalformedXMLError(f"{file_name}: not well-formed XML: {message}{where}", file_name,
                                line) from err

    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None \
            or docinfo.system_url or docinfo.public_id:
        # Reached only if the raw-text check was fooled (e.g. an unusual encoding).
        raise UnsafeXMLError(f"{file_name}: a DOCTYPE declaration is not allowed {_SECURITY_NOTE}")
    return tree
