import Foundation
import XCTest
@testable import WinRMKerberos

/// Runs the HTTP-style exchange between a client and a server context until both are
/// complete: each client token goes to the server; each server token (401 leg or the final
/// 200) goes back to the client. Returns the number of client→server tokens.
@discardableResult
func runHandshake(client: KerberosClientContext, server: KerberosServerContext,
                  file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    var input: Data?
    var legs = 0
    for _ in 0 ..< 6 {
        let (token, clientDone) = try client.step(input)
        input = nil
        if let token {
            legs += 1
            input = try server.step(token).token
        }
        if clientDone {
            if let input { _ = try client.step(input) }
            XCTAssertTrue(server.isComplete, "client complete but server not", file: file, line: line)
            return legs
        }
        guard input != nil else {
            XCTFail("client needs another token but the server sent none", file: file, line: line)
            return legs
        }
    }
    XCTFail("handshake did not converge", file: file, line: line)
    return legs
}

func bytes(_ count: Int, seed: UInt8 = 7) -> Data {
    var data = Data(count: count)
    var value = seed
    for index in 0 ..< count {
        value = value &* 31 &+ 17
        data[index] = value == 0x01 ? 0x02 : value
    }
    return data
}

extension XCTestCase {
    /// Asserts that `body` throws a KerberosError matching `matches`, and returns it.
    @discardableResult
    func assertKerberosError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                                _ matches: (KerberosError) -> Bool) -> KerberosError? {
        do {
            _ = try body()
            XCTFail("expected a KerberosError, nothing was thrown", file: file, line: line)
        } catch let error as KerberosError {
            XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a KerberosError, got \(error)", file: file, line: line)
        }
        return nil
    }
}
