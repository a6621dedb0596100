import LicenseState
import XCTest
import LTSTestSupport

/// A snapshot stands in for the log behind it: decoding what `encode` wrote
/// gives an equal state that stays equal under every later record, equal
/// states encode to the same bytes, old snapshots give back the requests
/// they held (kept apart since version 4), and anything
/// `encode` cannot have written is refused with `BinaryReader.Malformed`.
final class StateSnapshotCodecTests: XCTestCase {
    static let seedCount: UInt64 = 60
    static let stepsPerSeed = 300
    /// Random cut points per seed, besides the end of the log.
    static let cutsPerSeed = 4

    // MARK: Round trip over random logs

    /// Property: for a state after any prefix of a random log, the decoded
    /// snapshot equals it, has its digest and re-encodes to the same bytes;
    /// applying the rest of the log to both keeps them equal at every record.
    func testSnapshotAfterAnyPrefixBehavesLikeTheState() {
        var expiresAfterCut = 0, leaseExpiriesAfterCut = 0
        for seed in 0..<Self.seedCount {
            let run = PropertyRun(seed: 20_000 + seed)
            run.execute(steps: Self.stepsPerSeed)
            // PropertyRun reported its own failure with its seed.
            if run.failed { return }
            let log = run.h.log
            var rng = SplitMix64(seed: seed)
            let cuts = [log.count] + (0..<Self.cutsPerSeed).map { _ in rng.below(log.count + 1) }
            for cut in cuts {
                let context = "seed \(20_000 + seed), snapshot after \(cut) of \(log.count) records"
                var live = LicenseState()
                for record in log[..<cut] { live.apply(record) }
                let bytes = StateSnapshotCodec.encode(live)
                var restored: LicenseState
                do {
                    restored = try StateSnapshotCodec.decode(bytes)
                } catch {
                    return XCTFail("\(context): the snapshot does not decode: \(error)")
                }
                guard restored == live, restored.digest == live.digest, StateSnapshotCodec.encode(restored) == bytes else {
                    return XCTFail("\(context): the decoded state differs from the state encoded")
                }
                for (offset, record) in log[cut...].enumerated() {
                    let leasesBefore = live.leases.count
                    live.apply(record)
                    restored.apply(record)
                    if case .expire = record {
                        expiresAfterCut += 1
                        if live.leases.count < leasesBefore { leaseExpiriesAfterCut += 1 }
                    }
                    guard restored == live, restored.needsExpiry(now: record.at) == live.needsExpiry(now: record.at) else {
                        return XCTFail("\(context): the states part at record \(cut + offset) (\(record.kind))")
                    }
                }
                XCTAssertEqual(restored.digest, live.digest, context)
                XCTAssertEqual(StateSnapshotCodec.encode(restored), StateSnapshotCodec.encode(live), context)
            }
        }
        // Guards against a generator that stops exercising what matters here.
        XCTAssertGreaterThan(expiresAfterCut, 0, "no expire record after a snapshot")
        XCTAssertGreaterThan(leaseExpiriesAfterCut, 0, "no lease expired after a snapshot")
    }

    /// A snapshot of version 3 or older held the remembered requests: they
    /// come back apart from the state, oldest answer first (not in key
    /// order), and the state encodes again without them.
    func testOldSnapshotsGiveBackTheirRequestsInAnswerOrder() throws {
        let file = try LicenseFile.parse(PropertyRun.later[2])
        let g1 = grant("g1", item: "scan-x", client: "c-z", requestId: "r-z", at: Fixture.now - 10)
        let g2 = grant("g2", item: "scan-x", client: "c-a", requestId: "r-a", at: Fixture.now)
        let old = Self.handMade(licenses: [(file.signedBytes, file.signature)], items: [("scan-x", "L-X")], requests: [g1, g2], grantsTotal: 2)
        let decoded = try StateSnapshotCodec.decodeWithRequests(old)
        XCTAssertEqual(decoded.requests, [.granted(g1), .granted(g2)])
        XCTAssertEqual(try StateSnapshotCodec.decode(old), decoded.state)
        let encoded = StateSnapshotCodec.encode(decoded.state)
        XCTAssertEqual(encoded.first, StateSnapshotCodec.formatVersion)
        XCTAssertEqual(try StateSnapshotCodec.decodeWithRequests(encoded).requests, [], "from version 4 on, no requests")
        XCTAssertEqual(try StateSnapshotCodec.decode(encoded), decoded.state)
    }

    // MARK: Determinism

    /// The same records whose order does not matter, applied in different
    /// orders, give equal states (whose dictionaries were filled in different
    /// orders) and the same bytes.
    func testEqualStatesEncodeToTheSameBytes() throws {
        let at = utc("2026-01-15T10:00:00Z")
        // Imports come first (a grant on an unknown item counts nothing), in any order among themselves.
        let imports: [LogRecord] = [
            .importLicense(file: PropertyRun.primary, handshakeCode: "acme-a", at: at),
            .importLicense(file: PropertyRun.later[0], handshakeCode: "acme-b", at: at),
            .importLicense(file: PropertyRun.later[1], handshakeCode: "globex-g", at: at),
        ]
        var unordered: [LogRecord] = [
            .putHandshake(Handshake(code: "acme-p", organizationId: "acme", items: ["dom-a", "scan-a"], explicitOrder: true,
                                    validation: ValidationRules(domains: ["*.test"]), sessionPassword: Fixture.password(3)), at: at),
            .putHandshake(Handshake(code: "acme-q", organizationId: "acme", items: ["inst-a"], deleted: true), at: at),
            .setAdminPassword(Fixture.password(9), at: at),
        ]
        for index in 0..<12 {
            unordered.append(.grant(grant("dev-\(index)", item: "dev-a", client: "client-\(index)", at: at)))
            unordered.append(.grant(grant("dom-\(index)", item: "dom-a", client: "client-\(index)", domain: "d\(index).test", at: at)))
            unordered.append(.grant(grant("inst-\(index)", item: "inst-a", client: "client-\(index)", leaseExpiresAt: at + 60, at: at)))
            unordered.append(.grant(grant("scan-\(index)", item: "scan-a", client: "client-\(index)", at: at)))
        }
        // Grants with request IDs, last and in the same order.
        let ordered: [LogRecord] = (0..<6).map { .grant(grant("req-\($0)", item: "scan-b", client: "client-\($0 % 2)", requestId: "r\($0)", at: at)) }

        var reference: (state: LicenseState, bytes: [UInt8])?
        for seed in UInt64(0)..<8 {
            var rng = SplitMix64(seed: seed)
            var state = LicenseState()
            for record in imports.shuffled(using: &rng) + unordered.shuffled(using: &rng) + ordered { state.apply(record) }
            XCTAssertEqual(state.leases.count, 12, "seed \(seed): every lease is open")
            XCTAssertEqual(state.grantsTotal, 54, "seed \(seed): every grant is counted")
            let bytes = StateSnapshotCodec.encode(state)
            guard let reference else {
                reference = (state, bytes)
                continue
            }
            // Not XCTAssertEqual: its message would print both states and snapshots whole.
            XCTAssertTrue(state == reference.state, "seed \(seed): the order of these records changed the state")
            XCTAssertTrue(bytes == reference.bytes, "seed \(seed): an equal state encoded to other bytes")
        }
    }

    // MARK: Refusals

    /// Every strict prefix of a snapshot holding something of every kind, a
    /// version other than 1 to 6 and trailing bytes are refused.
    func testTruncationsOtherVersionsAndTrailingBytesAreRefused() throws {
        guard let state = Self.stateWithEverything() else { return XCTFail("no short run filled every part of the state") }
        let bytes = StateSnapshotCodec.encode(state)
        XCTAssertTrue(try StateSnapshotCodec.decode(bytes) == state, "the untouched snapshot decodes")
        for length in 0..<bytes.count {
            assertMalformed(Array(bytes.prefix(length)), "the first \(length) of \(bytes.count) bytes")
        }
        for version: UInt8 in [0, StateSnapshotCodec.formatVersion + 1] {
            assertMalformed([version] + bytes.dropFirst(), "version \(version)")
        }
        assertMalformed(bytes + [0], "a trailing zero byte")
        assertMalformed(bytes + bytes, "the snapshot twice")
    }

    /// Snapshots built by hand: each refused one differs from an accepted
    /// control in the one thing `encode` never writes.
    func testSnapshotsEncodeCannotWriteAreRefused() throws {
        let fileBytes = PropertyRun.later[2]  // L-X, one item: scan-x.
        let file = try LicenseFile.parse(fileBytes)
        let license = (signed: file.signedBytes, signature: file.signature)
        let h1 = Handshake(code: "acme-1", organizationId: "acme", items: ["scan-x"])
        let h2 = Handshake(code: "acme-2", organizationId: "acme", items: ["scan-x"])
        let g1 = grant("g1", item: "scan-x", client: "c1", requestId: "r1", at: Fixture.now)
        let g2 = grant("g2", item: "scan-x", client: "c2", requestId: "r1", at: Fixture.now - 10)

        // Controls.
        XCTAssertEqual(try StateSnapshotCodec.decode(Self.handMade()), LicenseState())
        let control = try StateSnapshotCodec.decode(Self.handMade(licenses: [license], items: [("scan-x", "L-X")], handshakes: [h1, h2],
                                                                  requests: [g1, g2], passwordAt: 0, grantsTotal: 2))
        XCTAssertEqual(control.licenses["L-X"], file)
        XCTAssertEqual(control.items["scan-x"]?.item, file.items.first)
        XCTAssertEqual(control.handshakes, ["acme-1": h1, "acme-2": h2])
        XCTAssertEqual(try StateSnapshotCodec.decodeWithRequests(Self.handMade(licenses: [license], items: [("scan-x", "L-X")],
                                                                               requests: [g1, g2])).requests.count, 2)
        XCTAssertEqual(control.adminPassword, Fixture.password(1))

        // Licenses.
        var spaced = file.signedBytes
        spaced.insert(UInt8(ascii: " "), at: 1)
        assertMalformed(Self.handMade(licenses: [(spaced, file.signature)], items: [("scan-x", "L-X")]), "signed bytes not canonical")
        assertMalformed(Self.handMade(licenses: [(file.signedBytes, Array(file.signature.dropLast()))], items: [("scan-x", "L-X")]),
                        "a 63-byte signature")
        assertMalformed(Self.handMade(licenses: [license, license], items: [("scan-x", "L-X")]), "a license twice")
        assertMalformed(Self.handMade(licenses: [license]), "a license item without usage")
        // Items.
        assertMalformed(Self.handMade(items: [("scan-x", "L-X")]), "an item whose license is missing")
        assertMalformed(Self.handMade(licenses: [license], items: [("scan-x", "L-X"), ("scan-y", "L-X")]), "an item its license lacks")
        // Handshakes.
        assertMalformed(Self.handMade(handshakes: [h2, h1]), "handshakes out of order")
        assertMalformed(Self.handMade(handshakes: [h1, h1]), "a handshake twice")
        // Requests.
        assertMalformed(Self.handMade(requests: [g1, g1]), "a request twice")
        var anonymous = g1
        anonymous.requestId = nil
        assertMalformed(Self.handMade(requests: [anonymous]), "a remembered grant without request ID")
        // Password and total.
        assertMalformed(Self.handMade(passwordAt: 5), "a password record with a time")
        assertMalformed(Self.handMade(grantsTotal: -1), "a negative grant total")
    }

    // MARK: Empty state

    func testEmptyStateRoundTrips() throws {
        let bytes = StateSnapshotCodec.encode(LicenseState())
        // Version, four empty counts, no password, a zero total; no buckets,
        // minutes, alerted keys or emails, next email ID 1, no alert settings,
        // no cluster UUID; no audit entries, none ever appended; no drills; no item's use split by code.
        XCTAssertEqual(bytes, [6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0])
        let decoded = try StateSnapshotCodec.decode(bytes)
        XCTAssertEqual(decoded, LicenseState())
        XCTAssertEqual(decoded.digest, LicenseState().digest)
        XCTAssertFalse(decoded.needsExpiry(now: Fixture.now))
    }

    // MARK: Helpers

    /// The state after a short random run that holds a license, an item, a
    /// handshake, a lease, an admin password, a cluster UUID, an audit entry
    /// and an item's use split by code.
    static func stateWithEverything() -> LicenseState? {
        for seed in UInt64(30_000)..<30_200 {
            let run = PropertyRun(seed: seed)
            run.execute(steps: 80)
            let state = run.h.state
            if !run.failed, !state.licenses.isEmpty, !state.items.isEmpty, !state.handshakes.isEmpty, !state.leases.isEmpty,
               state.adminPassword != nil, state.clusterUUID != nil, !state.audit.entries.isEmpty, !state.codeUsage.splits.isEmpty {
                return state
            }
        }
        return nil
    }

    /// A snapshot written field by field in the layout `encode` uses; items
    /// have zero counters and empty sets, there are no leases.
    static func handMade(licenses: [(signed: [UInt8], signature: [UInt8])] = [], items: [(itemId: String, licenseId: String)] = [],
                         handshakes: [Handshake] = [], requests: [Grant] = [], passwordAt: Int64? = nil, grantsTotal: Int64 = 0) -> [UInt8] {
        var writer = BinaryWriter()
        writer.unsigned(1)
        writer.unsigned(UInt64(licenses.count))
        for license in licenses {
            writer.data(license.signed)
            writer.data(license.signature)
        }
        writer.unsigned(UInt64(items.count))
        for item in items {
            writer.string(item.itemId)
            writer.string(item.licenseId)
            writer.signed(0)
            writer.signed(0)
            writer.unsigned(0)
            writer.unsigned(0)
        }
        writer.unsigned(UInt64(handshakes.count))
        for handshake in handshakes { writer.data(LogRecordCodec.encode(.putHandshake(handshake, at: 0))) }
        writer.unsigned(0)
        writer.unsigned(UInt64(requests.count))
        for grant in requests { writer.data(LogRecordCodec.encode(.grant(grant))) }
        writer.bool(passwordAt != nil)
        if let passwordAt { writer.data(LogRecordCodec.encode(.setAdminPassword(Fixture.password(1), at: passwordAt))) }
        writer.signed(grantsTotal)
        return writer.bytes
    }

    func grant(_ grantId: String, item: String, client: String, requestId: String? = nil, domain: String? = nil,
               leaseExpiresAt: Int64? = nil, at: Int64) -> Grant {
        Grant(grantId: grantId, kind: .authorize, requestId: requestId, handshakeCode: "acme-a", clientUUID: client, itemId: item,
              amount: 1, domain: domain, leaseExpiresAt: leaseExpiresAt, grace: false, at: at)
    }

    func assertMalformed(_ bytes: [UInt8], _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try StateSnapshotCodec.decode(bytes), message(), file: file, line: line) { error in
            XCTAssertTrue(error is BinaryReader.Malformed, "threw \(error), not Malformed: \(message())", file: file, line: line)
        }
    }
}
