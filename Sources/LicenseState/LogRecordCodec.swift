import WireFormat

/// The compact binary form of a `LogRecord` (the `wal.payload` column and the
/// replication stream): a tag byte, then the fields in a fixed order.
///
/// Invariant: `decode(encode(r)) == r`; `decode` refuses trailing bytes,
/// unknown tags and malformed fields.
public enum LogRecordCodec {
    /// The highest tag `encode` writes (and `decode` reads): a new record
    /// kind raises it, and with it what this binary tells its peer it reads
    /// (`ReplicationReads`), so an older standby is never streamed it.
    public static let tagMax: UInt64 = 20

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
            // A grant without an attempt keeps the first format (tag 4).
            writer.unsigned(grant.attempt == nil ? 4 : 13); write(grant, into: &writer)
        case .renewLease(let grantId, let expiresAt, let at):
            writer.unsigned(5); writer.string(grantId); writer.signed(expiresAt); writer.signed(at)
        case .releaseLease(let grantId, let at):
            writer.unsigned(6); writer.string(grantId); writer.signed(at)
        case .expire(let at):
            writer.unsigned(7); writer.signed(at)
        case .setAdminPassword(let hash, let at):
            writer.unsigned(8); write(hash, into: &writer); writer.signed(at)
        case .tallyCalls(let tally, let at):
            writer.unsigned(9); writeCounts(tally.refusedByCode, into: &writer); writeCounts(tally.overuseByItem, into: &writer); writer.signed(at)
        case .alerts(let update, let at):
            writer.unsigned(10); write(update, into: &writer); writer.signed(at)
        case .alertDelivery(let emailId, let error, let at):
            writer.unsigned(11); writer.signed(emailId); writer.optionalString(error); writer.signed(at)
        case .setAlertSettings(let settings, let at):
            writer.unsigned(12); write(settings, into: &writer); writer.signed(at)
        case .refusal(let refusal):
            writer.unsigned(14); writer.string(refusal.clientUUID); writer.string(refusal.requestId)
            writer.unsigned(UInt64(refusal.attempt)); writer.signed(Int64(refusal.error.code)); writer.unsigned(UInt64(refusal.error.status))
            writer.string(refusal.error.message); writer.signed(refusal.at)
        case .voidGrant(let grant, let at):
            writer.unsigned(grant.attempt == nil ? 15 : 16); write(grant, into: &writer); writer.signed(at)
        case .grantAnsweredAgain(let grant, let at):
            precondition(grant.attempt != nil && grant.requestId != nil, "a grant is answered again to a known attempt of its request")
            writer.unsigned(17); write(grant, into: &writer); writer.signed(at)
        case .clusterIdentity(let uuid, let at):
            writer.unsigned(18); writer.string(uuid); writer.signed(at)
        case .audit(let entry):
            writer.unsigned(19); write(entry, into: &writer)
        case .drillReport(let drill):
            // Tag 19 belongs to the audit log's record.
            writer.unsigned(20); write(drill, into: &writer)
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> LogRecord {
        var reader = BinaryReader(bytes)
        let record: LogRecord
        let tag = try reader.unsigned()
        // A tag above `tagMax` is never read, even once a case decodes it:
        // a new kind raises `tagMax` or its records do not decode.
        guard tag <= tagMax else { throw BinaryReader.Malformed() }
        switch tag {
        case 1: record = .importLicense(file: try reader.data(), handshakeCode: try reader.string(), at: try reader.signed())
        case 2: record = .putHandshake(try readHandshake(&reader), at: try reader.signed())
        case 3: record = .deleteHandshake(code: try reader.string(), at: try reader.signed())
        case 4: record = .grant(try readGrant(&reader, withAttempt: false))
        case 13: record = .grant(try readGrant(&reader, withAttempt: true))
        case 5: record = .renewLease(grantId: try reader.string(), expiresAt: try reader.signed(), at: try reader.signed())
        case 6: record = .releaseLease(grantId: try reader.string(), at: try reader.signed())
        case 7: record = .expire(at: try reader.signed())
        case 8: record = .setAdminPassword(try readPasswordHash(&reader), at: try reader.signed())
        case 9:
            record = .tallyCalls(CallTally(refusedByCode: try readCounts(&reader), overuseByItem: try readCounts(&reader)), at: try reader.signed())
        case 10: record = .alerts(try readAlertUpdate(&reader), at: try reader.signed())
        case 11: record = .alertDelivery(emailId: try reader.signed(), error: try reader.optionalString(), at: try reader.signed())
        case 12: record = .setAlertSettings(try readAlertSettings(&reader), at: try reader.signed())
        case 14:
            let client = try reader.string(), requestId = try reader.string(), attempt = try readAttempt(&reader)
            guard attempt >= 2 else { throw BinaryReader.Malformed() }
            let code = try reader.signed(), status = try reader.unsigned(), message = try reader.string()
            guard code < 0, code >= Int64(Int32.min), status <= 999 else { throw BinaryReader.Malformed() }
            record = .refusal(RequestRefusal(clientUUID: client, requestId: requestId, attempt: attempt,
                                             error: LicenseError(code: Int(code), status: Int(status), message: message), at: try reader.signed()))
        case 15, 16: record = .voidGrant(try readGrant(&reader, withAttempt: tag == 16), at: try reader.signed())
        case 17:
            let grant = try readGrant(&reader, withAttempt: true)
            guard grant.requestId != nil else { throw BinaryReader.Malformed() }
            record = .grantAnsweredAgain(grant, at: try reader.signed())
        case 18:
            let uuid = try reader.string()
            guard ClusterIdentity.isWellFormed(uuid) else { throw BinaryReader.Malformed() }
            record = .clusterIdentity(uuid: uuid, at: try reader.signed())
        case 19: record = .audit(try readAuditEntry(&reader))
        case 20: record = .drillReport(try readDrill(&reader))
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
        if let attempt = grant.attempt { writer.unsigned(UInt64(attempt)) }
    }

    private static func readAttempt(_ reader: inout BinaryReader) throws -> Int {
        let attempt = try reader.unsigned()
        guard attempt <= UInt64(ClientCall.attemptRange.upperBound), attempt >= UInt64(ClientCall.attemptRange.lowerBound) else {
            throw BinaryReader.Malformed()
        }
        return Int(attempt)
    }

    private static func readGrant(_ reader: inout BinaryReader, withAttempt: Bool) throws -> Grant {
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
                     amount: amount, domain: domain, leaseExpiresAt: leaseExpiresAt, grace: try reader.bool(), at: try reader.signed(),
                     attempt: withAttempt ? try readAttempt(&reader) : nil)
    }

    /// A drill record: its ID, its report, its time (also a snapshot's drills section).
    static func write(_ drill: DrillRecord, into writer: inout BinaryWriter) {
        writer.string(drill.id)
        writer.data(drill.report)
        writer.signed(drill.at)
    }

    static func readDrill(_ reader: inout BinaryReader) throws -> DrillRecord {
        let id = try reader.string()
        let report = try reader.data()
        guard DrillRecord.isValid(id: id, report: report) else { throw BinaryReader.Malformed() }
        return DrillRecord(id: id, report: report, at: try reader.signed())
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

    // MARK: Audit

    /// Also the form of an entry in a snapshot's audit section.
    static func write(_ entry: AuditEntry, into writer: inout BinaryWriter) {
        writer.signed(entry.at)
        writer.string(entry.actor)
        writer.string(entry.address)
        writer.string(entry.action.rawValue)
        writer.string(entry.object)
        writer.bool(entry.refusalCode != nil)
        if let code = entry.refusalCode { writer.signed(Int64(code)) }
    }

    static func readAuditEntry(_ reader: inout BinaryReader) throws -> AuditEntry {
        let at = try reader.signed()
        let actor = try reader.string(), address = try reader.string()
        guard let action = AuditEntry.Action(rawValue: try reader.string()) else { throw BinaryReader.Malformed() }
        let object = try reader.string()
        let code = try reader.bool() ? try reader.signed() : nil
        guard actor.utf8.count <= AuditEntry.actorBytesMax, address.utf8.count <= AuditEntry.addressBytesMax,
              object.utf8.count <= AuditEntry.objectBytesMax, code.map({ $0 < 0 && $0 >= Int64(Int32.min) }) ?? true else {
            throw BinaryReader.Malformed()
        }
        return AuditEntry(at: at, actor: actor, address: address, action: action, object: object, refusalCode: code.map { Int($0) })
    }

    // MARK: Alerts

    /// Counts by name, sorted by name; every count positive.
    static func writeCounts(_ counts: [String: Int64], into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(counts.count))
        for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
            writer.string(name)
            writer.signed(count)
        }
    }

    static func readCounts(_ reader: inout BinaryReader) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        var previous: String?
        for _ in 0..<(try reader.unsigned()) {
            let name = try reader.string()
            let count = try reader.signed()
            guard count > 0, previous.map({ $0 < name }) ?? true else { throw BinaryReader.Malformed() }
            counts[name] = count
            previous = name
        }
        return counts
    }

    private static func write(_ update: AlertUpdate, into writer: inout BinaryWriter) {
        writer.strings(update.raised)
        writer.strings(update.cleared)
        writer.bool(update.email != nil)
        if let email = update.email {
            writer.string(email.subject)
            writer.strings(email.lines)
            writer.strings(email.recipients)
            writer.bool(email.isTest)
        }
    }

    private static func readAlertUpdate(_ reader: inout BinaryReader) throws -> AlertUpdate {
        let raised = try reader.strings()
        let cleared = try reader.strings()
        guard Set(raised).isDisjoint(with: cleared) else { throw BinaryReader.Malformed() }
        let email = try reader.bool()
            ? AlertUpdate.Email(subject: try reader.string(), lines: try reader.strings(), recipients: try reader.strings(), isTest: try reader.bool())
            : nil
        return AlertUpdate(raised: raised, cleared: cleared, email: email)
    }

    private static func write(_ settings: AlertSettings, into writer: inout BinaryWriter) {
        writer.strings(settings.recipients)
        writer.signed(settings.checkMilliseconds)
        writer.signed(settings.standbyLagMinutes)
        writer.bool(settings.mailServer != nil)
        if let server = settings.mailServer {
            writer.string(server.host)
            writer.signed(server.port)
            writer.string(server.security)
            writer.optionalString(server.username)
            writer.bool(server.sealedPassword != nil)
            if let sealed = server.sealedPassword { writer.data(sealed) }
            writer.optionalString(server.from)
        }
    }

    private static func readAlertSettings(_ reader: inout BinaryReader) throws -> AlertSettings {
        let recipients = try reader.strings()
        let checkMilliseconds = try reader.signed()
        let standbyLagMinutes = try reader.signed()
        guard checkMilliseconds >= AlertSettings.checkMillisecondsMin, standbyLagMinutes >= 1 else { throw BinaryReader.Malformed() }
        var server: AlertSettings.MailServer?
        if try reader.bool() {
            let host = try reader.string()
            let port = try reader.signed()
            guard (1...65535).contains(port) else { throw BinaryReader.Malformed() }
            server = AlertSettings.MailServer(host: host, port: port, security: try reader.string(), username: try reader.optionalString(),
                                              sealedPassword: try reader.bool() ? try reader.data() : nil, from: try reader.optionalString())
        }
        return AlertSettings(recipients: recipients, checkMilliseconds: checkMilliseconds, standbyLagMinutes: standbyLagMinutes,
                             mailServer: server)
    }
}
