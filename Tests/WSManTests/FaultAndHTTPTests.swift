import Foundation
import XCTest
@testable import WSMan

/// Fault shapes seen from other servers (modelled on reference §3.6 and pywinrm's tests) and
/// bodies that are not SOAP at all.
final class FaultAndHTTPTests: XCTestCase {
    private func envelope(relatesTo: String?, body: String) -> Data {
        Data("""
        <s:Envelope xml:lang="en-US"
            xmlns:s="http://www.w3.org/2003/05/soap-envelope"
            xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
            xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
            xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">
          <s:Header>
            <a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>
            <a:MessageID>uuid:A832545B-9F5C-46AA-BB6A-5E4270D5E530</a:MessageID>
            <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
            \(relatesTo.map { "<a:RelatesTo>\($0)</a:RelatesTo>" } ?? "")
          </s:Header>
          <s:Body>\(body)</s:Body>
        </s:Envelope>
        """.utf8)
    }

    private func fault(_ data: Data) throws -> WSManFault {
        do {
            _ = try WSManResponse.envelope(status: 500, contentType: "application/soap+xml;charset=UTF-8", body: data,
                                           from: "win01:5985")
        } catch WSManError.fault(let fault) {
            return fault
        }
        throw WSManError.unexpectedResponse("no fault raised")
    }

    /// Newer servers report quota errors as p:MSFT_WmiError (pretty-printed, its own `p` prefix).
    func testMSFTWmiErrorQuotaFault() throws {
        let parsed = try fault(envelope(relatesTo: nil, body: """
            <s:Fault>
              <s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. </s:Text></s:Reason>
              <s:Detail>
                <p:MSFT_WmiError b:IsCIM_Error="true"
                    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                    xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
                    xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError"
                    xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xsi:type="p:MSFT_WmiError_Type">
                  <p:CIMStatusCode xsi:type="cim:cimUnsignedInt">27</p:CIMStatusCode>
                  <p:Message xsi:type="cim:cimString">The WS-Management service cannot process the request. This user has exceeded the maximum number of concurrent operations. </p:Message>
                  <p:MessageID xsi:type="cim:cimString">HRESULT 0x803381a6</p:MessageID>
                  <p:error_Category xsi:type="cim:cimUnsignedInt">30</p:error_Category>
                  <p:error_Code xsi:type="cim:cimUnsignedInt">2150859174</p:error_Code>
                  <p:error_Type xsi:type="cim:cimString">HRESULT</p:error_Type>
                </p:MSFT_WmiError>
              </s:Detail>
            </s:Fault>
            """))
        XCTAssertEqual(parsed.code, 2150859174)
        XCTAssertEqual(parsed.hexCode, "0x803381A6")
        XCTAssertTrue(parsed.isQuota)
        XCTAssertFalse(parsed.isShellGone)
        XCTAssertEqual(parsed.messageID, "HRESULT 0x803381a6")
        XCTAssertEqual(parsed.message,
                       "The WS-Management service cannot process the request. This user has exceeded the maximum number of concurrent operations.")
        XCTAssertEqual(parsed.soapCode, "s:Receiver")
        XCTAssertEqual(parsed.subcode, "w:InternalError")
        XCTAssertNil(parsed.machine)
        XCTAssertNil(parsed.relatesTo)
    }

    func testSchemaValidationFault() throws {
        let parsed = try fault(envelope(relatesTo: "uuid.761ca906-0bf0-41bb-a9d9-4cbbca986aeb", body: """
            <s:Fault>
              <s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:SchemaValidationError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="">The SOAP XML in the message does not match the corresponding XML schema definition. </s:Text></s:Reason>
              <s:Detail>
                <f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858817" Machine="SERVER2008.domain.local">
                  <f:Message>The Windows Remote Shell cannot process the request; the SOAP packet contains an element Argument that is invalid. </f:Message>
                </f:WSManFault>
              </s:Detail>
            </s:Fault>
            """))
        XCTAssertEqual(parsed, WSManFault(
            code: 2150858817, machine: "SERVER2008.domain.local",
            message: "The Windows Remote Shell cannot process the request; the SOAP packet contains an element Argument that is invalid.",
            soapCode: "s:Sender", subcode: "w:SchemaValidationError",
            reason: "The SOAP XML in the message does not match the corresponding XML schema definition.",
            relatesTo: "uuid.761ca906-0bf0-41bb-a9d9-4cbbca986aeb"))
        XCTAssertFalse(parsed.isOperationTimeout || parsed.isShellGone || parsed.isQuota)
        XCTAssertEqual(parsed.hexCode, "0x80338041")
    }

    func testFaultWithoutDetailUsesReasonOrCode() throws {
        let reasonOnly = try fault(envelope(relatesTo: nil, body: """
            <s:Fault><s:Code><s:Value>s:MustUnderstand</s:Value></s:Code><s:Reason><s:Text xml:lang=""> Test reason. </s:Text></s:Reason></s:Fault>
            """))
        XCTAssertEqual(reasonOnly.message, "Test reason.")
        XCTAssertNil(reasonOnly.code)
        XCTAssertEqual(reasonOnly.description, "WS-Management fault s:MustUnderstand: Test reason.")
        let bare = try fault(envelope(relatesTo: nil, body: "<s:Fault><s:Code><s:Value>s:Unknown</s:Value></s:Code></s:Fault>"))
        XCTAssertEqual(bare.message, "no error message in fault (s:Unknown)")
    }

    func testQuotaShellsViaServerBuilder() throws {
        let xml = WinRSServer.wmiErrorFault(relatesTo: "uuid:1", code: WSManFault.quotaMaxShellsCode,
                                            message: "This user is allowed a maximum number of 30 concurrent shells, which has been exceeded.",
                                            reason: "The WS-Management service cannot process the request.")
        let parsed = try fault(Data(xml.utf8))
        XCTAssertTrue(parsed.isQuota)
        XCTAssertEqual(parsed.code, 2150859173)
        XCTAssertEqual(parsed.messageID, "HRESULT 0x803381a5")
        XCTAssertEqual(parsed.relatesTo, "uuid:1")
    }

    func testFaultCodeForms() {
        XCTAssertEqual(WSManFault.parseCode("2150858793"), 2150858793)
        XCTAssertEqual(WSManFault.parseCode("-2144108503"), 2150858793)
        XCTAssertEqual(WSManFault.parseCode("0x80338029"), 2150858793)
        XCTAssertNil(WSManFault.parseCode("abc"))
    }

    // MARK: - Bodies that are not SOAP

    func testProxyHTMLErrorPage() {
        let page = """
        <!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
        <html><head>
        <meta type="copyright" content="Copyright (C) 1996-2023 The Squid Software Foundation and contributors">
        <meta http-equiv="Content-Type" content="text/html; charset=utf-8">
        <title>ERROR: The requested URL could not be retrieved</title>
        <style type="text/css"><!-- body { font-family: verdana } --></style>
        </head><body><div id="titles"><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2></div></body></html>
        """
        XCTAssertThrowsError(try WSManResponse.envelope(status: 502, contentType: "text/html;charset=utf-8",
                                                        body: Data(page.utf8), from: "127.0.0.1:3128")) { error in
            guard case .notSOAP(let status, let contentType, _) = error as? WSManError else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 502)
            XCTAssertEqual(contentType, "text/html;charset=utf-8")
            XCTAssertEqual("\(error)",
                           "HTTP 502 from 127.0.0.1:3128: text/html page \"ERROR: The requested URL could not be retrieved\" "
                           + "— not a WinRM (SOAP) response")
        }
        // Without a Content-Type the page is still recognised; entities in the title are decoded.
        let iis = "<html><head><TITLE>Service Unavailable &amp; more</TITLE></head><body></body></html>"
        XCTAssertThrowsError(try WSManResponse.envelope(status: 503, contentType: nil, body: Data(iis.utf8),
                                                        from: "proxy.example.test:8080")) { error in
            XCTAssertEqual("\(error)", "HTTP 503 from proxy.example.test:8080: text/html page \"Service Unavailable & more\" "
                           + "— not a WinRM (SOAP) response")
        }
        let untitled = "<html><body><h1>Gateway Timeout</h1></body></html>"
        XCTAssertThrowsError(try WSManResponse.envelope(status: 504, contentType: "text/html", body: Data(untitled.utf8),
                                                        from: "p:3128")) { error in
            XCTAssertTrue("\(error)".contains("text/html page \"Gateway Timeout\""), "\(error)")
        }
    }

    func testXHTMLPageAndMissingOrigin() {
        let xhtml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
        <html xmlns="http://www.w3.org/1999/xhtml"><head><title>407 Proxy Authentication Required</title></head><body>&nbsp;</body></html>
        """
        XCTAssertThrowsError(try WSManResponse.envelope(status: 407, contentType: "application/xhtml+xml", body: Data(xhtml.utf8),
                                                        from: "")) { error in
            XCTAssertEqual("\(error)", "HTTP 407 application/xhtml+xml page \"407 Proxy Authentication Required\" "
                           + "— not a WinRM (SOAP) response")
        }
    }

    func testEmptyAndPlainTextBodies() {
        XCTAssertThrowsError(try WSManResponse.envelope(status: 500, contentType: nil, body: Data(), from: "win01:5985")) { error in
            XCTAssertEqual(error as? WSManError, .notSOAP(status: 500, contentType: nil, summary: "from win01:5985: empty body"))
            XCTAssertEqual("\(error)", "HTTP 500 from win01:5985: empty body — not a WinRM (SOAP) response")
        }
        XCTAssertThrowsError(try WSManResponse.envelope(status: 400, contentType: "text/plain", body: Data("Bad Request\r\n".utf8),
                                                        from: "win01:5985")) { error in
            XCTAssertEqual("\(error)", "HTTP 400 from win01:5985: text/plain body \"Bad Request\" — not a WinRM (SOAP) response")
        }
        XCTAssertThrowsError(try WSManResponse.envelope(status: 200, contentType: "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"",
                                                        body: Data("--Encrypted Boundary\r\n".utf8), from: "win01:5985")) { error in
            XCTAssertTrue("\(error)".contains("multipart/encrypted body that was not decrypted"), "\(error)")
        }
        XCTAssertThrowsError(try WSManResponse.envelope(status: 200, contentType: "application/xml",
                                                        body: Data("<root xmlns=\"urn:x\"/>".utf8), from: "h:1")) { error in
            XCTAssertTrue("\(error)".contains("XML document <root> (urn:x) instead of a SOAP envelope"), "\(error)")
        }
        XCTAssertThrowsError(try WSManResponse.envelope(status: 200, contentType: "application/soap+xml",
                                                        body: Data("<s:Envelope xmlns:s=\"\(WSManNamespace.soap)\"><s:Body>".utf8),
                                                        from: "h:1")) { error in
            XCTAssertTrue("\(error)".contains("malformed XML"), "\(error)")
        }
    }

    func testEnvelopeChecksFaultAndRelatesTo() throws {
        let timeout = WinRSServer.operationTimeoutFault(relatesTo: "uuid:AAA", machine: "win01")
        XCTAssertThrowsError(try WSManResponse.envelope(status: 500, contentType: "application/soap+xml", body: Data(timeout.utf8),
                                                        from: "win01:5985", relatesTo: "uuid:AAA")) { error in
            XCTAssertEqual((error as? WSManError)?.fault?.isOperationTimeout, true)
        }
        XCTAssertThrowsError(try WSManResponse.envelope(status: 500, contentType: "application/soap+xml", body: Data(timeout.utf8),
                                                        from: "win01:5985", relatesTo: "uuid:BBB")) { error in
            XCTAssertEqual(error as? WSManError, .relatesToMismatch(expected: "uuid:BBB", got: "uuid:AAA"))
        }
        let ok = WinRSServer.deleteResponse(relatesTo: "uuid:AAA")
        let root = try WSManResponse.envelope(status: 200, contentType: "application/soap+xml;charset=UTF-8",
                                              body: Data(ok.utf8), from: "win01:5985", relatesTo: "uuid:AAA")
        XCTAssertEqual(WSManResponse.action(of: root), WSManAction.deleteResponse)
        XCTAssertNotNil(WSManResponse.messageID(of: root))
    }
}
