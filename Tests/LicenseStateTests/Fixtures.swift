import Foundation
import LicenseState
import XCTest

/// Shared builders for the LicenseState tests: license files, a state that
/// logs what it applies, and assertions on outcomes. Nothing here reads a
/// clock, a file or a random source.
enum Fixture {
    /// The cluster UUID imports are checked against.
    static let cluster = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    /// 64 zero bytes: the module does not verify signatures, only their length.
    static let signature = Data(count: 64).base64EncodedString()
    /// When fixture licenses are imported.
    static let importTime = utc("2026-01-01T00:00:00Z")
    /// A time well inside the default item validity (2026-01-01 … 2027-01-01).
    static let now = utc("2026-03-15T12:00:00Z")

    /// One license item as JSON. Device items get `activeWindow` (month unless told).
    static func item(_ itemId: String, product: String = "scans", way: ChargeWay = .scan, quantity: Int = 100,
                     startsAt: String = "2026-01-01T00:00:00Z", expiresAt: String = "2027-01-01T00:00:00Z",
                     activeWindow: String? = nil, edition: String? = nil, leaseSeconds: Int? = nil) -> [String: Any] {
        var object: [String: Any] = [
            "itemId": itemId, "product": product, "chargeWay": way.rawValue, "quantity": quantity,
            "startsAt": startsAt, "expiresAt": expiresAt,
        ]
        if let activeWindow { object["activeWindow"] = activeWindow } else if way == .device { object["activeWindow"] = "month" }
        if let edition { object["edition"] = edition }
        if let leaseSeconds { object["leaseSeconds"] = leaseSeconds }
        return object
    }

    /// A whole license file as JSON.
    static func file(licenseId: String = "L-1", organizationId: String = "acme", boundTo: String = "*",
                     items: [[String: Any]], signature: String = Fixture.signature) -> [String: Any] {
        ["licenseId": licenseId, "alias": "Fixture license \(licenseId)", "organizationId": organizationId, "boundTo": boundTo,
         "issuedAt": "2025-12-01T00:00:00Z", "items": items, "signature": signature]
    }

    static func bytes(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func licenseBytes(licenseId: String = "L-1", organizationId: String = "acme", boundTo: String = "*",
                             items: [[String: Any]]) -> [UInt8] {
        bytes(file(licenseId: licenseId, organizationId: organizationId, boundTo: boundTo, items: items))
    }

    static func salt(_ seed: UInt8) -> [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: Int($0) &+ Int(seed)) } }
    static func hash(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed)) } }
    static func password(_ seed: UInt8, iterations: Int = 1000) -> PasswordHash {
        PasswordHash(salt: salt(seed), iterations: iterations, hash: hash(seed))
    }
}

/// Seconds of a UTC time text; traps on a typo in a test.
func utc(_ text: String) -> Int64 {
    guard let seconds = UTCTime.parse(text) else { preconditionFailure("bad time in test: \(text)") }
    return seconds
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// A state and its remembered answers, plus the log of every record applied to them.
struct Harness {
    var state = LicenseState()
    var requests = RequestBook()
    var log: [LogRecord] = []
    private var grantSequence = 0

    mutating func apply(_ record: LogRecord) {
        state.apply(record)
        requests.apply(record)
        log.append(record)
    }

    /// Parses, decides and applies an import; returns the new handshake code.
    @discardableResult
    mutating func importLicense(_ bytes: [UInt8], now: Int64 = Fixture.importTime, cluster: String = Fixture.cluster) throws -> String {
        let file = try LicenseFile.parse(bytes)
        let record = try state.decideImport(file, bytes: bytes, nodeUUID: cluster, now: now).get()
        guard case .importLicense(_, let code, _) = record else { throw FixtureError(description: "not an import record: \(record)") }
        apply(record)
        return code
    }

    @discardableResult
    mutating func importItems(_ items: [[String: Any]], licenseId: String = "L-1", organizationId: String = "acme",
                              now: Int64 = Fixture.importTime) throws -> String {
        try importLicense(Fixture.licenseBytes(licenseId: licenseId, organizationId: organizationId, items: items), now: now)
    }

    mutating func nextGrantId() -> String {
        grantSequence += 1
        return "g\(grantSequence)"
    }

    /// Decides a client call and applies the record it logs, if any.
    @discardableResult
    mutating func call(_ code: String, client: String, product: String? = nil, kind: Grant.Kind = .authorize,
                       requestId: String? = nil, attempt: Int? = nil, scans: Int64 = 1, domain: String? = nil, appId: String? = nil,
                       process: String? = nil, at now: Int64) -> CallOutcome {
        let call = ClientCall(handshakeCode: code, clientUUID: client, product: product, requestId: requestId, scans: scans,
                              domain: domain, appId: appId, process: process, attempt: attempt)
        let outcome = state.decide(call, kind: kind, grantId: nextGrantId(), now: now,
                                   remembered: call.requestKey.flatMap(requests.answer(for:)))
        switch outcome {
        case .grant(let grant): apply(.grant(grant))
        case .repeatedToLaterAttempt(let grant): apply(.grantAnsweredAgain(grant, at: now))
        case .refusedRetry(let refusal): apply(.refusal(refusal))
        case .repeated, .refused: break
        }
        return outcome
    }

    /// Decides a heartbeat and applies the renewal when there is one.
    @discardableResult
    mutating func heartbeat(_ grantId: String, at now: Int64) -> Result<LogRecord, LicenseError> {
        let result = state.decideHeartbeat(grantId: grantId, now: now)
        if case .success(let record) = result { apply(record) }
        return result
    }

    @discardableResult
    mutating func release(_ grantId: String, at now: Int64) -> Result<LogRecord, LicenseError> {
        let result = state.decideRelease(grantId: grantId, now: now)
        if case .success(let record) = result { apply(record) }
        return result
    }

    @discardableResult
    mutating func putHandshake(_ handshake: Handshake, creating: Bool, at now: Int64 = Fixture.now) -> Result<LogRecord, LicenseError> {
        let result = state.decidePutHandshake(handshake, creating: creating, now: now)
        if case .success(let record) = result { apply(record) }
        return result
    }

    @discardableResult
    mutating func deleteHandshake(_ code: String, at now: Int64 = Fixture.now) -> Result<LogRecord, LicenseError> {
        let result = state.decideDeleteHandshake(code: code, now: now)
        if case .success(let record) = result { apply(record) }
        return result
    }

    /// A fresh state built by applying this harness's log.
    func rebuilt() -> LicenseState {
        var fresh = LicenseState()
        for record in log { fresh.apply(record) }
        return fresh
    }
}

// MARK: Assertions

/// Asserts a new grant (optionally its grace flag and item) and returns it.
@discardableResult
func assertGranted(_ outcome: CallOutcome, grace: Bool? = nil, item: String? = nil, _ message: @autoclosure () -> String = "",
                   file: StaticString = #filePath, line: UInt = #line) -> Grant? {
    guard case .grant(let grant) = outcome else {
        XCTFail("expected a grant, got \(outcome). \(message())", file: file, line: line)
        return nil
    }
    if let grace { XCTAssertEqual(grant.grace, grace, "grace flag. \(message())", file: file, line: line) }
    if let item { XCTAssertEqual(grant.itemId, item, "item drawn on. \(message())", file: file, line: line) }
    return grant
}

func assertRefused(_ outcome: CallOutcome, code: Int, _ message: @autoclosure () -> String = "",
                   file: StaticString = #filePath, line: UInt = #line) {
    guard case .refused(let error) = outcome else {
        XCTFail("expected refusal \(code), got \(outcome). \(message())", file: file, line: line)
        return
    }
    XCTAssertEqual(error.code, code, "\(error). \(message())", file: file, line: line)
}

func assertFailure<T>(_ result: Result<T, LicenseError>, code: Int, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success(let value):
        XCTFail("expected failure \(code), got success \(value). \(message())", file: file, line: line)
    case .failure(let error):
        XCTAssertEqual(error.code, code, "\(error). \(message())", file: file, line: line)
    }
}

@discardableResult
func assertSuccess<T>(_ result: Result<T, LicenseError>, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) -> T? {
    switch result {
    case .success(let value):
        return value
    case .failure(let error):
        XCTFail("expected success, got \(error). \(message())", file: file, line: line)
        return nil
    }
}

extension Harness {
    /// What reconciliation logs for `record`, weighed against this harness's remembered answer.
    func reconciliation(of record: LogRecord, grantStanding: (String) -> GrantStanding) -> [LogRecord] {
        state.reconciliation(of: record, remembered: record.answeredRequest.flatMap(requests.answer(for:)), grantStanding: grantStanding)
    }

    /// The grant remembered for a request, if it was granted.
    func remembered(client: String, requestId: String) -> Grant? {
        guard case .granted(let grant) = answer(client: client, requestId: requestId) else { return nil }
        return grant
    }

    /// The answer remembered for a request.
    func answer(client: String, requestId: String) -> RememberedAnswer? {
        requests.answer(for: LicenseState.RequestKey(clientUUID: client, requestId: requestId))
    }
}
