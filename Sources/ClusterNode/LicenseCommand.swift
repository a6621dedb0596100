import ArgumentParser
import Foundation
import LicenseState
import Transport

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
            print(try write())
        }

        /// Writes the key pair; returns what was written, for the user.
        func write() throws -> String {
            let files = FileManager.default
            try files.createDirectory(atPath: out, withIntermediateDirectories: true)
            let keyPath = out + "/issuer.key"
            guard !files.fileExists(atPath: keyPath) else {
                printError("lts: \(keyPath) exists; refusing to overwrite a vendor key")
                throw ExitCode(1)
            }
            let key = Ed25519PrivateKey()
            guard files.createFile(atPath: keyPath, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]) else {
                printError("lts: cannot write \(keyPath)")
                throw ExitCode(1)
            }
            try key.publicKey.pem.write(toFile: out + "/issuer.pub", atomically: true, encoding: .utf8)
            return "wrote \(keyPath) and \(out)/issuer.pub (key ID \(key.publicKey.keyId))"
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
            print(try write())
        }

        /// Mints and writes the file; returns what was written, for the user.
        func write() throws -> String {
            guard let keyText = try? String(contentsOfFile: key, encoding: .utf8), let signer = try? Ed25519PrivateKey(pem: keyText) else {
                throw ValidationError("\(key) is not an Ed25519 private key (make one with lts license keygen)")
            }
            let now = WallClock.nowSeconds()
            let today = now - now % UTCTime.secondsPerDay
            var object: [String: Any] = [
                "licenseId": licenseId ?? UUID().uuidString.lowercased(), "alias": alias ?? org, "organizationId": org,
                "boundTo": boundTo, "issuerKeyId": signer.publicKey.keyId, "issuedAt": UTCTime.format(now),
                "items": try item.map { try Self.parseItem($0, today: today) },
            ]
            guard let signed = CanonicalJSON.encode(object) else { throw ValidationError("the license cannot be encoded") }
            object["signature"] = Data(signer.sign(signed)).base64EncodedString()
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            do {
                _ = try LicenseFile.parse(Array(data))
            } catch let error as LicenseError {
                throw ValidationError(error.message)
            }
            try data.write(to: URL(fileURLWithPath: out))
            return "wrote \(out): license \(object["licenseId"]!) for \(org), \(item.count) item(s), bound to \(boundTo)"
        }

        static let itemKeys: Set<String> = ["product", "edition", "chargeWay", "quantity", "expires", "starts", "window", "leaseSeconds", "itemId"]

        static func parseItem(_ spec: String, today: Int64) throws -> [String: Any] {
            var fields: [String: String] = [:]
            for pair in spec.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, itemKeys.contains(parts[0]) else {
                    throw ValidationError("--item '\(spec)': \"\(pair)\" is not one of \(itemKeys.sorted().joined(separator: ", "))=VALUE")
                }
                fields[parts[0]] = parts[1]
            }
            guard let product = fields["product"], let way = fields["chargeWay"], let quantityText = fields["quantity"],
                  let quantity = Int64(quantityText), let expiresText = fields["expires"] else {
                throw ValidationError("--item '\(spec)' needs product, chargeWay, quantity and expires")
            }
            guard let expires = UTCTime.parse(expiresText) else { throw ValidationError("--item '\(spec)': expires is not a date") }
            let starts = try fields["starts"].map { text -> Int64 in
                guard let value = UTCTime.parse(text) else { throw ValidationError("--item '\(spec)': starts is not a date") }
                return value
            } ?? today
            // A bare date means the whole of that day.
            let expiresAt = expiresText.count == 10 ? expires + UTCTime.secondsPerDay - 1 : expires
            var item: [String: Any] = ["itemId": fields["itemId"] ?? UUID().uuidString.lowercased(), "product": product,
                                       "chargeWay": way, "quantity": quantity, "startsAt": UTCTime.format(starts),
                                       "expiresAt": UTCTime.format(expiresAt)]
            if let edition = fields["edition"] { item["edition"] = edition }
            if let window = fields["window"] { item["activeWindow"] = window }
            if let lease = fields["leaseSeconds"] {
                guard let seconds = Int64(lease) else { throw ValidationError("--item '\(spec)': leaseSeconds is not a number") }
                item["leaseSeconds"] = seconds
            }
            return item
        }
    }
}
