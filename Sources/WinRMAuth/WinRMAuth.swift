// WinRMAuth
