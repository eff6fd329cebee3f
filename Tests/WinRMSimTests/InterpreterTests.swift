import Foundation
import XCTest
@testable import WinRMSim

final class InterpreterTests: XCTestCase {
    let context = SimMachineContext(hostName: "WIN0042", address: "127.1.0.42", userDomain: "WINFLEET", userName: "operator")

    private func run(_ line: String) -> SimProcessRun {
        guard case .run(let run) = CmdInterpreter.start(commandLine: line, context: context) else {
            XCTFail("\(line) waits for stdin")
            return SimProcessRun()
        }
        return run
    }

    private func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    func testCmdPrefixesAndArguments() {
        XCTAssertEqual(text(run("hostname").stdout), "WIN0042\r\n")
        XCTAssertEqual(text(run("cmd.exe /c hostname").stdout), "WIN0042\r\n")
        XCTAssertEqual(text(run("cmd /C \"echo quoted\"").stdout), "quoted\r\n")
        XCTAssertEqual(text(run("C:\\Windows\\System32\\HOSTNAME.EXE").stdout), "WIN0042\r\n")
        guard case .run(let joined) = CmdInterpreter.start(command: "cmd.exe", arguments: ["/c", "echo", "hi"], context: context) else {
            return XCTFail()
        }
        XCTAssertEqual(text(joined.stdout), "hi\r\n")
    }

    func testEchoKeepsTheRestOfTheLineVerbatim() {
        XCTAssertEqual(text(run("echo  two  spaces").stdout), " two  spaces\r\n")
        XCTAssertEqual(text(run("echo \"in quotes\"").stdout), "\"in quotes\"\r\n")
        XCTAssertEqual(text(run("echo.").stdout), "\r\n")
        XCTAssertEqual(text(run("echo").stdout), "ECHO is on.\r\n")
        XCTAssertEqual(text(run("echo a & echo b").stdout), "a \r\nb\r\n")
    }

    func testChainingAndExitCodes() {
        XCTAssertEqual(run("exit 3").exitCode, 3)
        XCTAssertEqual(run("exit /b 5").exitCode, 5)
        let chain = run("echo one && nosuch || echo recovered & exit 2 & echo skipped")
        XCTAssertEqual(text(chain.stdout), "one \r\nrecovered \r\n")
        XCTAssertEqual(chain.exitCode, 2)
        XCTAssertEqual(run("nosuch && echo never").exitCode, 9009)
    }

    func testUnknownCommandFailsLikeCmd() {
        let run = run("Frob -x")
        XCTAssertEqual(run.exitCode, 9009)
        XCTAssertEqual(text(run.stderr), "'Frob' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
    }

    func testVariablesExpand() {
        XCTAssertEqual(text(run("echo %COMPUTERNAME% %username% %NOPE%").stdout), "WIN0042 operator %NOPE%\r\n")
        XCTAssertEqual(text(run("whoami").stdout), "winfleet\\operator\r\n")
    }

    func testSleepAndTimeoutTakeTime() {
        XCTAssertEqual(run("sleep 3").duration, 3)
        XCTAssertEqual(run("timeout /t 4 /nobreak").duration, 4)
        let chain = run("echo a & sleep 2 & echo b")
        XCTAssertEqual(chain.chunks.map(\.at), [0, 2])
        XCTAssertEqual(chain.duration, 2)
    }

    func testBigIsExactAndNumbered() {
        let data = run("big 1000").stdout
        XCTAssertEqual(data.count, 1000)
        XCTAssertTrue(text(data).hasPrefix("00000001 "))
        XCTAssertTrue(text(data).contains("\r\n00000002 "))
        XCTAssertEqual(run("big 0").stdout.count, 0)
    }

    func testPowerShellCommandLines() {
        XCTAssertEqual(PowerShellInterpreter.invocation("powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command \"Write-Output 1\""),
                       .init(source: .script("Write-Output 1"), noProfile: true))
        XCTAssertEqual(PowerShellInterpreter.invocation("powershell.exe -nop -c -"), .init(source: .scriptFromStdin, noProfile: true))
        XCTAssertEqual(PowerShellInterpreter.invocation("powershell.exe -"), .init(source: .scriptFromStdin))
        XCTAssertEqual(PowerShellInterpreter.invocation("powershell.exe Write-Host hi"), .init(source: .script("Write-Host hi")))
        XCTAssertEqual(PowerShellInterpreter.invocation("powershell -enc !!!"), .init(source: .badEncoding))
        let encoded = Data("hostname".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).base64EncodedString()
        XCTAssertEqual(PowerShellInterpreter.invocation("PowerShell.exe -EncodedCommand \(encoded)"), .init(source: .script("hostname")))
        XCTAssertNil(PowerShellInterpreter.invocation("cmd /c echo"))
    }

    func testPowerShellScripts() {
        let script = """
            $ProgressPreference = "SilentlyContinue"
            $name = 'fleet'
            Write-Output "hello $name" 'single $name'
            Write-Host -NoNewline a; Write-Host b
            $env:COMPUTERNAME
            Start-Sleep -Milliseconds 500
            "done"
            """
        let run = PowerShellInterpreter.run(script: script, context: context)
        XCTAssertEqual(text(run.stdout), "hello fleet\r\nsingle $name\r\nab\nWIN0042\r\ndone\r\n")
        XCTAssertEqual(run.duration, 0.5)
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertEqual(run.stderr, Data())
    }

    func testPowerShellErrorsAreCLIXML() {
        let run = PowerShellInterpreter.run(script: "Write-Error 'bad <thing>'\nWrite-Output after", context: context)
        XCTAssertEqual(text(run.stdout), "after\r\n")
        XCTAssertEqual(run.exitCode, 0, "the last statement succeeded")
        let stderr = text(run.stderr)
        XCTAssertTrue(stderr.hasPrefix("#< CLIXML\r\n"))
        XCTAssertTrue(stderr.contains("<S S=\"Error\">Write-Error 'bad &lt;thing&gt;' : bad &lt;thing&gt;_x000D__x000A_</S>"))

        let thrown = PowerShellInterpreter.run(script: "throw 'stop here'; Write-Output never", context: context)
        XCTAssertEqual(thrown.stdout, Data())
        XCTAssertEqual(thrown.exitCode, 1)
        XCTAssertTrue(text(thrown.stderr).contains("<S S=\"Error\">stop here_x000D__x000A_</S>"))

        let missing = PowerShellInterpreter.run(script: "Get-Thing", context: context)
        XCTAssertEqual(missing.exitCode, 1)
        XCTAssertTrue(text(missing.stderr).contains("CommandNotFoundException"))
        XCTAssertEqual(PowerShellInterpreter.run(script: "exit 12", context: context).exitCode, 12)
    }

    func testPowerShellFromStdinRunsAfterEnd() {
        guard case .scriptFromStdin(let body) = CmdInterpreter.start(commandLine: "powershell -NoProfile -Command -", context: context) else {
            return XCTFail("expected a stdin script")
        }
        XCTAssertEqual(text(body("Write-Host \"output 1\";Write-Host \"output 2\";").stdout), "output 1\noutput 2\n")
    }
}

final class SPNEGOTokenTests: XCTestCase {
    func testParsesANegTokenInitAndBuildsAResponse() throws {
        let ntlm: [UInt8] = Array("NTLMSSP\0".utf8) + [1, 0, 0, 0]
        let mechList = SPNEGOToken.tlv(0x30, SPNEGOToken.tlv(0x06, SPNEGOToken.ntlmOID))
        let negTokenInit = SPNEGOToken.tlv(0xA0, SPNEGOToken.tlv(0x30,
            SPNEGOToken.tlv(0xA0, mechList) + SPNEGOToken.tlv(0xA2, SPNEGOToken.tlv(0x04, ntlm))))
        let token = Data(SPNEGOToken.tlv(0x60, SPNEGOToken.tlv(0x06, SPNEGOToken.spnegoOID) + negTokenInit))
        XCTAssertTrue(SPNEGOToken.isSPNEGO(token))
        let parsed = try SPNEGOToken.parse(token)
        XCTAssertTrue(parsed.isInit)
        XCTAssertEqual(parsed.mechTypes, [SPNEGOToken.ntlmOID])
        XCTAssertEqual(parsed.mechTypeListDER, mechList)
        XCTAssertEqual(parsed.mechToken, ntlm)

        let response = SPNEGOToken.response(state: .acceptIncomplete, supportedMech: SPNEGOToken.ntlmOID,
                                            responseToken: Data(repeating: 7, count: 300), mechListMIC: Data(count: 16))
        let back = try SPNEGOToken.parse(response)
        XCTAssertFalse(back.isInit)
        XCTAssertEqual(back.mechToken, Array(repeating: 7, count: 300))
        XCTAssertEqual(back.mechListMIC, Array(repeating: 0, count: 16))
        XCTAssertThrowsError(try SPNEGOToken.parse(Data([0xA1, 0x05, 0x30])))
    }
}
