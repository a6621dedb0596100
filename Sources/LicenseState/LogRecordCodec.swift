/// The compact binary form of a `LogRecord` (the `wal.payload` column and the
/// replication stream): a tag byte, then the fields in a fixed order.
///
/// Invariant: `decode(encode(r)) == r`; `decode` refuses trailing bytes,
/// unknown tags and malformed fields.
public enum LogRecordCodec {
    public static func encode(_ record: LogRecord) -> [UInt8] {
        var writer = BinaryWriter()
        switch record {
        case .importLicense(let file, let code, let at):
            writer.unsigned(1); writer.data(file); writer.string(code); writer.signed(at)
        case .putHandshake(let handshake, let at):
            writer.unsigned(2); write(handshake, into: &writer); writer.signed(at)
        case .deleteHandshake(let code, let at):
            writer.unsigned(3); writer.string(code); writer.signed(at)
        case .grant(let grant):
            writer.unsigned(4); write(grant, into: &writer)
        case .renewLease(let grantId, let expiresAt, let at):
            writer.unsigned(5); writer.string(grantId); writer.signed(expiresAt); writer.signed(at)
        case .releaseLease(let grantId, let at):
            writer.unsigned(6); writer.string(grantId); writer.signed(at)
        case .expire(let at):
            writer.unsigned(7); writer.signed(at)
        case .setAdminPassword(let hash, let at):
            writer.unsigned(8); write(hash, into: &writer); writer.signed(at)
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> LogRecord {
        var reader = BinaryReader(bytes)
        let record: LogRecord
        switch try reader.unsigned() {
        case 1: record = .importLicense(file: try reader.data(), handshakeCode: try reader.string(), at: try reader.signed())
        case 2: record = .putHandshake(try readHandshake(&reader), at: try reader.signed())
        case 3: record = .deleteHandshake(code: try reader.string(), at: try reader.signed())
        case 4: record = .grant(try readGrant(&reader))
        case 5: record = .renewLease(grantId: try reader.string(), expiresAt: try reader.signed(), at: try reader.signed())
        case 6: record = .releaseLease(grantId: try reader.string(), at: try reader.signed())
        case 7: record = .expire(at: try reader.signed())
        case 8: record = .setAdminPassword(try readPasswordHash(&reader), at: try reader.signed())
        default: throw BinaryReader.Malformed()
        }
        guard reader.isAtEnd else { throw BinaryReader.Malformed() }
        return record
    }

    private static func write(_ grant: Grant, into writer: inout BinaryWriter) {
        writer.string(grant.grantId)
        writer.unsigned(UInt64(grant.kind.rawValue))
        writer.optionalString(grant.requestId)
        writer.string(grant.handshakeCode)
        writer.string(grant.clientUUID)
        writer.string(grant.itemId)
        writer.signed(grant.amount)
        writer.optionalString(grant.domain)
        writer.bool(grant.leaseExpiresAt != nil)
        if let expiresAt = grant.leaseExpiresAt { writer.signed(expiresAt) }
        writer.bool(grant.grace)
        writer.signed(grant.at)
    }

    private static func readGrant(_ reader: inout BinaryReader) throws -> Grant {
        let grantId = try reader.string()
        guard let kind = Grant.Kind(rawValue: try reader.byte()) else { throw BinaryReader.Malformed() }
        let requestId = try reader.optionalString()
        let code = try reader.string()
        let client = try reader.string()
        let item = try reader.string()
        let amount = try reader.signed()
        let domain = try reader.optionalString()
        let leaseExpiresAt = try reader.bool() ? try reader.signed() : nil
        return Grant(grantId: grantId, kind: kind, requestId: requestId, handshakeCode: code, clientUUID: client, itemId: item,
                     amount: amount, domain: domain, leaseExpiresAt: leaseExpiresAt, grace: try reader.bool(), at: try reader.signed())
    }

    private static func write(_ handshake: Handshake, into writer: inout BinaryWriter) {
        writer.string(handshake.code)
        writer.string(handshake.organizationId)
        writer.strings(handshake.items)
        writer.bool(handshake.explicitOrder)
        writer.strings(handshake.validation.domains)
        writer.strings(handshake.validation.appIds)
        writer.strings(handshake.validation.processes)
        writer.bool(handshake.sessionPassword != nil)
        if let hash = handshake.sessionPassword { write(hash, into: &writer) }
        writer.bool(handshake.deleted)
    }

    private static func readHandshake(_ reader: inout BinaryReader) throws -> Handshake {
        let code = try reader.string()
        let organization = try reader.string()
        let items = try reader.strings()
        let explicitOrder = try reader.bool()
        let validation = ValidationRules(domains: try reader.strings(), appIds: try reader.strings(), processes: try reader.strings())
        let password = try reader.bool() ? try readPasswordHash(&reader) : nil
        return Handshake(code: code, organizationId: organization, items: items, explicitOrder: explicitOrder,
                         validation: validation, sessionPassword: password, deleted: try reader.bool())
    }

    private static func write(_ hash: PasswordHash, into writer: inout BinaryWriter) {
        writer.data(hash.salt)
        writer.unsigned(UInt64(hash.iterations))
        writer.data(hash.hash)
    }

    private static func readPasswordHash(_ reader: inout BinaryReader) throws -> PasswordHash {
        let salt = try reader.data()
        let iterations = try reader.unsigned()
        let hash = try reader.data()
        guard salt.count == 16, hash.count == 32, iterations > 0, iterations < 100_000_000 else { throw BinaryReader.Malformed() }
        return PasswordHash(salt: salt, iterations: Int(iterations), hash: hash)
    }
}
