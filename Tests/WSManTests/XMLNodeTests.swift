import ASCIIText
import Foundation
import XCTest
@testable import WSMan

final class XMLNodeTests: XCTestCase {
    func testMatchesByNamespaceNotPrefix() throws {
        let request = """
        <e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:q="http://schemas.xmlsoap.org/ws/2004/08/addressing">\
        <e:Header><q:Action e:mustUnderstand="true">act</q:Action></e:Header><e:Body/></e:Envelope>
        """
        let root = try XMLNode.parse(request)
        XCTAssertEqual(root.namespace, WSManNamespace.soap)
        XCTAssertEqual(root.localName, "Envelope")
        XCTAssertEqual(root.prefix, "e")
        let action = try XCTUnwrap(root.child(WSManNamespace.soap, "Header")?.child(WSManNamespace.addressing, "Action"))
        XCTAssertEqual(action.text, "act")
        XCTAssertEqual(action.attributes["mustUnderstand"], "true")
        XCTAssertEqual(action.qualifiedAttributes["e:mustUnderstand"], "true")
        XCTAssertEqual(action.qualifiedName, "q:Action")
        XCTAssertNil(root.child(WSManNamespace.addressing, "Header"), "same local name, other namespace")
        XCTAssertNotNil(root.descendant(WSManNamespace.addressing, "Action"))
        XCTAssertNotNil(root.path((WSManNamespace.soap, "Body")))
    }

    func testDefaultNamespaceAndRedeclaredPrefix() throws {
        let xml = """
        <root xmlns="urn:a" xmlns:p="urn:p1"><p:x/><inner xmlns:p="urn:p2"><p:x Name="two"/></inner><plain xmlns=""/></root>
        """
        let root = try XMLNode.parse(xml)
        XCTAssertEqual(root.namespace, "urn:a")
        XCTAssertNil(root.prefix)
        XCTAssertEqual(root.children(("urn:p1"), "x").count, 1)
        XCTAssertEqual(root.descendant("urn:p2", "x")?.attribute("Name"), "two")
        XCTAssertNil(root.children.last?.namespace, "xmlns=\"\" puts an element in no namespace")
    }

    func testTextEntitiesCDATAAndAllText() throws {
        let xml = "<a>x &amp; y &lt;z&gt; &#13;&#10;<![CDATA[<raw>]]><b>inner</b>tail</a>"
        let root = try XMLNode.parse(xml)
        XCTAssertEqual(root.text, "x & y <z> \r\n<raw>tail")
        XCTAssertEqual(root.allText, "x & y <z> \r\n<raw>tailinner")
        XCTAssertEqual(root.child("", "b")?.text, "inner", "\"\" finds elements in no namespace")
    }

    func testMalformedXMLThrowsWithPosition() {
        XCTAssertThrowsError(try XMLNode.parse("<a><b></a>")) { error in
            guard let parseError = error as? XMLParseError else { return XCTFail("wrong error \(error)") }
            XCTAssertEqual(parseError.line, 1)
            XCTAssertTrue(parseError.description.contains("malformed XML"))
        }
        XCTAssertThrowsError(try XMLNode.parse(Data()))
        XCTAssertThrowsError(try XMLNode.parse("<a><b>text"))
        XCTAssertThrowsError(try XMLNode.parse("<a>"), "XMLParser reports nothing here; we must")
        XCTAssertThrowsError(try XMLNode.parse("<a></a><b/>"))
        XCTAssertThrowsError(try XMLNode.parse("hello"))
    }

    func testRefusesWhatSOAPForbidsOrAParserMustNotGuess() {
        let cases: [(String, String)] = [
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "document type declarations"),
            ("<a>&x;</a>", "undeclared entity &x;"),
            ("<a>fish & chips</a>", "does not start a reference"),
            ("<p:a/>", "prefix p is not declared"),
            ("<a xmlns:p=\"urn:p\"><b q:n=\"1\"/></a>", "prefix q is not declared"),
            ("<a n=\"1\" n=\"2\"/>", "appears twice"),
            ("<a n=1/>", "not quoted"),
            ("<a n=\"<\"/>", "unescaped '<'"),
            ("<a>\u{01}</a>", "control character"),
            ("<a>x]]>y</a>", "']]>'"),
            ("<a>&#0;</a>", "invalid character reference"),
            ("<a></b>", "does not match"),
            ("<a/><?xml version=\"1.0\"?>", "only allowed at the very start"),
            ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "iso-8859-1 is not supported"),
            ("<a><!-- open", "comment is not closed"),
        ]
        for (xml, expected) in cases {
            XCTAssertThrowsError(try XMLNode.parse(xml), xml) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(xml): \(error)")
            }
        }
        XCTAssertThrowsError(try XMLNode.parse(Data([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E])), "not UTF-8")
        let deep = String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300)
        XCTAssertThrowsError(try XMLNode.parse(deep)) { XCTAssertTrue("\($0)".contains("deeper than 256")) }
    }

    func testErrorsSayWhereTheyAre() {
        XCTAssertThrowsError(try XMLNode.parse("<a>\n  <b>\n  </c>\n</a>")) { error in
            let parseError = error as? XMLParseError
            XCTAssertEqual(parseError?.line, 3)
            XCTAssertEqual(parseError?.column, 6)
        }
    }

    func testLineEndsAttributesCommentsAndEncodings() throws {
        let root = try XMLNode.parse("\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<!-- c --><?pi x?>"
            + "<a v=\"x\r\ny\tz\" w='&#13;&#9;'>one\r\ntwo\rthree<!-- inside --><![CDATA[c\r\nd]]></a>\r\n<!-- after -->")
        XCTAssertEqual(root.text, "one\ntwo\nthreec\nd", "CR LF and lone CR become LF, in CDATA too")
        XCTAssertEqual(root.attribute("v"), "x y z", "literal whitespace in attributes becomes spaces")
        XCTAssertEqual(root.attribute("w"), "\r\t", "character references keep CR and TAB")

        var utf16 = Data([0xFF, 0xFE])
        for unit in "<?xml version=\"1.0\" encoding=\"utf-16\"?><r n=\"é\">€</r>".utf16 {
            utf16.append(UInt8(unit & 0xFF))
            utf16.append(UInt8(unit >> 8))
        }
        let fromUTF16 = try XMLNode.parse(utf16)
        XCTAssertEqual(fromUTF16.text, "€")
        XCTAssertEqual(fromUTF16.attribute("n"), "é")
    }

    func testAttributesKeepOrderAndXMLPrefix() throws {
        let root = try XMLNode.parse("<a xmlns:p=\"urn:p\" p:Name=\"prefixed\" Name=\"plain\" xml:lang=\"en-US\"/>")
        XCTAssertEqual(root.attributeList.map(\.qualifiedName), ["p:Name", "Name", "xml:lang"], "xmlns is not an attribute")
        XCTAssertEqual(root.attribute("Name"), "plain", "the unprefixed attribute wins")
        XCTAssertEqual(root.attributes["lang"], "en-US")
    }

    func testWriterEscapingRoundTrips() throws {
        let nasty = "a&b<c>d\"e'f\r\ng\th ]]> _(){}[]*+-/\\?!@#$^|;:i,.`~0 é €"
        var w = XMLWriter()
        w.open("r", [("v", nasty)])
        w.text(nasty)
        w.empty("e", [("n", "x")])
        w.element("t", text: "")
        w.close("r")
        XCTAssertEqual(w.output.filter { $0 == "\r" }.count, 0, "CR must travel as a character reference")
        let root = try XMLNode.parse(w.output)
        XCTAssertEqual(root.attribute("v"), nasty, "attribute keeps CR, LF, TAB and quotes")
        XCTAssertEqual(root.text, nasty)
        XCTAssertEqual(root.children.map(\.localName), ["e", "t"])
    }

    func testControlCharactersXMLCannotCarryAreReplaced() throws {
        XCTAssertEqual(XMLEscape.text("a\u{01}b"), "a\u{FFFD}b")
        XCTAssertEqual(XMLEscape.attribute("a\u{1B}[0m"), "a\u{FFFD}[0m")
        XCTAssertEqual(XMLEscape.text("plain-GUID-1234"), "plain-GUID-1234")
        XCTAssertEqual(XMLEscape.attribute("x\"y"), "x&quot;y")
        XCTAssertEqual(XMLEscape.text("x\"y"), "x\"y")
        XCTAssertEqual(XMLEscape.text("\u{FF21}"), "\u{FF21}", "full-width letters are ordinary characters")
    }

    func testTrimmingASCIIWhitespace() {
        XCTAssertEqual(" \t a b \r\n".trimmingASCIIWhitespace, "a b")
        XCTAssertEqual("   ".trimmingASCIIWhitespace, "")
        XCTAssertEqual("".trimmingASCIIWhitespace, "")
        XCTAssertEqual("\u{A0}é\u{A0}".trimmingASCIIWhitespace, "\u{A0}é\u{A0}", "only ASCII whitespace goes")
        XCTAssertEqual("[ x ]".dropFirst().dropLast().trimmingASCIIWhitespace, "x", "substrings too")
        let bridged = NSString(string: "  from NSString \n") as String
        XCTAssertEqual(bridged.trimmingASCIIWhitespace, "from NSString")
    }

    func testDurations() {
        XCTAssertEqual(WSManDuration.parse("PT20S"), 20)
        XCTAssertEqual(WSManDuration.parse("PT7200.000S"), 7200)
        XCTAssertEqual(WSManDuration.parse("PT2147483.647S"), 2147483.647)
        XCTAssertEqual(WSManDuration.parse("P0DT0H0M0S"), 0)
        XCTAssertEqual(WSManDuration.parse("P1DT1H1M1.5S"), 90061.5)
        XCTAssertEqual(WSManDuration.parse("PT1M"), 60)
        XCTAssertNil(WSManDuration.parse("P1M"), "months have no fixed length")
        XCTAssertNil(WSManDuration.parse("20"))
        XCTAssertNil(WSManDuration.parse("PT"))
        XCTAssertEqual(WSManDuration.format(seconds: 60), "PT60S")
        XCTAssertEqual(WSManDuration.formatMilliseconds(seconds: 7200), "PT7200.000S")
        XCTAssertEqual(WSManDuration.formatMilliseconds(seconds: 60.5), "PT60.500S")
    }
}
