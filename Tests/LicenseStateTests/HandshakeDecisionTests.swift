import LicenseState
import XCTest

/// Handshake codes: made by imports, created, edited and deleted by the admin.
final class HandshakeDecisionTests: XCTestCase {
    private let t = Fixture.now

    /// Two acme licenses and one globex license.
    private func harness() throws -> Harness {
        var h = Harness()
        try h.importItems([Fixture.item("acme-scan"), Fixture.item("acme-dev", way: .device, quantity: 5)], licenseId: "A-1")
        try h.importItems([Fixture.item("acme-scan-2")], licenseId: "A-2")
        try h.importItems([Fixture.item("glx-scan")], licenseId: "G-1", organizationId: "globex")
        return h
    }

    func testImportsCreateNumberedCodesPerOrganization() throws {
        let h = try harness()
        XCTAssertEqual(Set(h.state.handshakes.keys), ["acme-1", "acme-2", "globex-1"])
        XCTAssertEqual(h.state.handshakes["acme-1"]?.items, ["acme-scan", "acme-dev"])
        XCTAssertEqual(h.state.handshakes["acme-2"]?.items, ["acme-scan-2"])
        XCTAssertEqual(h.state.handshakes["globex-1"]?.organizationId, "globex")
    }

    func testImportSkipsCodesTakenByTheAdminOrDeleted() throws {
        var h = try harness()
        assertSuccess(h.putHandshake(Handshake(code: "acme-3", organizationId: "acme", items: ["acme-scan"]), creating: true))
        assertSuccess(h.deleteHandshake("acme-1"))
        let code = try h.importItems([Fixture.item("acme-scan-4")], licenseId: "A-4")
        XCTAssertEqual(code, "acme-4")
    }

    func testCreateAndUse() throws {
        var h = try harness()
        let handshake = Handshake(code: "acme-web_shop.2", organizationId: "acme", items: ["acme-scan-2", "acme-scan"],
                                  explicitOrder: true, validation: ValidationRules(domains: ["*.acme.com"]),
                                  sessionPassword: Fixture.password(3))
        let record = assertSuccess(h.putHandshake(handshake, creating: true, at: t))
        XCTAssertEqual(record, .putHandshake(handshake, at: t))
        XCTAssertEqual(record?.kind, "handshake")
        XCTAssertEqual(h.state.handshakes["acme-web_shop.2"], handshake)
        assertGranted(h.call("acme-web_shop.2", client: "c", domain: "shop.acme.com", at: t), item: "acme-scan-2")
    }

    func testCodeMustCarryTheOrganizationPrefix() throws {
        let h = try harness()
        for code in ["web", "acmeweb", "acme-", "acme-has space", "acme-x/y", "globex-web", "ACME-web",
                     "acme-" + String(repeating: "x", count: Handshake.codeLengthMax)] {
            assertFailure(h.state.decidePutHandshake(Handshake(code: code, organizationId: "acme", items: ["acme-scan"]),
                                                     creating: true, now: t), code: -20311, code)
        }
        XCTAssertTrue(Handshake.isValidCode("acme-" + String(repeating: "x", count: Handshake.codeLengthMax - 5), organizationId: "acme"))
        XCTAssertFalse(Handshake.isValidCode("acme-" + String(repeating: "x", count: Handshake.codeLengthMax - 4), organizationId: "acme"))
    }

    func testDuplicateCreationIsRefused() throws {
        let h = try harness()
        let result = h.state.decidePutHandshake(Handshake(code: "acme-1", organizationId: "acme", items: ["acme-scan"]), creating: true,
                                                now: t)
        assertFailure(result, code: -20310)
        if case .failure(let error) = result { XCTAssertEqual(error.status, 409) }
    }

    func testCreatingOverADeletedCodeIsAllowed() throws {
        var h = try harness()
        assertSuccess(h.deleteHandshake("acme-2"))
        assertSuccess(h.putHandshake(Handshake(code: "acme-2", organizationId: "acme", items: ["acme-scan"]), creating: true))
        XCTAssertEqual(h.state.handshakes["acme-2"]?.deleted, false)
        assertGranted(h.call("acme-2", client: "c", at: t), item: "acme-scan")
    }

    func testEditingNeedsAnExistingCode() throws {
        var h = try harness()
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-9", organizationId: "acme", items: ["acme-scan"]),
                                                 creating: false, now: t), code: -20312)
        assertSuccess(h.deleteHandshake("acme-2"))
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-2", organizationId: "acme", items: ["acme-scan"]),
                                                 creating: false, now: t), code: -20312)
    }

    func testItemsOfAnotherOrganizationAreRefused() throws {
        let h = try harness()
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-mix", organizationId: "acme", items: ["acme-scan", "glx-scan"]),
                                                 creating: true, now: t), code: -20311)
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-ghost", organizationId: "acme", items: ["no-such-item"]),
                                                 creating: true, now: t), code: -20311)
    }

    func testItemListMustBeNonEmptyAndDistinct() throws {
        let h = try harness()
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-empty", organizationId: "acme", items: []), creating: true, now: t),
                      code: -20311)
        assertFailure(h.state.decidePutHandshake(Handshake(code: "acme-twice", organizationId: "acme", items: ["acme-scan", "acme-scan"]),
                                                 creating: true, now: t), code: -20311)
    }

    func testOrganizationWithoutLicenseIsRefused() throws {
        let h = try harness()
        assertFailure(h.state.decidePutHandshake(Handshake(code: "initech-1", organizationId: "initech", items: ["acme-scan"]),
                                                 creating: true, now: t), code: -20311)
    }

    func testValidationPatternLimits() throws {
        let h = try harness()
        func put(_ rules: ValidationRules) -> Result<LogRecord, LicenseError> {
            h.state.decidePutHandshake(Handshake(code: "acme-rules", organizationId: "acme", items: ["acme-scan"], validation: rules),
                                       creating: true, now: t)
        }
        assertFailure(put(ValidationRules(domains: [""])), code: -20311, "empty pattern")
        assertFailure(put(ValidationRules(appIds: [String(repeating: "a", count: 257)])), code: -20311, "257-byte pattern")
        assertSuccess(put(ValidationRules(appIds: [String(repeating: "a", count: 256)])), "256-byte pattern")
        let many = (0..<129).map { "p\($0)" }
        assertFailure(put(ValidationRules(domains: many, appIds: many)), code: -20311, "258 patterns")
        assertSuccess(put(ValidationRules(domains: Array(many.prefix(128)), appIds: many.prefix(128).map { $0 })), "256 patterns")
    }

    func testDeleteThenAuthorize() throws {
        var h = try harness()
        assertGranted(h.call("acme-1", client: "c", at: t))
        assertGranted(h.call("acme-1", client: "d", product: "scans", at: t))
        let totalBefore = h.state.grantsTotal
        let usageBefore = h.state.items
        let record = assertSuccess(h.deleteHandshake("acme-1", at: t + 1))
        XCTAssertEqual(record, .deleteHandshake(code: "acme-1", at: t + 1))
        XCTAssertEqual(record?.kind, "handshake-delete")
        XCTAssertEqual(h.state.handshakes["acme-1"]?.deleted, true, "the code is kept, marked deleted")
        XCTAssertEqual(h.state.grantsTotal, totalBefore)
        XCTAssertEqual(h.state.items, usageBefore)
        assertRefused(h.call("acme-1", client: "c", at: t + 2), code: -20110)
        // Other codes on the same organization keep working.
        assertGranted(h.call("acme-2", client: "c", at: t + 2))
        // Deleting again is refused.
        assertFailure(h.state.decideDeleteHandshake(code: "acme-1", now: t + 3), code: -20312)
        assertFailure(h.state.decideDeleteHandshake(code: "acme-77", now: t + 3), code: -20312)
    }

    func testDeleteKeepsLeasesOfTheCode() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("inst-1", way: .concurrentInstance, quantity: 1)])
        let grant = try XCTUnwrap(assertGranted(h.call(code, client: "c", at: t)))
        assertSuccess(h.deleteHandshake(code, at: t + 1))
        XCTAssertEqual(h.state.leases[grant.grantId]?.handshakeCode, code)
        assertSuccess(h.state.decideHeartbeat(grantId: grant.grantId, now: t + 2))
        assertSuccess(h.state.decideRelease(grantId: grant.grantId, now: t + 2))
    }
}
