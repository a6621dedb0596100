// swift-tools-version:5.10
// A program that uses only the LicenseClient product, so that
// tests/client-link/check.sh can show which C libraries a customer's
// application links through it.
import PackageDescription

let package = Package(
    name: "client-link-probe",
    dependencies: [.package(name: "lts", path: "../..")],
    targets: [
        .executableTarget(name: "client-link-probe", dependencies: [.product(name: "LicenseClient", package: "lts")]),
    ]
)
