// WinRMTransport
