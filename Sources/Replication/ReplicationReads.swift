import WireFormat

/// What a node's lts reads of what its peer may send it: the replication
/// protocol version it speaks, the highest log record tag it decodes, the
/// highest state snapshot format and store schema it opens. Each node
/// states its own when it opens a stream (`header`); a primary streams a
/// standby only records and snapshots within what the standby reads
/// (`firstUnreadable`, `readsSnapshots`), so a rolling upgrade never hands
/// an older binary bytes it would refuse.
///
/// Invariant: every number is at least 1. A peer that states nothing is
/// taken to read `protocol1`: what nodes read before they stated it.
public struct ReplicationReads: Equatable, CustomStringConvertible {
    public var protocolVersion: UInt64
    public var recordTagMax: UInt64
    public var snapshotFormatMax: UInt64
    public var schemaVersionMax: UInt64

    public init(protocolVersion: UInt64, recordTagMax: UInt64, snapshotFormatMax: UInt64, schemaVersionMax: UInt64) {
        self.protocolVersion = protocolVersion
        self.recordTagMax = recordTagMax
        self.snapshotFormatMax = snapshotFormatMax
        self.schemaVersionMax = schemaVersionMax
    }

    /// Protocol 1: lts before replication protocol versions (record tags
    /// up to 18, snapshot format 5, store schema 5).
    public static let protocol1 = ReplicationReads(protocolVersion: 1, recordTagMax: 18, snapshotFormatMax: 5, schemaVersionMax: 5)

    /// The HTTP header of the stream's upgrade request that carries it;
    /// lts versions that do not know it ignore it.
    public static let headerName = "lts-replication-reads"

    /// The header's value, e.g. `protocol=3; records=20; snapshot=6; schema=7`.
    public var header: String {
        "protocol=\(protocolVersion); records=\(recordTagMax); snapshot=\(snapshotFormatMax); schema=\(schemaVersionMax)"
    }

    /// Parses a header value; nil (no header) is `protocol1`.
    /// - Returns: nil when the value is malformed (a key missing,
    ///   repeated or unknown, a number that is not one, or 0). A peer that
    ///   states it reads less than protocol 1 is taken at its word: it is
    ///   sent only what it reads.
    public static func parse(header value: String?) -> ReplicationReads? {
        guard let value else { return protocol1 }
        guard value.utf8.count <= 256 else { return nil }
        var fields: [String: UInt64] = [:]
        for part in value.split(separator: ";", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2 else { return nil }
            let key = pair[0].trimmingSpaces
            let text = pair[1].trimmingSpaces
            guard ["protocol", "records", "snapshot", "schema"].contains(key), fields[key] == nil,
                  !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let number = UInt64(text) else { return nil }
            fields[key] = number
        }
        guard fields.count == 4, let version = fields["protocol"], let records = fields["records"], let snapshot = fields["snapshot"],
              let schema = fields["schema"] else { return nil }
        let reads = ReplicationReads(protocolVersion: version, recordTagMax: records, snapshotFormatMax: snapshot, schemaVersionMax: schema)
        guard version >= 1, records >= 1, snapshot >= 1, schema >= 1 else { return nil }
        return reads
    }

    /// The first of `entries` whose record tag (the payload's first
    /// unsigned number) is above `recordTagMax`, or that has no tag; nil
    /// when this reader reads them all.
    public func firstUnreadable(_ entries: [ReplicatedEntry]) -> (entry: ReplicatedEntry, tag: UInt64?)? {
        for entry in entries {
            var reader = BinaryReader(entry.payload)
            guard let tag = try? reader.unsigned() else { return (entry, nil) }
            if tag > recordTagMax { return (entry, tag) }
        }
        return nil
    }

    /// Whether this reader opens a store of `schema` holding a checkpoint of snapshot `format`.
    public func readsSnapshots(format: UInt64, schema: UInt64) -> Bool {
        format <= snapshotFormatMax && schema <= schemaVersionMax
    }

    public var description: String {
        "protocol \(protocolVersion) (record tags up to \(recordTagMax), snapshot format \(snapshotFormatMax), store schema \(schemaVersionMax))"
    }
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
