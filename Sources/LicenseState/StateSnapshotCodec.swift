import Foundation

/// The binary form of a whole `LicenseState`: what a node writes as a
/// checkpoint at an LSN so that it can truncate its log behind it.
///
/// Invariant: `decode(encode(s))` is a state equal to `s` (and with the same
/// `digest`) that also behaves the same as `s` under every later `apply`:
/// remembered requests come back in the order they were granted, which is the
/// order `expire` prunes them in. Equal states whose requests were granted in
/// the same order encode to the same bytes (dictionaries are written sorted by
/// key). `decode` refuses anything `encode` cannot have written (another
/// version, trailing bytes, keys out of order or repeated, an item whose
/// license is missing) with `BinaryReader.Malformed`, rather than guess.
///
/// Layout, after the version byte: licenses, item usages, handshakes and
/// leases (each a count, then entries in ascending key order), requests
/// (a count, then grants oldest first), the admin password (a presence flag
/// and a record) and `grantsTotal`.
///
/// The state keeps a license as parsed, not its original bytes, so a license
/// is written as its signed bytes plus its signature and decoded by parsing the
/// file they make up again. That file may be longer than the original (its
/// escapes and numbers are canonical); one pushed past `LicenseFile.fileBytesMax`
/// by that does not decode. Only a file near that size can hit this, but a
/// caller should decode a checkpoint once before truncating the log behind it.
public enum StateSnapshotCodec {
    /// The first byte of every snapshot; `decode` refuses any other.
    public static let formatVersion: UInt8 = 1

    /// The snapshot bytes of `state`.
    public static func encode(_ state: LicenseState) -> [UInt8] {
        var writer = BinaryWriter()
        writer.unsigned(UInt64(formatVersion))

        writer.unsigned(UInt64(state.licenses.count))
        for (licenseId, file) in state.licenses.sorted(by: { $0.key < $1.key }) {
            precondition(file.licenseId == licenseId, "license \(file.licenseId) stored under \(licenseId)")
            writer.data(file.signedBytes)
            writer.data(file.signature)
        }

        let itemsByLicense = itemLookup(state.licenses)
        writer.unsigned(UInt64(state.items.count))
        for (itemId, usage) in state.items.sorted(by: { $0.key < $1.key }) {
            // Decode takes the item from its license file; a usage whose item
            // differs from the file's would come back changed.
            precondition(usage.item.itemId == itemId, "item \(usage.item.itemId) stored under \(itemId)")
            precondition(itemsByLicense[usage.licenseId]?[itemId] == usage.item, "item \(itemId) differs from its license \(usage.licenseId)")
            writer.string(itemId)
            writer.string(usage.licenseId)
            writer.signed(usage.consumed)
            writer.signed(usage.windowStart)
            writeSorted(usage.devices, into: &writer)
            writeSorted(usage.domains, into: &writer)
        }

        writer.unsigned(UInt64(state.handshakes.count))
        for (code, handshake) in state.handshakes.sorted(by: { $0.key < $1.key }) {
            precondition(handshake.code == code, "handshake \(handshake.code) stored under \(code)")
            writer.data(LogRecordCodec.encode(.putHandshake(handshake, at: 0)))
        }

        writer.unsigned(UInt64(state.leases.count))
        for (grantId, lease) in state.leases.sorted(by: { $0.key < $1.key }) {
            precondition(lease.grantId == grantId, "lease \(lease.grantId) stored under \(grantId)")
            writer.string(lease.grantId)
            writer.string(lease.itemId)
            writer.string(lease.device)
            writer.string(lease.handshakeCode)
            writer.signed(lease.expiresAt)
        }

        // Oldest grant first: `expire` prunes from the front of this order, so
        // sorting these by key would change which requests a later expire forgets.
        let order = state.requestOrder[state.requestOrderStart...]
        precondition(order.count == state.requests.count, "\(order.count) request keys in order for \(state.requests.count) requests")
        writer.unsigned(UInt64(order.count))
        for key in order {
            guard let grant = state.requests[key] else { preconditionFailure("request \(key) is in the order but not remembered") }
            // Decode takes the key from the grant.
            precondition(grant.clientUUID == key.clientUUID && grant.requestId == key.requestId, "grant \(grant.grantId) stored under \(key)")
            writer.data(LogRecordCodec.encode(.grant(grant)))
        }

        writer.bool(state.adminPassword != nil)
        if let password = state.adminPassword { writer.data(LogRecordCodec.encode(.setAdminPassword(password, at: 0))) }
        writer.signed(state.grantsTotal)
        return writer.bytes
    }

    /// The state `bytes` hold.
    /// - Throws: `BinaryReader.Malformed` when `bytes` are not exactly a
    ///   snapshot `encode` can have written.
    public static func decode(_ bytes: [UInt8]) throws -> LicenseState {
        var reader = BinaryReader(bytes)
        guard try reader.byte() == formatVersion else { throw BinaryReader.Malformed() }

        let licenses = try readSorted(&reader, key: \.licenseId, readLicense)

        let itemsByLicense = itemLookup(licenses)
        let items = try readSorted(&reader, key: \.item.itemId) { reader -> LicenseState.ItemUsage in
            let itemId = try reader.string()
            let licenseId = try reader.string()
            guard let item = itemsByLicense[licenseId]?[itemId] else { throw BinaryReader.Malformed() }
            return LicenseState.ItemUsage(item: item, licenseId: licenseId, consumed: try reader.signed(), windowStart: try reader.signed(),
                                          devices: try readSorted(&reader), domains: try readSorted(&reader))
        }
        // An import gives every item ID of its file a usage (the first file to name an ID keeps it).
        for file in licenses.values {
            guard file.items.allSatisfy({ items[$0.itemId] != nil }) else { throw BinaryReader.Malformed() }
        }

        let handshakes = try readSorted(&reader, key: \.code) { reader -> Handshake in
            guard case .putHandshake(let handshake, at: 0) = try LogRecordCodec.decode(try reader.data()) else {
                throw BinaryReader.Malformed()
            }
            return handshake
        }

        let leases = try readSorted(&reader, key: \.grantId) { reader -> LicenseState.Lease in
            let lease = LicenseState.Lease(grantId: try reader.string(), itemId: try reader.string(), device: try reader.string(),
                                           handshakeCode: try reader.string(), expiresAt: try reader.signed())
            // Only a grant on a known concurrent item opens a lease.
            guard items[lease.itemId]?.item.chargeWay.isConcurrent == true else { throw BinaryReader.Malformed() }
            return lease
        }

        var requests: [(key: LicenseState.RequestKey, grant: Grant)] = []
        var requestKeys = Set<LicenseState.RequestKey>()
        for _ in 0..<(try reader.unsigned()) {
            guard case .grant(let grant) = try LogRecordCodec.decode(try reader.data()), let requestId = grant.requestId else {
                throw BinaryReader.Malformed()
            }
            let key = LicenseState.RequestKey(clientUUID: grant.clientUUID, requestId: requestId)
            guard requestKeys.insert(key).inserted else { throw BinaryReader.Malformed() }
            requests.append((key, grant))
        }

        var adminPassword: PasswordHash?
        if try reader.bool() {
            guard case .setAdminPassword(let hash, at: 0) = try LogRecordCodec.decode(try reader.data()) else {
                throw BinaryReader.Malformed()
            }
            adminPassword = hash
        }
        let grantsTotal = try reader.signed()
        guard grantsTotal >= 0, reader.isAtEnd else { throw BinaryReader.Malformed() }

        return LicenseState(licenses: licenses, items: items, handshakes: handshakes, leases: leases, requestsInGrantOrder: requests,
                            adminPassword: adminPassword, grantsTotal: grantsTotal)
    }

    // MARK: Parts

    /// Parses the file that a license's signed bytes and signature make up,
    /// and refuses it unless it gives back exactly those bytes.
    private static func readLicense(_ reader: inout BinaryReader) throws -> LicenseFile {
        let signedBytes = try reader.data()
        let signature = try reader.data()
        // The signed bytes are a canonical JSON object: put the signature in as its first member.
        guard signedBytes.first == UInt8(ascii: "{") else { throw BinaryReader.Malformed() }
        let member = "{\"signature\":\"\(Data(signature).base64EncodedString())\","
        guard let file = try? LicenseFile.parse(Array(member.utf8) + signedBytes.dropFirst()), file.signedBytes == signedBytes,
              file.signature == signature else {
            throw BinaryReader.Malformed()
        }
        return file
    }

    /// The items of each license by ID (IDs are distinct within a file).
    private static func itemLookup(_ licenses: [String: LicenseFile]) -> [String: [String: LicenseItem]] {
        licenses.mapValues { file in Dictionary(uniqueKeysWithValues: file.items.map { ($0.itemId, $0) }) }
    }

    /// Writes a set as a count and its members in ascending order. Not
    /// `BinaryWriter.strings`: a set of devices may hold more than the 65,536
    /// strings `BinaryReader.strings` accepts.
    private static func writeSorted(_ values: Set<String>, into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(values.count))
        for value in values.sorted() { writer.string(value) }
    }

    /// Reads what `writeSorted` wrote; members must be strictly ascending,
    /// which also refuses a repeated one.
    private static func readSorted(_ reader: inout BinaryReader) throws -> Set<String> {
        var values = Set<String>()
        var previous: String?
        for _ in 0..<(try reader.unsigned()) {
            let value = try reader.string()
            guard previous.map({ $0 < value }) ?? true else { throw BinaryReader.Malformed() }
            values.insert(value)
            previous = value
        }
        return values
    }

    /// Reads a count and that many values into a dictionary by `key`; keys
    /// must be strictly ascending, as `encode` writes them.
    private static func readSorted<Value>(_ reader: inout BinaryReader, key: (Value) -> String,
                                          _ read: (inout BinaryReader) throws -> Value) throws -> [String: Value] {
        var values: [String: Value] = [:]
        var previous: String?
        for _ in 0..<(try reader.unsigned()) {
            let value = try read(&reader)
            let valueKey = key(value)
            guard previous.map({ $0 < valueKey }) ?? true else { throw BinaryReader.Malformed() }
            values[valueKey] = value
            previous = valueKey
        }
        return values
    }
}
