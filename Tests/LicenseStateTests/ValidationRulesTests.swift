import LicenseState
import XCTest

/// Handshake validation rules (allowed domains, app IDs, process names) and
/// unknown or deleted handshake codes.
final class ValidationRulesTests: XCTestCase {
    private let t = Fixture.now

    private func domainRules(_ patterns: String...) -> ValidationRules { ValidationRules(domains: patterns) }

    func testWildcardSubdomain() {
        let rules = domainRules("*.example.com")
        XCTAssertNil(rules.firstMismatch(domain: "a.example.com", appId: nil, process: nil))
        XCTAssertNil(rules.firstMismatch(domain: "deep.a.example.com", appId: nil, process: nil))
        XCTAssertEqual(rules.firstMismatch(domain: "example.com", appId: nil, process: nil), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "example.com.evil", appId: nil, process: nil), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "a.example.com.evil", appId: nil, process: nil), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "a.example.comx", appId: nil, process: nil), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "evilexample.com", appId: nil, process: nil), "domain")
    }

    func testExactPatternAndMultiplePatterns() {
        let rules = domainRules("example.com", "*.test")
        XCTAssertNil(rules.firstMismatch(domain: "example.com", appId: nil, process: nil))
        XCTAssertNil(rules.firstMismatch(domain: "x.test", appId: nil, process: nil))
        XCTAssertEqual(rules.firstMismatch(domain: "www.example.com", appId: nil, process: nil), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "test", appId: nil, process: nil), "domain")
    }

    func testWildcardInTheMiddleAndBacktracking() {
        let rules = ValidationRules(appIds: ["app-*-prod", "*ab"])
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "app-1-prod", process: nil))
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "app--prod", process: nil))
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "app-x-prod-y-prod", process: nil))
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "aab", process: nil))
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "ab", process: nil))
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: "app-1-prod2", process: nil), "app ID")
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: "xapp-1-prod", process: nil), "app ID")
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: "aba", process: nil), "app ID")
    }

    func testStarAloneMatchesAnyNonEmptyValue() {
        let rules = ValidationRules(processes: ["*"])
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: nil, process: "scanner.exe"))
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: nil, process: ""), "process name")
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: nil, process: nil), "process name")
    }

    func testDomainsAreCaseInsensitive() {
        let rules = domainRules("*.Example.COM")
        XCTAssertNil(rules.firstMismatch(domain: "A.example.com", appId: nil, process: nil))
        XCTAssertNil(rules.firstMismatch(domain: "a.EXAMPLE.com", appId: nil, process: nil))
    }

    func testAppIdsAndProcessesAreCaseSensitive() {
        let rules = ValidationRules(appIds: ["com.acme.app"], processes: ["Scanner"])
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: "com.acme.app", process: "Scanner"))
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: "com.Acme.app", process: "Scanner"), "app ID")
        XCTAssertEqual(rules.firstMismatch(domain: nil, appId: "com.acme.app", process: "scanner"), "process name")
    }

    func testEmptyListsAllowEverything() {
        let rules = ValidationRules()
        XCTAssertNil(rules.firstMismatch(domain: nil, appId: nil, process: nil))
        XCTAssertNil(rules.firstMismatch(domain: "", appId: "", process: ""))
        XCTAssertNil(rules.firstMismatch(domain: "anything.evil", appId: "x", process: "y"))
    }

    func testMissingFieldWhenAListIsSet() {
        XCTAssertEqual(domainRules("*.example.com").firstMismatch(domain: nil, appId: "a", process: "p"), "domain")
        XCTAssertEqual(domainRules("*.example.com").firstMismatch(domain: "", appId: "a", process: "p"), "domain")
        XCTAssertEqual(ValidationRules(appIds: ["a"]).firstMismatch(domain: "x", appId: nil, process: "p"), "app ID")
        XCTAssertEqual(ValidationRules(processes: ["p"]).firstMismatch(domain: "x", appId: "a", process: nil), "process name")
    }

    func testFirstMismatchReportsDomainBeforeAppIdBeforeProcess() {
        let rules = ValidationRules(domains: ["d"], appIds: ["a"], processes: ["p"])
        XCTAssertEqual(rules.firstMismatch(domain: "x", appId: "x", process: "x"), "domain")
        XCTAssertEqual(rules.firstMismatch(domain: "d", appId: "x", process: "x"), "app ID")
        XCTAssertEqual(rules.firstMismatch(domain: "d", appId: "a", process: "x"), "process name")
        XCTAssertNil(rules.firstMismatch(domain: "d", appId: "a", process: "p"))
    }

    // MARK: Through decide

    private func harness(rules: ValidationRules) throws -> (Harness, String) {
        var h = Harness()
        let imported = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        var handshake = try XCTUnwrap(h.state.handshakes[imported])
        handshake.validation = rules
        _ = try h.putHandshake(handshake, creating: false).get()
        return (h, imported)
    }

    func testDecideRefusesAMismatchWithoutCounting() throws {
        var (h, code) = try harness(rules: ValidationRules(domains: ["*.example.com"], appIds: ["com.acme.*"]))
        let before = h.state
        assertRefused(h.call(code, client: "c", domain: nil, appId: "com.acme.app", at: t), code: -20111, "missing domain")
        assertRefused(h.call(code, client: "c", domain: "example.com.evil", appId: "com.acme.app", at: t), code: -20111)
        guard case .refused(let error) = h.call(code, client: "c", domain: "a.example.com", appId: nil, at: t) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error, .validationMismatch("app ID"))
        XCTAssertEqual(h.state, before)
        assertGranted(h.call(code, client: "c", domain: "A.Example.com", appId: "com.acme.app", at: t))
        XCTAssertEqual(h.state.used("scan-1", now: t), 1)
    }

    func testDecideWithEmptyRulesAllowsCallsWithoutFields() throws {
        var (h, code) = try harness(rules: ValidationRules())
        assertGranted(h.call(code, client: "c", at: t))
    }

    func testUnknownHandshakeCode() throws {
        var h = Harness()
        try h.importItems([Fixture.item("scan-1", quantity: 100)])
        guard case .refused(let error) = h.call("acme-99", client: "c", at: t) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(error.code, -20110)
        XCTAssertEqual(error, .invalidHandshakeCode("acme-99"))
        assertRefused(h.call("", client: "c", at: t), code: -20110)
        assertRefused(LicenseState().decide(ClientCall(handshakeCode: "acme-1", clientUUID: "c", product: nil), kind: .authorize,
                                            grantId: "g", now: t, remembered: nil), code: -20110)
    }

    func testDeletedHandshakeCode() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        assertGranted(h.call(code, client: "c", at: t))
        assertSuccess(h.deleteHandshake(code))
        assertRefused(h.call(code, client: "c", at: t), code: -20110)
        assertRefused(h.call(code, client: "c", kind: .report, at: t), code: -20110)
    }
}
