// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "winfleet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "winfleet", targets: ["winfleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        // C libraries, each behind a module map and pkg-config.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CGSSAPI", pkgConfig: "krb5-gssapi",
                       providers: [.apt(["libkrb5-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // The one small C shim for variadic and macro APIs (curl_easy_setopt, getmaxyx, COLOR_PAIR).
        .target(name: "CShims", dependencies: ["CCurl", "CNcurses"]),

        .target(name: "ASCIIText"),
        .target(name: "WSMan", dependencies: ["ASCIIText"]),
        .target(name: "WinRMAuth", dependencies: ["ASCIIText",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "WinRMKerberos", dependencies: ["CGSSAPI"]),
        .target(name: "WinRMTransport", dependencies: ["ASCIIText", "CCurl", "CShims", "WinRMAuth", "WinRMKerberos",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Inventory", dependencies: ["ASCIIText"]),
        .target(name: "Fleet", dependencies: ["Inventory", "WSMan", "WinRMAuth", "WinRMTransport"]),
        .target(name: "FleetStore", dependencies: ["CSQLite"]),
        .target(name: "Console", dependencies: ["CNcurses", "CShims"]),
        .target(name: "WinRMSim", dependencies: [
            "ASCIIText", "WSMan", "WinRMAuth", "WinRMKerberos",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "winfleet", dependencies: [
            "Fleet", "FleetStore", "Console", "WinRMSim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Code shared by the test targets (not shipped).
        .executableTarget(name: "store-bench", dependencies: ["FleetStore"], path: "bench/StoreBench"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "FleetTestSupport", dependencies: ["Fleet", "WinRMSim", "Inventory"], path: "Tests/FleetTestSupport"),
        .testTarget(name: "ASCIITextTests", dependencies: ["ASCIIText"]),
        .testTarget(name: "WSManTests", dependencies: ["ASCIIText", "WSMan"]),
        .testTarget(name: "WinRMAuthTests", dependencies: ["WinRMAuth"]),
        .testTarget(name: "WinRMTransportTests", dependencies: ["WinRMTransport", "WinRMSim", "WSMan", "TestSupport"]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "WinRMSim", "TestSupport", "FleetTestSupport"]),
        .testTarget(name: "WinRMKerberosTests", dependencies: ["WinRMKerberos", "TestSupport"]),
        .testTarget(name: "FleetStoreTests", dependencies: ["FleetStore"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"], exclude: ["Golden"]),
        .testTarget(name: "ConsoleTmuxTests", dependencies: ["TestSupport"]),
        .testTarget(name: "WinRMSimTests", dependencies: ["WinRMSim", "WSMan", "WinRMAuth"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Fleet", "WinRMSim"]),
        .testTarget(name: "ProxyTests", dependencies: ["Fleet", "WinRMSim", "Inventory", "WinRMTransport", "TestSupport"]),
        .testTarget(name: "KerberosEndToEndTests", dependencies: ["Fleet", "WinRMSim", "WinRMKerberos", "WinRMTransport", "Inventory", "TestSupport", "FleetTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
