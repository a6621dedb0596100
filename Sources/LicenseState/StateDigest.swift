import WireFormat

/// A 64-bit FNV-1a digest of a `LicenseState`, equal for equal states
/// whatever the order of their dictionaries: what the rebuild-from-log
/// property test and replicas compare.
extension LicenseState {
    public var digest: UInt64 {
        var writer = BinaryWriter()
        for (id, file) in licenses.sorted(by: { $0.key < $1.key }) {
            writer.string(id)
            writer.data(file.signedBytes)
        }
        for (id, usage) in items.sorted(by: { $0.key < $1.key }) {
            writer.string(id)
            writer.signed(usage.consumed)
            writer.signed(usage.windowStart)
            writer.strings(usage.devices.sorted())
            writer.strings(usage.domains.sorted())
        }
        for (code, handshake) in handshakes.sorted(by: { $0.key < $1.key }) {
            writer.string(code)
            writer.data(LogRecordCodec.encode(.putHandshake(handshake, at: 0)))
        }
        for (id, lease) in leases.sorted(by: { $0.key < $1.key }) {
            writer.string(id)
            writer.string(lease.itemId)
            writer.string(lease.device)
            writer.signed(lease.expiresAt)
        }
        if let password = adminPassword { writer.data(password.hash) }
        writer.signed(grantsTotal)
        StateSnapshotCodec.writeAlertParts(self, into: &writer)
        writer.optionalString(clusterUUID)
        StateSnapshotCodec.writeAudit(audit, into: &writer)
        StateSnapshotCodec.writeDrills(drills, into: &writer)
        StateSnapshotCodec.writeCodeUsage(codeUsage, into: &writer)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in writer.bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
