// WinRMSim
