import Foundation
import WireFormat

/// The binary form of a whole `LicenseState`: what a node writes as a
/// checkpoint at an LSN so that it can truncate its log behind it.
///
/// Invariant: `decode(encode(s))` is a state equal to `s` (and with the same
/// `digest`) that also behaves the same as `s` under every later `apply`.
/// Equal states encode to the same bytes (dictionaries are written sorted by
/// key). `decode` refuses anything `encode` cannot have written (another
/// version, trailing bytes, keys out of order or repeated, an item whose
/// license is missing) with `BinaryReader.Malformed`, rather than guess.
///
/// Layout, after the version byte: licenses, item usages, handshakes and
/// leases (each a count, then entries in ascending key order), up to version
/// 3 the remembered requests (a count, then their answers oldest first, each
/// a grant record or, from version 3 on, a refusal record), the admin
/// password (a presence flag and a record) and `grantsTotal`; from version 2
/// on, the usage statistics, the recent calls, the alert book and the alert
/// settings; from version 5 on, the cluster UUID (a presence flag and the
/// string); from version 6 on, the audit section (`writeAudit`), then the
/// drills section (`writeDrills`), then the per-code usage section
/// (`writeCodeUsage`), the last of the snapshot. Version 1 snapshots
/// (written before statistics and alerts existed) still decode, with those
/// parts empty; version 2 ones (before logged refusals) and version 3 ones
/// (which held remembered requests, kept apart since: `decodeWithRequests`
/// gives them back), version 4 ones (before the cluster identity) and
/// version 5 ones (before the audit log and logged drill reports, which
/// come back empty, and before usage was counted per code: each item's
/// counted units come back unattributed to any code, `CodeUsage`) too.
///
/// The state keeps a license as parsed, not its original bytes, so a license
/// is written as its signed bytes plus its signature and decoded by parsing the
/// file they make up again. That file may be longer than the original (its
/// escapes and numbers are canonical); one pushed past `LicenseFile.fileBytesMax`
/// by that does not decode. Only a file near that size can hit this, but a
/// caller should decode a checkpoint once before truncating the log behind it.
public enum StateSnapshotCodec {
    /// The first byte of every snapshot; `decode` refuses any other.
    public static let formatVersion: UInt8 = 6

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

        writer.bool(state.adminPassword != nil)
        if let password = state.adminPassword { writer.data(LogRecordCodec.encode(.setAdminPassword(password, at: 0))) }
        writer.signed(state.grantsTotal)
        writeAlertParts(state, into: &writer)
        writer.optionalString(state.clusterUUID)
        writeAudit(state.audit, into: &writer)
        writeDrills(state.drills, into: &writer)
        writeCodeUsage(state.codeUsage, into: &writer)
        return writer.bytes
    }

    /// The state `bytes` hold (remembered requests of a version 3 or older
    /// snapshot left out).
    /// - Throws: `BinaryReader.Malformed` when `bytes` are not exactly a
    ///   snapshot `encode` can have written.
    public static func decode(_ bytes: [UInt8]) throws -> LicenseState {
        try decodeWithRequests(bytes).state
    }

    /// The state `bytes` hold and, for a snapshot of version 3 or older,
    /// the remembered answers it held, oldest first (empty from version 4 on).
    /// - Throws: `BinaryReader.Malformed` as `decode`.
    public static func decodeWithRequests(_ bytes: [UInt8]) throws -> (state: LicenseState, requests: [RememberedAnswer]) {
        var reader = BinaryReader(bytes)
        let version = try reader.byte()
        guard (1...formatVersion).contains(version) else { throw BinaryReader.Malformed() }

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

        var requests: [RememberedAnswer] = []
        var requestKeys = Set<LicenseState.RequestKey>()
        for _ in 0..<(version <= 3 ? try reader.unsigned() : 0) {
            let answer: RememberedAnswer, key: LicenseState.RequestKey
            switch try LogRecordCodec.decode(try reader.data()) {
            case .grant(let grant):
                guard let grantKey = grant.requestKey else { throw BinaryReader.Malformed() }
                (answer, key) = (.granted(grant), grantKey)
            case .refusal(let refusal) where version >= 3:
                (answer, key) = (.refused(refusal), refusal.key)
            default:
                throw BinaryReader.Malformed()
            }
            guard requestKeys.insert(key).inserted else { throw BinaryReader.Malformed() }
            requests.append(answer)
        }

        var adminPassword: PasswordHash?
        if try reader.bool() {
            guard case .setAdminPassword(let hash, at: 0) = try LogRecordCodec.decode(try reader.data()) else {
                throw BinaryReader.Malformed()
            }
            adminPassword = hash
        }
        let grantsTotal = try reader.signed()
        guard grantsTotal >= 0 else { throw BinaryReader.Malformed() }
        let parts = version == 1 ? AlertParts() : try readAlertParts(&reader)
        let clusterUUID = version >= 5 ? try reader.optionalString() : nil
        if let clusterUUID, !ClusterIdentity.isWellFormed(clusterUUID) { throw BinaryReader.Malformed() }
        let audit = version >= 6 ? try readAudit(&reader) : AuditLog()
        let drills = version >= 6 ? try readDrills(&reader) : DrillHistory()
        let codeUsage = version >= 6 ? try readCodeUsage(&reader, items: items) : CodeUsage.unattributed(items)
        guard reader.isAtEnd else { throw BinaryReader.Malformed() }

        let state = LicenseState(licenses: licenses, items: items, handshakes: handshakes, leases: leases,
                                 adminPassword: adminPassword, grantsTotal: grantsTotal, usage: parts.usage, recentCalls: parts.recentCalls,
                                 alerts: parts.alerts, alertSettings: parts.alertSettings, clusterUUID: clusterUUID,
                                 audit: audit, drills: drills, codeUsage: codeUsage)
        return (state, requests)
    }

    // MARK: Usage per code (version 6, the last section)

    /// The per-code usage section: the count of item splits, then for each
    /// in ascending item ID order the item ID, the unattributed units and
    /// the count of codes, each code (ascending) with its units. Also part
    /// of `LicenseState.digest`.
    static func writeCodeUsage(_ usage: CodeUsage, into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(usage.splits.count))
        for (itemId, split) in usage.splits.sorted(by: { $0.key < $1.key }) {
            writer.string(itemId)
            writer.signed(split.unattributed)
            writer.unsigned(UInt64(split.byCode.count))
            for (code, units) in split.byCode.sorted(by: { $0.key < $1.key }) {
                writer.string(code)
                writer.signed(units)
            }
        }
    }

    /// Reads what `writeCodeUsage` wrote; refuses a split of an unknown or
    /// concurrent item, an empty split, a code with zero units, and splits
    /// whose units differ from what their item counts (an item that counts
    /// units without a split included).
    private static func readCodeUsage(_ reader: inout BinaryReader, items: [String: LicenseState.ItemUsage]) throws -> CodeUsage {
        var splits: [String: CodeUsage.Split] = [:]
        var previousItem: String?
        for _ in 0..<(try reader.unsigned()) {
            let itemId = try reader.string()
            guard previousItem.map({ $0 < itemId }) ?? true, let usage = items[itemId], !usage.item.chargeWay.isConcurrent else {
                throw BinaryReader.Malformed()
            }
            previousItem = itemId
            var split = CodeUsage.Split(unattributed: try reader.signed())
            var total = split.unattributed
            var previousCode: String?
            for _ in 0..<(try reader.unsigned()) {
                let code = try reader.string()
                let units = try reader.signed()
                let (sum, overflow) = total.addingReportingOverflow(units)
                guard previousCode.map({ $0 < code }) ?? true, units != 0, !overflow else { throw BinaryReader.Malformed() }
                previousCode = code
                total = sum
                split.byCode[code] = units
            }
            guard !split.isEmpty, total == usage.unitsCounted else { throw BinaryReader.Malformed() }
            splits[itemId] = split
        }
        for (itemId, usage) in items where splits[itemId] == nil && usage.unitsCounted != 0 { throw BinaryReader.Malformed() }
        return CodeUsage(splits: splits)
    }

    // MARK: Audit log (version 6)

    /// The audit section: the count of entries, each entry oldest first as
    /// its `audit` record holds it (without the tag), then `appendedTotal`.
    /// Also part of `LicenseState.digest`.
    static func writeAudit(_ audit: AuditLog, into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(audit.entries.count))
        for entry in audit.entries { LogRecordCodec.write(entry, into: &writer) }
        writer.signed(audit.appendedTotal)
    }

    /// Reads what `writeAudit` wrote; refuses more than `AuditLog.entriesMax`
    /// entries or a total below their count.
    private static func readAudit(_ reader: inout BinaryReader) throws -> AuditLog {
        let count = try reader.unsigned()
        guard count <= UInt64(AuditLog.entriesMax) else { throw BinaryReader.Malformed() }
        var entries: [AuditEntry] = []
        for _ in 0..<count { entries.append(try LogRecordCodec.readAuditEntry(&reader)) }
        let appendedTotal = try reader.signed()
        guard appendedTotal >= Int64(entries.count) else { throw BinaryReader.Malformed() }
        return AuditLog(entries: entries, appendedTotal: appendedTotal)
    }

    // MARK: Drills (version 6)

    /// The drills section: a count, then each record oldest first.
    static func writeDrills(_ drills: DrillHistory, into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(drills.records.count))
        for drill in drills.records { LogRecordCodec.write(drill, into: &writer) }
    }

    /// Refuses more records than a history keeps and a repeated ID.
    private static func readDrills(_ reader: inout BinaryReader) throws -> DrillHistory {
        let count = try reader.unsigned()
        guard count <= UInt64(DrillHistory.reportsMax) else { throw BinaryReader.Malformed() }
        var records: [DrillRecord] = []
        var ids = Set<String>()
        for _ in 0..<count {
            let drill = try LogRecordCodec.readDrill(&reader)
            guard ids.insert(drill.id).inserted else { throw BinaryReader.Malformed() }
            records.append(drill)
        }
        return DrillHistory(records: records)
    }

    // MARK: Statistics and alerts (version 2)

    /// The parts of a state version 2 added.
    private struct AlertParts {
        var usage = UsageStatistics()
        var recentCalls = RecentCalls()
        var alerts = AlertBook()
        var alertSettings: AlertSettings?
    }

    /// Also part of `LicenseState.digest`.
    static func writeAlertParts(_ state: LicenseState, into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(state.usage.starts.count))
        for start in state.usage.starts {
            let pairs = state.usage.buckets[start]!
            writer.signed(start)
            writer.unsigned(UInt64(pairs.count))
            for (pair, counts) in pairs.sorted(by: { $0.key < $1.key }) {
                writer.string(pair.itemId)
                writer.string(pair.code)
                writer.signed(counts.grants)
                writer.signed(counts.units)
            }
        }

        writer.unsigned(UInt64(state.recentCalls.minutes.count))
        for (minute, counts) in state.recentCalls.minutes.sorted(by: { $0.key < $1.key }) {
            writer.signed(minute)
            LogRecordCodec.writeCounts(counts.granted, into: &writer)
            LogRecordCodec.writeCounts(counts.refused, into: &writer)
            LogRecordCodec.writeCounts(counts.overuse, into: &writer)
        }

        writer.unsigned(UInt64(state.alerts.alerted.count))
        for (key, at) in state.alerts.alerted.sorted(by: { $0.key < $1.key }) {
            writer.string(key)
            writer.signed(at)
        }
        writer.unsigned(UInt64(state.alerts.emails.count))
        for email in state.alerts.emails {
            writer.data(LogRecordCodec.encode(.alerts(AlertUpdate(raised: [], cleared: [], email: AlertUpdate.Email(
                subject: email.subject, lines: email.lines, recipients: email.recipients, isTest: email.isTest)), at: email.at)))
            writer.signed(email.id)
            writer.unsigned(UInt64(email.status.rawValue))
            writer.signed(email.attempts)
            writer.optionalString(email.lastError)
            writer.bool(email.lastAttemptAt != nil)
            if let last = email.lastAttemptAt { writer.signed(last) }
        }
        writer.signed(state.alerts.nextEmailId)

        writer.bool(state.alertSettings != nil)
        if let settings = state.alertSettings { writer.data(LogRecordCodec.encode(.setAlertSettings(settings, at: 0))) }
    }

    private static func readAlertParts(_ reader: inout BinaryReader) throws -> AlertParts {
        var parts = AlertParts()
        var previousStart: Int64?
        for _ in 0..<(try reader.unsigned()) {
            let start = try reader.signed()
            guard previousStart.map({ $0 < start }) ?? true, start % UsageStatistics.bucketSeconds == 0 else { throw BinaryReader.Malformed() }
            previousStart = start
            var previousPair: UsageStatistics.Pair?
            let count = try reader.unsigned()
            guard count > 0 else { throw BinaryReader.Malformed() }
            for _ in 0..<count {
                let pair = UsageStatistics.Pair(itemId: try reader.string(), code: try reader.string())
                let counts = UsageStatistics.Counts(grants: try reader.signed(), units: try reader.signed())
                guard previousPair.map({ $0 < pair }) ?? true, counts.grants > 0, counts.units >= 0 else { throw BinaryReader.Malformed() }
                previousPair = pair
                parts.usage.add(counts, to: pair, bucketStart: start)
            }
        }

        var minutes: [Int64: RecentCalls.Minute] = [:]
        var previousMinute: Int64?
        for _ in 0..<(try reader.unsigned()) {
            let minute = try reader.signed()
            guard previousMinute.map({ $0 < minute }) ?? true, minute % 60 == 0 else { throw BinaryReader.Malformed() }
            previousMinute = minute
            minutes[minute] = RecentCalls.Minute(granted: try LogRecordCodec.readCounts(&reader), refused: try LogRecordCodec.readCounts(&reader),
                                                 overuse: try LogRecordCodec.readCounts(&reader))
        }
        parts.recentCalls = RecentCalls(minutes: minutes)

        var alerted: [String: Int64] = [:]
        var previousKey: String?
        for _ in 0..<(try reader.unsigned()) {
            let key = try reader.string()
            guard previousKey.map({ $0 < key }) ?? true else { throw BinaryReader.Malformed() }
            previousKey = key
            alerted[key] = try reader.signed()
        }
        var emails: [AlertEmail] = []
        for _ in 0..<(try reader.unsigned()) {
            guard case .alerts(let update, let at) = try LogRecordCodec.decode(try reader.data()), let queued = update.email,
                  update.raised.isEmpty, update.cleared.isEmpty else {
                throw BinaryReader.Malformed()
            }
            var email = AlertEmail(id: try reader.signed(), at: at, subject: queued.subject, lines: queued.lines,
                                   recipients: queued.recipients, isTest: queued.isTest)
            guard let status = AlertEmail.Status(rawValue: try reader.byte()), emails.last.map({ $0.id < email.id }) ?? (email.id > 0) else {
                throw BinaryReader.Malformed()
            }
            email.status = status
            email.attempts = try reader.signed()
            email.lastError = try reader.optionalString()
            email.lastAttemptAt = try reader.bool() ? try reader.signed() : nil
            emails.append(email)
        }
        let nextEmailId = try reader.signed()
        guard nextEmailId > (emails.last?.id ?? 0) else { throw BinaryReader.Malformed() }
        parts.alerts = AlertBook(alerted: alerted, emails: emails, nextEmailId: nextEmailId)

        if try reader.bool() {
            guard case .setAlertSettings(let settings, at: 0) = try LogRecordCodec.decode(try reader.data()) else { throw BinaryReader.Malformed() }
            parts.alertSettings = settings
        }
        return parts
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
