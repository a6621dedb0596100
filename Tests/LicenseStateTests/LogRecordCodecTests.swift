import LicenseState
import XCTest

/// The binary form of log records.
final class LogRecordCodecTests: XCTestCase {
    static let fullGrant = Grant(grantId: "g-1", kind: .report, requestId: "req-ü", handshakeCode: "acme-1", clientUUID: "client-1",
                                 itemId: "dom-1", amount: 1_000_000, domain: "a.example.com", leaseExpiresAt: 1_780_000_180,
                                 grace: true, at: 1_780_000_000)
    static let bareGrant = Grant(grantId: "", kind: .authorize, requestId: nil, handshakeCode: "h", clientUUID: "", itemId: "i",
                                 amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: 0)
    static let fullHandshake = Handshake(code: "acme-web", organizationId: "acme", items: ["a", "b", "c"], explicitOrder: true,
                                         validation: ValidationRules(domains: ["*.example.com", "x.test"], appIds: ["com.acme.*"],
                                                                     processes: ["scan.exe"]),
                                         sessionPassword: Fixture.password(9, iterations: PasswordHash.sessionIterations), deleted: true)

    /// One or more records of every case, with edge values.
    static var samples: [LogRecord] {
        [
            .importLicense(file: Fixture.licenseBytes(items: [Fixture.item("scan-1")]), handshakeCode: "acme-1", at: 1_767_225_600),
            .importLicense(file: [], handshakeCode: "", at: 0),
            .importLicense(file: [UInt8](repeating: 0xAB, count: 300), handshakeCode: "x-1", at: -1),
            .putHandshake(fullHandshake, at: 42),
            .putHandshake(Handshake(code: "acme-1", organizationId: "acme", items: []), at: Int64.max),
            .deleteHandshake(code: "acme-1", at: 1_780_000_000),
            .grant(fullGrant),
            .grant(bareGrant),
            .grant(Grant(grantId: "g", kind: .authorize, requestId: "", handshakeCode: "h", clientUUID: "c", itemId: "i",
                         amount: Int64.max, domain: "", leaseExpiresAt: Int64.min, grace: false, at: Int64.min)),
            .renewLease(grantId: "g-2", expiresAt: 1_780_000_360, at: 1_780_000_180),
            .releaseLease(grantId: "g-3", at: 63),
            .releaseLease(grantId: "g-3", at: 64),
            .expire(at: 1_780_000_000),
            .expire(at: -64),
            .expire(at: -65),
            .setAdminPassword(Fixture.password(1, iterations: PasswordHash.adminIterations), at: 1),
            .tallyCalls(CallTally(refusedByCode: ["acme-1": 3, "acme-ü": Int64.max], overuseByItem: ["inst-1": 1]), at: 1_780_000_000),
            .tallyCalls(CallTally(), at: 0),
            .alerts(AlertUpdate(raised: ["item:scan-1:usage:60", "code:acme-1:failures:10"], cleared: ["cluster:primary:term-2"],
                                email: AlertUpdate.Email(subject: "[lts] 2 alerts", lines: ["one", "two ü"], recipients: ["a@example.com"],
                                                         isTest: false)), at: 1_780_000_000),
            .alerts(AlertUpdate(raised: [], cleared: [], email: AlertUpdate.Email(subject: "", lines: [], recipients: [], isTest: true)), at: -1),
            .alerts(AlertUpdate(raised: [], cleared: ["x"], email: nil), at: 5),
            .alertDelivery(emailId: 7, error: "535 authentication failed", at: 1_780_000_060),
            .alertDelivery(emailId: Int64.max, error: nil, at: 0),
            .setAlertSettings(AlertSettings(recipients: ["a@example.com", "b@example.com"], checkMilliseconds: 3_000, standbyLagMinutes: 1,
                                            mailServer: AlertSettings.MailServer(host: "smtp.example.com", port: 587, security: "starttls",
                                                                                 username: "lts", sealedPassword: [1, 2, 3],
                                                                                 from: "lts@example.com")), at: 9),
            .setAlertSettings(AlertSettings(recipients: [], mailServer: AlertSettings.MailServer(
                host: "h", port: 65535, security: "none", username: nil, sealedPassword: nil, from: nil)), at: 10),
            .setAlertSettings(AlertSettings(recipients: [], mailServer: nil), at: 11),
            .audit(AuditEntry(at: 1_780_000_000, actor: "admin session 1a2b3c4d", address: "2001:db8::1", action: .licenseImport,
                              object: "L-ü", refusalCode: nil)),
            .audit(AuditEntry(at: -1, actor: "", address: "", action: .login, object: "", refusalCode: Int(Int32.min))),
            .drillReport(DrillRecord(id: "0b9f3c1e-5a2d-4c7e-9f10-2b3c4d5e6f70", report: Array("{\"kind\":\"switchover\"}".utf8), at: 12)),
        ]
    }

    func testEveryCaseRoundTrips() throws {
        var kinds = Set<String>()
        for record in Self.samples {
            let bytes = LogRecordCodec.encode(record)
            XCTAssertEqual(try LogRecordCodec.decode(bytes), record, "\(record)")
            XCTAssertEqual(LogRecordCodec.encode(try LogRecordCodec.decode(bytes)), bytes, "\(record)")
            kinds.insert(record.kind)
        }
        XCTAssertEqual(kinds, ["import", "handshake", "handshake-delete", "grant", "renew", "release", "expire", "password", "tally",
                               "alerts", "alert-delivery", "alert-settings", "audit", "drill-report"])
    }

    func testRecordTimes() {
        XCTAssertEqual(LogRecord.grant(Self.fullGrant).at, 1_780_000_000)
        XCTAssertEqual(LogRecord.renewLease(grantId: "g", expiresAt: 9, at: 5).at, 5)
        XCTAssertEqual(LogRecord.expire(at: 77).at, 77)
        XCTAssertEqual(LogRecord.putHandshake(Self.fullHandshake, at: 42).at, 42)
    }

    func testDistinctRecordsEncodeDistinctly() {
        let encodings = Self.samples.map(LogRecordCodec.encode)
        XCTAssertEqual(Set(encodings).count, encodings.count)
    }

    func testTruncatedBytesThrow() {
        XCTAssertThrowsError(try LogRecordCodec.decode([]))
        for record in Self.samples {
            let bytes = LogRecordCodec.encode(record)
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try LogRecordCodec.decode(Array(bytes.prefix(length))), "\(record.kind) cut to \(length) of \(bytes.count)")
            }
        }
    }

    func testTrailingBytesThrow() {
        for record in Self.samples {
            for extra: [UInt8] in [[0], [1], [7, 0]] {
                XCTAssertThrowsError(try LogRecordCodec.decode(LogRecordCodec.encode(record) + extra), "\(record.kind) + \(extra)")
            }
        }
    }

    /// `tagMax` is what a peer is told this binary reads: no record is
    /// written above it, and nothing above it decodes.
    func testTagMaxBoundsEveryTagWrittenAndRead() throws {
        let identity = LogRecordCodec.encode(.clusterIdentity(uuid: "6f1f3b3e-59a4-4f0e-9d55-0c2b1c8a7e21", at: 1))
        for record in Self.samples + [try LogRecordCodec.decode(identity)] {
            var reader = BinaryReader(LogRecordCodec.encode(record))
            XCTAssertLessThanOrEqual(try reader.unsigned(), LogRecordCodec.tagMax, "\(record)")
        }
        var above = BinaryWriter()
        above.unsigned(LogRecordCodec.tagMax + 1)
        XCTAssertThrowsError(try LogRecordCodec.decode(above.bytes + identity.dropFirst()))
    }

    func testUnknownTagsThrow() {
        for tag: UInt8 in [0, 13, 14, 127] {
            XCTAssertThrowsError(try LogRecordCodec.decode([tag, 0, 0, 0]), "tag \(tag)")
        }
        // A multi-byte varint tag (128).
        XCTAssertThrowsError(try LogRecordCodec.decode([0x80, 0x01, 0]))
    }

    /// Alert records refuse what `encode` never writes: zero or unsorted
    /// counts, a condition both raised and cleared, settings out of range.
    func testMalformedAlertRecordsThrow() {
        func tally(_ entries: [(String, Int64)]) -> [UInt8] {
            var writer = BinaryWriter()
            writer.unsigned(9)
            writer.unsigned(UInt64(entries.count))
            for (name, count) in entries {
                writer.string(name)
                writer.signed(count)
            }
            writer.unsigned(0)
            writer.signed(0)
            return writer.bytes
        }
        XCTAssertNoThrow(try LogRecordCodec.decode(tally([("a", 1), ("b", 2)])))
        XCTAssertThrowsError(try LogRecordCodec.decode(tally([("a", 0)])), "a zero count")
        XCTAssertThrowsError(try LogRecordCodec.decode(tally([("b", 1), ("a", 1)])), "names out of order")
        XCTAssertThrowsError(try LogRecordCodec.decode(tally([("a", 1), ("a", 1)])), "a name twice")

        var update = BinaryWriter()
        update.unsigned(10)
        update.strings(["k"])
        update.strings(["k"])
        update.bool(false)
        update.signed(0)
        XCTAssertThrowsError(try LogRecordCodec.decode(update.bytes), "a key both raised and cleared")

        func settings(checkMilliseconds: Int64, lag: Int64, port: Int64) -> [UInt8] {
            var writer = BinaryWriter()
            writer.unsigned(12)
            writer.strings([])
            writer.signed(checkMilliseconds)
            writer.signed(lag)
            writer.bool(true)
            writer.string("h")
            writer.signed(port)
            writer.string("none")
            writer.optionalString(nil)
            writer.bool(false)
            writer.optionalString(nil)
            writer.signed(0)
            return writer.bytes
        }
        XCTAssertNoThrow(try LogRecordCodec.decode(settings(checkMilliseconds: 3_000, lag: 1, port: 25)))
        XCTAssertThrowsError(try LogRecordCodec.decode(settings(checkMilliseconds: 2_999, lag: 1, port: 25)), "a check more often than 3 s")
        XCTAssertThrowsError(try LogRecordCodec.decode(settings(checkMilliseconds: 3_000, lag: 0, port: 25)), "a zero lag")
        XCTAssertThrowsError(try LogRecordCodec.decode(settings(checkMilliseconds: 3_000, lag: 1, port: 0)), "port 0")
        XCTAssertThrowsError(try LogRecordCodec.decode(settings(checkMilliseconds: 3_000, lag: 1, port: 65_536)), "port 65536")
    }

    func testMalformedFieldsThrow() {
        // A boolean byte other than 0 or 1 (the grace flag of a grant, the last-but-one field).
        var grant = LogRecordCodec.encode(.grant(Self.bareGrant))
        XCTAssertEqual(grant[grant.count - 2], 0)
        grant[grant.count - 2] = 2
        XCTAssertThrowsError(try LogRecordCodec.decode(grant))

        // Invalid UTF-8 in a string.
        XCTAssertThrowsError(try LogRecordCodec.decode([3, 2, 0xC3, 0x28, 0]))
        XCTAssertNoThrow(try LogRecordCodec.decode([3, 2, 0xC3, 0xA9, 0]))

        // A length running past the end.
        XCTAssertThrowsError(try LogRecordCodec.decode([3, 0x7F, 0x61]))

        // A password hash with a 15-byte salt.
        var writer = BinaryWriter()
        writer.unsigned(8)
        writer.data([UInt8](repeating: 1, count: 15))
        writer.unsigned(1000)
        writer.data([UInt8](repeating: 2, count: 32))
        writer.signed(0)
        XCTAssertThrowsError(try LogRecordCodec.decode(writer.bytes))

        // A password hash with zero iterations.
        writer = BinaryWriter()
        writer.unsigned(8)
        writer.data([UInt8](repeating: 1, count: 16))
        writer.unsigned(0)
        writer.data([UInt8](repeating: 2, count: 32))
        writer.signed(0)
        XCTAssertThrowsError(try LogRecordCodec.decode(writer.bytes))
    }

    /// A grant record's bytes, written field by field, with `kind` as given.
    private func grantRecord(kind: UInt64) -> [UInt8] {
        var writer = BinaryWriter()
        writer.unsigned(4)
        writer.string("g")
        writer.unsigned(kind)
        writer.bool(false)
        writer.string("h"); writer.string("c"); writer.string("i")
        writer.signed(1)
        writer.bool(false)
        writer.bool(false)
        writer.bool(false)
        writer.signed(0)
        return writer.bytes
    }

    func testTheGrantRecordHelperWritesAValidGrant() throws {
        XCTAssertNoThrow(try LogRecordCodec.decode(grantRecord(kind: UInt64(Grant.Kind.authorize.rawValue))))
    }

    func testUnknownGrantKindThrows() {
        XCTAssertThrowsError(try LogRecordCodec.decode(grantRecord(kind: 3)), "no Grant.Kind 3")
    }

    /// A grant kind is a varint that must fit in a byte: 257 must not be
    /// truncated to `.authorize` (1).
    func testGrantKindOutOfByteRangeThrows() {
        XCTAssertThrowsError(try LogRecordCodec.decode(grantRecord(kind: 257)))
    }

    /// A 10-byte varint whose last byte is above 1 holds more than 64 bits:
    /// refused, not decoded with its high bits dropped.
    func testVarintOverflowThrows() {
        // expire(at:) with a varint of 9 × 0xFF then 0x7F: 70 bits of value.
        let bytes: [UInt8] = [7] + [UInt8](repeating: 0xFF, count: 9) + [0x7F]
        XCTAssertThrowsError(try LogRecordCodec.decode(bytes))
    }

    func testLargestVarintStillDecodes() throws {
        // Int64.min zig-zags to UInt64.max: 9 × 0xFF then 0x01.
        let bytes = LogRecordCodec.encode(.expire(at: Int64.min))
        XCTAssertEqual(bytes, [7] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        XCTAssertEqual(try LogRecordCodec.decode(bytes), .expire(at: Int64.min))
    }

    func testBinaryWriterAndReaderAgree() throws {
        var writer = BinaryWriter()
        let unsignedValues: [UInt64] = [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max]
        let signedValues: [Int64] = [0, -1, 1, -64, 63, -65, 64, Int64.min, Int64.max]
        for value in unsignedValues { writer.unsigned(value) }
        for value in signedValues { writer.signed(value) }
        writer.optionalString(nil)
        writer.optionalString("é")
        writer.strings(["a", "", "ccc"])
        writer.bool(true)
        var reader = BinaryReader(writer.bytes)
        for value in unsignedValues { XCTAssertEqual(try reader.unsigned(), value) }
        for value in signedValues { XCTAssertEqual(try reader.signed(), value) }
        XCTAssertNil(try reader.optionalString())
        XCTAssertEqual(try reader.optionalString(), "é")
        XCTAssertEqual(try reader.strings(), ["a", "", "ccc"])
        XCTAssertEqual(try reader.bool(), true)
        XCTAssertTrue(reader.isAtEnd)
        XCTAssertThrowsError(try reader.bool())
        XCTAssertThrowsError(try reader.unsigned())
    }

    func testVarintLayout() {
        var writer = BinaryWriter()
        writer.unsigned(300)
        writer.signed(-1)
        writer.signed(1)
        XCTAssertEqual(writer.bytes, [0xAC, 0x02, 0x01, 0x02])
    }
}
