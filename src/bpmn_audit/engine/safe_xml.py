"""Hardened XML loading for uploaded BPMN and DMN files.

SpiffWorkflow parses with lxml's default parser, which expands entities. Uploads are parsed here
instead, with entities, DTDs and network access off, and any DOCTYPE is refused outright, so
entity-expansion bombs and external-entity (XXE) file reads never reach a parser.

Every check runs in time linear in the upload: the prolog is walked with ``str.find`` from the
current position, the regular expressions only ever see a bounded slice, and lxml is always given
bytes (its own check of ``str`` input for an encoding declaration backtracks over the whole text).
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import EngineError, UnsafeXMLError

DEFAULT_MAX_BYTES = 5_000_000
_SECURITY_NOTE = "(DTDs and entities are refused for security)"
_DECLARATION_WINDOW = 4_096  # characters of a DOCTYPE looked at to say what it tries to do
_XML_DECLARATION_CHARS = 200  # the XML declaration (<?xml version=... ?>) fits well within this
_SPACE = re.compile(r"[ \t\r\n]*")  # XML's white space; one character class, anchored: cannot backtrack
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_LXML_POSITION = re.compile(r", line \d+, column \d+$")
_ENCODING_DECL = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


class MalformedXMLError(EngineError):
    """An uploaded document is not well-formed XML."""

    def __init__(self, message: str, file_name: str, line: int | None = None):
        super().__init__(message)
        self.file_name = file_name
        self.line = line


def _declaration_problem(declaration: str) -> str:
    """Describe what a DOCTYPE or ENTITY declaration tries to do (``declaration`` is a bounded slice)."""
    if re.search(r"<!ENTITY\s+%", declaration, re.IGNORECASE):
        what = "a DOCTYPE declaration with a parameter entity"
    elif re.search(r"<!ENTITY[^>]*\b(?:SYSTEM|PUBLIC)\b", declaration, re.IGNORECASE):
        what = "a DOCTYPE declaration with an external entity (SYSTEM/PUBLIC reference)"
    elif re.search(r"<!ENTITY", declaration, re.IGNORECASE):
        what = "a DOCTYPE declaration with entity declarations"
    elif re.search(r"<!DOCTYPE[^>\[]*\b(?:SYSTEM|PUBLIC)\b", declaration, re.IGNORECASE):
        what = "a DOCTYPE declaration referencing an external DTD"
    else:
        what = "a DOCTYPE declaration"
    return f"{what} is not allowed {_SECURITY_NOTE}"


def _prolog_end(text: str) -> int | None:
    """Where the prolog's comments, processing instructions and white space end; None if one is unclosed.

    Each step searches forward from the current position, so the whole walk reads the text once.
    """
    position = 1 if text.startswith("\ufeff") else 0
    while True:
        position = _SPACE.match(text, position).end()
        if text.startswith("<!--", position):
            close, length = text.find("-->", position + 4), 3
        elif text.startswith("<?", position):
            close, length = text.find("?>", position + 2), 2
        else:
            return position
        if close < 0:
            return None  # not well-formed; lxml says so, with the line
        position = close + length


def _refuse_declarations(text: str, file_name: str) -> None:
    """Raise UnsafeXMLError if a DOCTYPE or ENTITY declaration follows the prolog's comments and PIs."""
    position = _prolog_end(text)
    if position is not None and _DECLARATION.match(text, position):
        declaration = text[position:position + _DECLARATION_WINDOW]
        raise UnsafeXMLError(f"{file_name}: {_declaration_problem(declaration)}")


def _as_bytes(data: bytes | str) -> bytes:
    """``data`` as bytes for lxml; text loses the encoding in its XML declaration, as it is already decoded."""
    if isinstance(data, bytes):
        return data
    head = _ENCODING_DECL.sub(r"\1", data[:_XML_DECLARATION_CHARS], count=1)
    return (head + data[_XML_DECLARATION_CHARS:]).encode("utf-8", errors="surrogatepass")


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def parse_xml(data: bytes | str, file_name: str = "<upload>",
              max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse an uploaded document safely.

    Raises UnsafeXMLError for oversized documents and any DOCTYPE/entity declaration, and
    MalformedXMLError (with the line number) for documents that are not well-formed.
    """
    size = len(data.encode("utf-8", errors="surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise UnsafeXMLError(f"{file_name}: the document is {size:,} bytes, more than the "
                             f"{max_bytes:,} bytes allowed")

    _refuse_declarations(data if isinstance(data, str) else data.decode("utf-8", errors="replace"), file_name)
    try:
        root = etree.fromstring(_as_bytes(data), _make_parser())
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
