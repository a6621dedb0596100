import LicenseState
import XCTest

/// The per-code usage section of a snapshot (format 6, after the audit and
/// drills sections): it round-trips; a snapshot of format 5 (which counted no codes)
/// decodes with each item's counted units unattributed, and later records
/// split what they add; a section `encode` cannot have written is refused.
final class StateSnapshotCodeUsageTests: XCTestCase {
    private let t = Fixture.now

    /// Scans, devices and domains split over two codes, a lease under each,
    /// an item nobody used; no audit entries, no drills.
    private func sharedItems() throws -> (Harness, Grant) {
        var h = Harness()
        _ = try h.importItems([
            Fixture.item("scan-1", quantity: 100),
            Fixture.item("scan-0", product: "idle", quantity: 1),
            Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, activeWindow: "month"),
            Fixture.item("dom-1", product: "web", way: .domain, quantity: 5),
            Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 5),
        ])
        assertSuccess(h.putHandshake(Handshake(code: "acme-2", organizationId: "acme", items: ["scan-1", "dev-1", "dom-1", "inst-1"]),
                                     creating: true))
        assertGranted(h.call("acme-1", client: "a", product: "scans", kind: .report, scans: 3, at: t))
        let acme2Scans = try XCTUnwrap(assertGranted(h.call("acme-2", client: "a", product: "scans", kind: .report, scans: 7, at: t)))
        assertGranted(h.call("acme-1", client: "a", product: "reader", at: t))
        assertGranted(h.call("acme-2", client: "b", product: "reader", at: t))
        assertGranted(h.call("acme-2", client: "a", product: "web", domain: "a.test", at: t))
        assertGranted(h.call("acme-1", client: "a", product: "viewer", at: t))
        assertGranted(h.call("acme-2", client: "a", product: "viewer", at: t))
        XCTAssertEqual(h.state.usedByCode("scan-1", now: t).byCode, ["acme-1": 3, "acme-2": 7])
        XCTAssertTrue(h.state.audit.entries.isEmpty && h.state.drills.records.isEmpty)
        return (h, acme2Scans)
    }

    /// The per-code section as `writeCodeUsage` lays it out.
    private func section(_ splits: [(itemId: String, unattributed: Int64, byCode: [(String, Int64)])]) -> [UInt8] {
        var writer = BinaryWriter()
        writer.unsigned(UInt64(splits.count))
        for split in splits {
            writer.string(split.itemId)
            writer.signed(split.unattributed)
            writer.unsigned(UInt64(split.byCode.count))
            for (code, units) in split.byCode {
                writer.string(code)
                writer.signed(units)
            }
        }
        return writer.bytes
    }

    /// The section `state` holds, by the same layout.
    private func section(of state: LicenseState) -> [UInt8] {
        section(state.codeUsage.splits.sorted { $0.key < $1.key }.map { itemId, split in
            (itemId, split.unattributed, split.byCode.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        })
    }

    func testTheSectionRoundTripsAndIsTheLastOne() throws {
        let (h, _) = try sharedItems()
        let bytes = StateSnapshotCodec.encode(h.state)
        let tail = section(of: h.state)
        XCTAssertEqual(Array(bytes.suffix(tail.count + 3)), [0, 0, 0] + tail, "empty audit and drills sections, then the per-code one, last")
        let decoded = try StateSnapshotCodec.decode(bytes)
        XCTAssertEqual(decoded, h.state)
        XCTAssertEqual(decoded.digest, h.state.digest)
        for itemId in ["scan-1", "dev-1", "dom-1", "inst-1"] {
            XCTAssertEqual(decoded.usedByCode(itemId, now: t), h.state.usedByCode(itemId, now: t), itemId)
        }
    }

    func testTheDigestSeesTheSplit() throws {
        var h = try sharedItems().0
        var moved = h
        // The same use, brought by the other code: only the split differs.
        h.apply(.grant(Grant(grantId: "x1", kind: .report, requestId: nil, handshakeCode: "acme-1", clientUUID: "z", itemId: "scan-1",
                             amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: t)))
        moved.apply(.grant(Grant(grantId: "x1", kind: .report, requestId: nil, handshakeCode: "acme-2", clientUUID: "z", itemId: "scan-1",
                                 amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: t)))
        XCTAssertEqual(h.state.used("scan-1", now: t), moved.state.used("scan-1", now: t))
        XCTAssertNotEqual(h.state, moved.state)
        XCTAssertNotEqual(h.state.digest, moved.state.digest)
    }

    /// A format 5 snapshot is the format 6 one without its last three
    /// sections (audit, drills, per-code usage).
    func testAFormat5SnapshotDecodesWithItsUseUnattributed() throws {
        let (h, acme2Scans) = try sharedItems()
        let bytes = StateSnapshotCodec.encode(h.state)
        let v5 = [5] + Array(bytes.dropFirst().dropLast(3 + section(of: h.state).count))
        var upgraded = try StateSnapshotCodec.decode(v5)
        XCTAssertEqual(upgraded.items, h.state.items)
        XCTAssertEqual(upgraded.leases, h.state.leases)
        let expected: [String: CodeUsage.Split] = [
            "scan-1": CodeUsage.Split(unattributed: 10), "dev-1": CodeUsage.Split(unattributed: 2), "dom-1": CodeUsage.Split(unattributed: 1),
            // Leases name their code: concurrent items are split as before.
            "inst-1": CodeUsage.Split(byCode: ["acme-1": 1, "acme-2": 1]),
        ]
        for (itemId, split) in expected {
            XCTAssertEqual(upgraded.usedByCode(itemId, now: t), split, itemId)
            XCTAssertEqual(upgraded.used(itemId, now: t), h.state.used(itemId, now: t), itemId)
        }
        // Later records split what they add; a void of an older grant gives back unattributed scans.
        upgraded.apply(.grant(Grant(grantId: "after", kind: .report, requestId: nil, handshakeCode: "acme-1", clientUUID: "a",
                                    itemId: "scan-1", amount: 2, domain: nil, leaseExpiresAt: nil, grace: false, at: t + 1)))
        upgraded.apply(.voidGrant(acme2Scans, at: t + 2))
        XCTAssertEqual(upgraded.usedByCode("scan-1", now: t + 2), CodeUsage.Split(byCode: ["acme-1": 2], unattributed: 3))
        XCTAssertEqual(upgraded.used("scan-1", now: t + 2), 5)
        // A new device window leaves nothing unattributed.
        let nextMonth = utc("2026-04-01T00:00:00Z")
        upgraded.apply(.grant(Grant(grantId: "dev-next", kind: .authorize, requestId: nil, handshakeCode: "acme-2", clientUUID: "a",
                                    itemId: "dev-1", amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: nextMonth)))
        XCTAssertEqual(upgraded.usedByCode("dev-1", now: nextMonth), CodeUsage.Split(byCode: ["acme-2": 1]))
        // The upgraded state writes format 6, unattributed units included.
        let rewritten = StateSnapshotCodec.encode(upgraded)
        XCTAssertEqual(rewritten.first, 6)
        XCTAssertEqual(try StateSnapshotCodec.decode(rewritten), upgraded)
    }

    func testSectionsEncodeCannotWriteAreRefused() throws {
        let (h, _) = try sharedItems()
        let bytes = StateSnapshotCodec.encode(h.state)
        let head = Array(bytes.dropLast(section(of: h.state).count))
        let dev: (String, Int64, [(String, Int64)]) = ("dev-1", 0, [("acme-1", 1), ("acme-2", 1)])
        let dom: (String, Int64, [(String, Int64)]) = ("dom-1", 0, [("acme-2", 1)])
        let scan: (String, Int64, [(String, Int64)]) = ("scan-1", 0, [("acme-1", 3), ("acme-2", 7)])
        XCTAssertEqual(try StateSnapshotCodec.decode(head + section([dev, dom, scan])), h.state, "the control decodes")
        XCTAssertNoThrow(try StateSnapshotCodec.decode(head + section([dev, dom, ("scan-1", 4, [("acme-2", 6)])])),
                         "unattributed units are part of the sum")
        let refused: [(String, [UInt8])] = [
            ("units that do not add up to the item's", section([dev, dom, ("scan-1", 0, [("acme-1", 3), ("acme-2", 6)])])),
            ("an item that counts units without a split", section([dev, dom])),
            ("a code with zero units", section([dev, dom, ("scan-1", 0, [("acme-1", 3), ("acme-2", 7), ("acme-3", 0)])])),
            ("codes out of order", section([dev, dom, ("scan-1", 0, [("acme-2", 7), ("acme-1", 3)])])),
            ("a code twice", section([dev, dom, ("scan-1", 0, [("acme-1", 3), ("acme-1", 7)])])),
            ("items out of order", section([dom, dev, scan])),
            ("a split of a concurrent item", section([dev, dom, ("inst-1", 0, [("acme-1", 2)]), scan])),
            ("a split of an unknown item", section([dev, dom, scan, ("zzz", 0, [("acme-1", 1)])])),
            ("an empty split", section([dev, dom, ("scan-0", 0, []), scan])),
            ("units that overflow", section([dev, dom, ("scan-1", 0, [("acme-1", .max), ("acme-2", 11)])])),
        ]
        for (what, tail) in refused {
            XCTAssertThrowsError(try StateSnapshotCodec.decode(head + tail), what) { error in
                XCTAssertTrue(error is BinaryReader.Malformed, "threw \(error): \(what)")
            }
        }
    }
}
