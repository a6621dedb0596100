import ArgumentParser
import Foundation
import LicenseState
import Platform
import Transport

/// A signed license file to mint, as `lts license issue` takes it: each item
/// a comma-separated list of key=value (see `parseItem`).
public struct LicenseIssue {
    let key: String
    let org: String
    let boundTo: String
    let items: [String]
    let alias: String?
    let licenseId: String?
    let out: String

    public init(key: String, org: String, boundTo: String, items: [String], alias: String?, licenseId: String?, out: String) {
        self.key = key
        self.org = org
        self.boundTo = boundTo
        self.items = items
        self.alias = alias
        self.licenseId = licenseId
        self.out = out
    }

    /// Mints and writes the file; returns what was written, for the user.
    public func write() throws -> String {
        guard let keyText = try? String(contentsOfFile: key, encoding: .utf8), let signer = try? Ed25519PrivateKey(pem: keyText) else {
            throw ValidationError("\(key) is not an Ed25519 private key (make one with lts license keygen)")
        }
        let now = WallClock.nowSeconds()
        let today = now - now % UTCTime.secondsPerDay
        var object: [String: Any] = [
            "licenseId": licenseId ?? UUID().uuidString.lowercased(), "alias": alias ?? org, "organizationId": org,
            "boundTo": boundTo, "issuerKeyId": signer.publicKey.keyId, "issuedAt": UTCTime.format(now),
            "items": try items.map { try Self.parseItem($0, today: today) },
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
        return "wrote \(out): license \(object["licenseId"]!) for \(org), \(items.count) item(s), bound to \(boundTo)"
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
