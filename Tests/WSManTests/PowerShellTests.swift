import Foundation
import XCTest
@testable import WSMan

final class PowerShellTests: XCTestCase {
    /// Expected values computed with python3: base64.b64encode(s.encode("utf-16-le")).
    func testEncodedCommandMatchesIndependentValues() {
        XCTAssertEqual(PowerShell.encodedCommand("Write-Host hi"), "VwByAGkAdABlAC0ASABvAHMAdAAgAGgAaQA=")
        XCTAssertEqual(PowerShell.encodedCommand("Get-Date; 'héllo €' ; \"😀\""),
                       "RwBlAHQALQBEAGEAdABlADsAIAAnAGgA6QBsAGwAbwAgAKwgJwAgADsAIAAiAD3YAN4iAA==")
        XCTAssertEqual(PowerShell.encodedCommand(""), "")
    }

    func testShortScriptUsesEncodedCommand() {
        let invocation = PowerShell.invocation(for: "Get-Service WinRM")
        XCTAssertEqual(invocation.command, "powershell")
        XCTAssertEqual(invocation.arguments, ["-NoProfile", "-NonInteractive", "-EncodedCommand",
                                              PowerShell.encodedCommand("Get-Service WinRM")])
        XCTAssertNil(invocation.stdin)
        XCTAssertTrue(invocation.consoleModeStdin)
        XCTAssertEqual(PowerShell.decodeScript(command: invocation.command, arguments: invocation.arguments, stdin: nil),
                       "Get-Service WinRM")
    }

    /// `cmd.exe /c powershell -NoProfile -NonInteractive -EncodedCommand ` is 65 characters; an ASCII
    /// script of n characters adds 4·⌈2n/3⌉. n = 3046 gives 8189 (fits), n = 3047 gives 8193.
    func testSwitchesToStdinAboveTheCmdLineLimit() throws {
        let fits = String(repeating: "a", count: 3046)
        let encoded = PowerShell.invocation(for: fits)
        XCTAssertNil(encoded.stdin)
        XCTAssertEqual(("cmd.exe /c " + encoded.commandLine).count, 8189)

        let tooLong = String(repeating: "a", count: 3047)
        let viaStdin = PowerShell.invocation(for: tooLong)
        XCTAssertEqual(viaStdin.command, "powershell")
        XCTAssertEqual(viaStdin.arguments, ["-NoProfile", "-NonInteractive", "-Command", "-"])
        XCTAssertFalse(viaStdin.consoleModeStdin, "stdin is a pipe when the script arrives through Send")
        let stdin = try XCTUnwrap(viaStdin.stdin)
        XCTAssertEqual(PowerShell.decodeScript(command: viaStdin.command, arguments: viaStdin.arguments, stdin: stdin), tooLong)
    }

    func testCommandForInvocationChoosesConsoleMode() throws {
        let ctx = WSManEndpointContext(to: "http://h:5985/wsman")
        func optionNames(_ invocation: CommandInvocation) throws -> [String?] {
            let root = try XMLNode.parse(WinRS.command(ctx, shellID: "S", invocation: invocation).body)
            return try XCTUnwrap(root.descendant(WSManNamespace.wsman, "OptionSet")).children.map { $0.attribute("Name") }
        }
        XCTAssertEqual(try optionNames(PowerShell.invocation(for: "hostname")), ["WINRS_CONSOLEMODE_STDIN", "WINRS_SKIP_CMD_SHELL"])
        XCTAssertEqual(try optionNames(PowerShell.invocation(for: String(repeating: "x", count: 5000))), ["WINRS_SKIP_CMD_SHELL"])
    }

    func testStdinFormIsOneASCIILineEndedByCRLFAndAnEmptyLine() throws {
        let script = """
        function Get-Thing
        {
            param($x)

            if ($x) { "yes: é €" }
            else { "no" }
        }
        Get-Thing 1
        exit 3
        """
        let invocation = PowerShell.invocation(for: String(repeating: "# padding\n", count: 900) + script)
        let stdin = try XCTUnwrap(invocation.stdin)
        XCTAssertTrue(stdin.allSatisfy { $0 < 0x80 }, "ASCII: independent of the console code page")
        let text = String(decoding: stdin, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("))))\r\n\r\n"))
        XCTAssertEqual(text.components(separatedBy: "\r\n").count, 3, "one statement line, one empty line, end")
        XCTAssertFalse(text.dropLast(4).contains("\n"))
        XCTAssertTrue(text.hasPrefix("& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('"))
        XCTAssertEqual(PowerShell.decodeScript(command: "powershell", arguments: invocation.arguments, stdin: stdin),
                       String(repeating: "# padding\n", count: 900) + script)
    }

    func testDecodeScriptVariants() {
        let encoded = PowerShell.encodedCommand("dir")
        XCTAssertEqual(PowerShell.decodeScript(command: "powershell.exe -NoProfile -enc \(encoded)", arguments: [], stdin: nil), "dir")
        XCTAssertEqual(PowerShell.decodeScript(command: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                               arguments: ["-EncodedCommand", encoded], stdin: nil), "dir")
        XCTAssertEqual(PowerShell.decodeScript(command: "powershell.exe", arguments: ["-Command", "-"],
                                               stdin: Data("Write-Host \"output 1\";\r\n".utf8)), "Write-Host \"output 1\";\r\n",
                       "plain stdin (as pypsrp's winrs_send fixture sends) is returned as text")
        XCTAssertEqual(PowerShell.decodeScript(command: "powershell.exe", arguments: ["Write-Host", "hi"], stdin: nil), nil)
        XCTAssertEqual(PowerShell.decodeScript(command: "powershell", arguments: ["-Command", "Get-Date", "-Format", "o"],
                                               stdin: nil), "Get-Date -Format o")
        XCTAssertNil(PowerShell.decodeScript(command: "cmd.exe", arguments: ["/c", "echo"], stdin: nil))
    }

    // MARK: - CLIXML

    func testCleanCLIXMLKeepsErrorRecordsOnly() {
        let stderr = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
            + "<Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T>"
            + "<T>System.Object</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV>"
            + "<AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>"
            + "<S S=\"Error\">Write-Error &quot;bad&quot; : bad_x000D__x000A_</S>"
            + "<S S=\"Error\">    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException_x000D__x000A_</S>"
            + "<S S=\"verbose\">not shown_x000D__x000A_</S>"
            + "<S S=\"Error\">    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException_x000D__x000A_</S>"
            + "<S S=\"Error\"> _x000D__x000A_</S></Objs>"
        XCTAssertEqual(PowerShell.cleanCLIXML(stderr), """
            Write-Error "bad" : bad
                + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException
                + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException
             
            """.trimmingCharacters(in: .newlines))
    }

    func testCleanCLIXMLEscapesAndSurroundingText() {
        XCTAssertEqual(PowerShell.decodeCLIXMLEscapes("a_x005F_b_xD83D__xDE00_c_x0009_d_xZZZZ_"), "a_b😀c\td_xZZZZ_")
        XCTAssertEqual(PowerShell.cleanCLIXML("plain error\r\n"), "plain error\r\n", "no CLIXML: unchanged")
        let twoBlocks = "before\n#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
            + "<S S=\"Error\">one_x000A_</S></Objs>\r\n#< CLIXML\r\n<Objs Version=\"1.1.0.1\" "
            + "xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">two_x000D__x000A_</S></Objs>"
        XCTAssertEqual(PowerShell.cleanCLIXML(twoBlocks), "before\none\ntwo")
        let truncated = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
            + "<S S=\"Error\">partial &amp; cut_x000D__x000A_</S><S S=\"Error\">x</S>"
        XCTAssertEqual(PowerShell.cleanCLIXML(truncated), truncated.replacingOccurrences(of: "#< CLIXML", with: "")
            .replacingOccurrences(of: "\r\n", with: "\n"), "no </Objs>: the rest is kept as it is")
        let brokenXML = "#< CLIXML\r\n<Objs xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
            + "<S S=\"Error\">a &amp; b_x000D__x000A_</S><Obj><unclosed></Objs>"
        XCTAssertEqual(PowerShell.cleanCLIXML(brokenXML), "a & b")
    }
}
