// FleetStore
