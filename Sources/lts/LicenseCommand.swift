import ArgumentParser
import Foundation
import OperatorTools

/// `lts license`: vendor tools to make signing keys and license files (for
/// demos, tests and vendors running their own issuing).
struct LicenseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license",
        abstract: "Make vendor keys and signed license files.",
        subcommands: [Keygen.self, Issue.self]
    )

    /// `lts license keygen --out DIR`
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new vendor key pair: DIR/issuer.key (private, keep it secret) and DIR/issuer.pub.",
            discussion: "Put the path of issuer.pub into \"trustedIssuers\" of every node that should accept files signed with it."
        )

        @Option(name: .long, help: "The directory to write issuer.key and issuer.pub into.")
        var out: String

        func run() throws {
            print(try VendorKey.write(into: out))
        }
    }

    /// `lts license issue …`
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a signed license file.",
            discussion: """
            Each --item is a comma-separated list of key=value: product (required), edition, \
            chargeWay (scan|device|concurrentInstance|concurrentDevice|domain, required), quantity (required), \
            expires (YYYY-MM-DD or a UTC time, required), starts (default: today), window (year|quarter|month|day, \
            device items), leaseSeconds (concurrent items), itemId (default: a new UUID).
            Example: --item 'product=dbr,edition=js,chargeWay=scan,quantity=10000,expires=2027-12-31'
            """
        )

        @Option(name: .long, help: "The vendor's private key (issuer.key from keygen).")
        var key: String

        @Option(name: .long, help: "The customer's organization ID (handshake codes start with it).")
        var org: String

        @Option(name: .customLong("bound-to"), help: "The server UUID the file is for, or * for any server.")
        var boundTo: String

        @Option(name: .long, parsing: .singleValue, help: "A license item (repeat for more).")
        var item: [String]

        @Option(name: .long, help: "A name shown in the portal (default: the organization ID).")
        var alias: String?

        @Option(name: .customLong("license-id"), help: "The license ID (default: a new UUID).")
        var licenseId: String?

        @Option(name: .long, help: "Where to write the file.")
        var out: String

        func run() throws {
            print(try LicenseIssue(key: key, org: org, boundTo: boundTo, items: item, alias: alias, licenseId: licenseId, out: out).write())
        }
    }
}
