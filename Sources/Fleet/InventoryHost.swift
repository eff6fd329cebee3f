// Foundation has a `Host` class too; this file imports only Inventory so that the name
// resolves to the inventory's host, and the rest of Fleet uses the alias.
import Inventory

public typealias InventoryHost = Host
