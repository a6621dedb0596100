import Foundation

/// A vendor-signed license file (DESIGN.md §2), parsed strictly.
///
/// Invariant: every field has the right type, no unknown field is present,
/// items are valid `LicenseItem`s with distinct IDs, and `signedBytes` is the
/// canonical JSON of the file without its signature: what the vendor signed.
public struct LicenseFile: Equatable {
    /// Largest license file accepted.
    public static let fileBytesMax = 1 << 20
    /// Most items in one file.
    public static let itemsMax = 1000

    public var licenseId: String
    public var alias: String
    public var organizationId: String
    public var boundTo: String
    /// The vendor key that signed the file (`Ed25519PublicKey.keyId`), when the file names it.
    public var issuerKeyId: String?
    public var issuedAt: Int64
    public var items: [LicenseItem]
    public var signature: [UInt8]
    public var signedBytes: [UInt8]

    private static let fileKeys: Set<String> = ["licenseId", "alias", "organizationId", "boundTo", "issuerKeyId", "issuedAt", "items",
                                                "signature"]
    private static let itemKeys: Set<String> = ["itemId", "product", "edition", "chargeWay", "quantity", "startsAt", "expiresAt",
                                                "activeWindow", "leaseSeconds"]

    /// Parses the bytes of a license file; throws `LicenseError.malformedLicense`.
    public static func parse(_ bytes: [UInt8]) throws -> LicenseFile {
        guard bytes.count <= fileBytesMax else { throw LicenseError.malformedLicense("it is larger than \(fileBytesMax) bytes") }
        guard let root = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw LicenseError.malformedLicense("it is not a JSON object")
        }
        if let unknown = Set(root.keys).subtracting(fileKeys).sorted().first {
            throw LicenseError.malformedLicense("unknown field \"\(unknown)\"")
        }
        var unsigned = root
        unsigned.removeValue(forKey: "signature")
        guard let signedBytes = CanonicalJSON.encode(unsigned) else { throw LicenseError.malformedLicense("it holds a fractional number") }
        let signatureText = try string(root, "signature")
        guard let signature = Data(base64Encoded: signatureText), signature.count == 64 else {
            throw LicenseError.malformedLicense("\"signature\" is not a base64 Ed25519 signature")
        }
        guard let rawItems = root["items"] as? [[String: Any]], !rawItems.isEmpty, rawItems.count <= itemsMax else {
            throw LicenseError.malformedLicense("\"items\" must be a list of 1 to \(itemsMax) objects")
        }
        let items = try rawItems.map(parseItem)
        if Set(items.map(\.itemId)).count != items.count { throw LicenseError.malformedLicense("two items share an itemId") }
        let organizationId = try identifier(root, "organizationId")
        let issuerKeyId = root["issuerKeyId"] == nil ? nil : try identifier(root, "issuerKeyId")
        return LicenseFile(licenseId: try identifier(root, "licenseId"), alias: try string(root, "alias"),
                           organizationId: organizationId, boundTo: try string(root, "boundTo"), issuerKeyId: issuerKeyId,
                           issuedAt: try time(root, "issuedAt"), items: items, signature: Array(signature), signedBytes: signedBytes)
    }

    private static func parseItem(_ raw: [String: Any]) throws -> LicenseItem {
        if let unknown = Set(raw.keys).subtracting(itemKeys).sorted().first {
            throw LicenseError.malformedLicense("unknown item field \"\(unknown)\"")
        }
        let wayText = try string(raw, "chargeWay")
        guard let chargeWay = ChargeWay(rawValue: wayText) else {
            throw LicenseError.malformedLicense("unknown chargeWay \"\(wayText)\"")
        }
        var window: ActiveWindow?
        if chargeWay == .device {
            let text = try string(raw, "activeWindow")
            guard let parsed = ActiveWindow(rawValue: text) else { throw LicenseError.malformedLicense("unknown activeWindow \"\(text)\"") }
            window = parsed
        } else if raw["activeWindow"] != nil {
            throw LicenseError.malformedLicense("activeWindow is only for device items")
        }
        var leaseSeconds = LicenseItem.defaultLeaseSeconds
        if raw["leaseSeconds"] != nil {
            guard chargeWay.isConcurrent else { throw LicenseError.malformedLicense("leaseSeconds is only for concurrent items") }
            leaseSeconds = try integer(raw, "leaseSeconds", in: 10...86_400)
        }
        let startsAt = try time(raw, "startsAt")
        let expiresAt = try time(raw, "expiresAt")
        guard startsAt < expiresAt else { throw LicenseError.malformedLicense("an item starts after it expires") }
        var edition: String?
        if raw["edition"] != nil { edition = try string(raw, "edition") }
        return LicenseItem(itemId: try identifier(raw, "itemId"), product: try identifier(raw, "product"), edition: edition,
                           chargeWay: chargeWay, quantity: try integer(raw, "quantity", in: 1...1_000_000_000_000),
                           startsAt: startsAt, expiresAt: expiresAt, activeWindow: window, leaseSeconds: leaseSeconds)
    }

    private static func string(_ object: [String: Any], _ key: String) throws -> String {
        guard let value = object[key] as? String, !(object[key] is NSNumber), !value.isEmpty, value.utf8.count <= 256 else {
            throw LicenseError.malformedLicense("\"\(key)\" must be a non-empty string of at most 256 bytes")
        }
        return value
    }

    /// A string usable in handshake names and URLs: letters, digits, `.`, `_`, `-`.
    private static func identifier(_ object: [String: Any], _ key: String) throws -> String {
        let value = try string(object, key)
        guard value.utf8.count <= 64, value.utf8.allSatisfy(isIdentifierByte) else {
            throw LicenseError.malformedLicense("\"\(key)\" may hold only letters, digits, '.', '_' and '-' (64 at most)")
        }
        return value
    }

    private static func integer(_ object: [String: Any], _ key: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let number = object[key] as? NSNumber, String(cString: number.objCType) != "c",
              let value = Int64(exactly: number.doubleValue), range.contains(value) else {
            throw LicenseError.malformedLicense("\"\(key)\" must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private static func time(_ object: [String: Any], _ key: String) throws -> Int64 {
        guard let value = UTCTime.parse(try string(object, key)) else {
            throw LicenseError.malformedLicense("\"\(key)\" must be a UTC time like 2027-12-31T23:59:59Z")
        }
        return value
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45 || byte == 46 || byte == 95
    }
}
