// WinRMSim — simulated Windows hosts for tests and demos.
//
// `SimulatedFleet` starts N hosts on consecutive loopback addresses (127.1.0.1 …, skipping .0/.255),
// one SwiftNIO listener per host, all on one `MultiThreadedEventLoopGroup` of `System.coreCount` threads.
// Each host behaves like HTTP.sys + the WinRM service + a cmd.exe/powershell.exe that knows a few commands.
//
// Layers (I/O only at the edge):
//   SimConnectionHandler  NIO handler per TCP connection: HTTP/1.1 keep-alive, POST /wsman, latency,
//                         sealing/unsealing, Receive long-poll timers, fault injection on the wire
//   SimConnectionAuth     per-connection auth state machine (Basic; NTLM raw, under `Negotiate`/`NTLM`,
//                         or inside SPNEGO with mechListMIC — see SPNEGOToken; Kerberos raw or in SPNEGO
//                         through MIT GSS-API with a keytab — see SimKerberosAcceptor)
//   SimWinRSCodec         WSMan SOAP <-> engine types (WinRSServer.parseRequest / response builders)
//   SimHostEngine         per-host WinRS state: shells, commands, output timelines, idle expiry (clock injected)
//   CmdInterpreter, PowerShellInterpreter   pure: command line -> SimProcessRun (timed output + exit code)
//
// Windows behaviours reproduced, and where they come from:
// - Unauthenticated request: 401, `WWW-Authenticate: Negotiate` (+ `Basic realm="WSMAN"` where Basic is
//   usable), `Content-Length: 0`, `Server: Microsoft-HTTPAPI/2.0`. Negotiate is always enabled (as on
//   Windows); `.basic` adds Basic. `Expect: 100-continue` is answered at once, as HTTP.sys does.
// - Optional HTTP.sys IdleConnectionTimeout (`connectionIdleTimeoutSeconds`, Windows: 120 s): a keep-alive
//   connection without a request for that long is closed (never during a Receive long poll).
// - Known gap: NTLM inside SPNEGO works (pypsrp over https), but *sealed* SPNEGO-NTLM over http does not:
//   after the mechListMIC exchange Windows/pyspnego restart the RC4 handles (sequence numbers continue)
//   and NTLMSealer offers no such reset yet. Raw NTLM (pywinrm, our transport) seals fine.
// - Basic over http with AllowUnencrypted=false: 401 and Basic is not offered (jborean93 in
//   hashicorp/packer#6205: Basic against a default host gives 401; pywinrm reports "credentials rejected").
// - NTLM is connection-bound: the AUTHENTICATE must arrive on the connection that received the CHALLENGE,
//   else 401 (the affinity failure the "Proxy Servers and WinRM" document describes). After the 200 the
//   connection stays authenticated; a new connection must authenticate again.
// - Plain SOAP body on an authenticated http connection with AllowUnencrypted=false: 401 and the
//   connection's authentication is dropped (hashicorp/packer#6205 "it will constantly send a 401",
//   cloudsoft/winrm4j#110). Kerberos clients report 500 in the same situation (diyan/pywinrm#129); the
//   simulator answers 401 for Kerberos connections too.
// - Kerberos (`keytab` set, auth negotiate or kerberos): the 401 offers `Negotiate` and `Kerberos`; a host
//   accepts tickets for its own SPN only (HTTP/<name lower>.<realm lower>@REALM) and only for its accounts;
//   the 200 carries the AP-REP (mutual authentication), a refused ticket's 401 the KRB-ERROR (clock skew…).
//   Sealed responses use the protocol name of the scheme (Kerberos → HTTP-Kerberos-session-encrypted).
// - Sealed body that fails to unseal/verify: 400 and the connection is closed (the RC4 stream is broken;
//   clients see 400 after a context desync, adityatelange/evil-winrm-py#3).
// - Over https with NTLM, the tls-server-end-point channel binding is required (CbtHardeningLevel=Strict;
//   missing CBT is the "credentials rejected" of diyan/pywinrm#105).
// - Request body larger than MaxEnvelopeSizekb: HTTP 413 with an empty body (jborean93 in
//   ansible-collections/ansible.windows#620: "HTTP 413 … the WinRM service complaining the data it is given
//   is too large"; masterzen/winrm#156). The Windows client maps this to 0x80338111.
// - Receive with no output within OperationTimeout: 500 + fault 2150858793 w:TimedOut (fixture
//   winrs_operation_timeout; MS-WSMV 3.1.4.14). OperationTimeout is capped at MaxTimeoutms (60 s).
// - Unknown ShellId: 500 + fault 2150858843 w:InvalidSelectors with w:FaultDetail UnexpectedSelectors
//   (fixtures psrp_is_alive_invalid_selectors, winrs_bad_cmd_id); unknown CommandId on Receive/Send: same
//   code with the command-identifier message; Signal for an unknown CommandId is acknowledged.
// - Quota fault injection: 500 + `p:MSFT_WmiError` error_Code 2150859174, MessageID `HRESULT 0x803381a6`
//   (diyan/pywinrm winrm/tests/test_exceptions.py).
// - Output: Receive returns whatever the process has written so far (Running), Done with the two
//   End="true" markers and ExitCode once it exited and everything was delivered; each response carries at
//   most (MaxEnvelopeSize − 4 KiB) × 3/4 output bytes.
// - cmd.exe: unknown command → stderr "'x' is not recognized as an internal or external command,\r\n
//   operable program or batch file.\r\n", exit 9009; echo keeps the rest of the line verbatim.
// - powershell.exe: errors on stderr as CLIXML (`#< CLIXML` + <Objs> with <S S="Error"> lines), what
//   pywinrm's run_ps, pypsrp and Ansible decode; Write-Host lines end in LF (fixture winrs_send).
