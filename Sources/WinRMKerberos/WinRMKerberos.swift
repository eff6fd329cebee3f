// WinRMKerberos
