print("winfleet")
