// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "lts",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lts", targets: ["lts"]),
        .library(name: "LicenseClient", targets: ["LicenseClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // One system library per C library, each linking only its own.
        .systemLibrary(name: "CH2O", path: "Sources/CH2O", pkgConfig: "libh2o"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        // The C glue, split the same way.
        .target(name: "CTLSShim", dependencies: ["COpenSSL"]),
        .target(name: "CCurlShim", dependencies: ["CCurl", "CTLSShim"]),
        .target(name: "CServerShim", dependencies: ["CH2O", "COpenSSL", "CTLSShim"]),
        .target(name: "CSQLiteShim", dependencies: ["CSQLite"]),
        .target(name: "Platform", dependencies: ["COpenSSL", "CCurl", "CTLSShim", "CCurlShim"], exclude: ["README.md"]),
        .target(
            name: "Transport",
            dependencies: ["Platform", "CH2O", "COpenSSL", "CSQLite", "CTLSShim", "CServerShim", "CSQLiteShim", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"]
        ),
        .target(name: "WireFormat", exclude: ["README.md"]),
        .target(name: "LicenseState", dependencies: ["WireFormat"]),
        .target(name: "Replication", dependencies: ["WireFormat"]),
        .target(name: "LicenseClient", dependencies: ["Platform"]),
        .target(
            name: "ClusterNode",
            dependencies: [
                "Transport", "LicenseState", "LicenseClient", "Replication",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md", "Node/README.md", "Config/README.md", "Store/README.md", "Cluster/README.md", "API/README.md",
                      "Alerts/README.md", "Security/README.md", "Pairing/README.md"],
            resources: [.copy("Portal")]
        ),
        .target(
            name: "OperatorTools",
            dependencies: [
                "ClusterNode", "Transport", "LicenseState", "LicenseClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md", "Drill/README.md", "Load/README.md", "Pair/README.md", "Vendor/README.md", "CLI/README.md"]
        ),
        .executableTarget(
            name: "lts",
            dependencies: [
                "ClusterNode", "OperatorTools", "Transport", "Platform", "LicenseClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // The fuzzer's entry (make fuzz builds it with -sanitize=fuzzer).
        .target(name: "FuzzTargets", dependencies: ["ClusterNode", "LicenseState", "Replication", "Transport"]),
        .executableTarget(name: "lts-fuzz", dependencies: ["FuzzTargets"]),
        .target(name: "LTSTestSupport", dependencies: ["Transport"], path: "Tests/LTSTestSupport"),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "Replication", "LTSTestSupport"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "LicenseState", "LTSTestSupport"]),
        .testTarget(name: "WireFormatTests", dependencies: ["WireFormat"]),
        .testTarget(name: "LicenseStateTests", dependencies: ["LicenseState", "LTSTestSupport"]),
        .testTarget(name: "LicenseClientTests", dependencies: ["LicenseClient"]),
        .testTarget(
            name: "ClusterNodeTests",
            dependencies: [
                "ClusterNode", "Transport", "LicenseState", "Replication", "LTSTestSupport", "FuzzTargets",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ProcessTests",
            dependencies: ["lts", "ClusterNode", "OperatorTools", "Transport", "LicenseState", "Replication", "LicenseClient", "Platform", "LTSTestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
