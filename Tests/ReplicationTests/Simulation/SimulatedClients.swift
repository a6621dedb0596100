import Foundation
import LicenseState
import LTSTestSupport

/// The clients of a simulated pair, behaving as `LicenseClient` does: each
/// request is sent as attempt 1, 2, … (one sending at a time, to one node);
/// a client gives up on a sending that got no answer in time and sends the
/// next attempt, and takes only the answer to its latest sending. Some
/// sendings reach their node late (held in the network), after the client
/// gave up on them.
///
/// Invariant: `accepted` holds, per request, the one answer its client took,
/// and a request with an accepted answer is sent no more.
struct SimulatedClients {
    /// The license item the clients draw on: small, so that it runs out and
    /// calls are refused, and an overrun by reconciliation shows.
    static let itemId = "sim-scans"
    static let product = "scans"
    /// When the item is valid, and the simulated calls' time (UTC seconds).
    static let startsAt = UTCTime.parse("2026-01-01T00:00:00Z")!
    static let callTime = UTCTime.parse("2026-03-15T12:00:00Z")!
    static let clientCount = 4

    struct Request {
        var key: LicenseState.RequestKey
        var attempt: Int
        var scans: Int64
    }

    let handshakeCode: String
    private(set) var open: [Request] = []
    private(set) var accepted: [LicenseState.RequestKey: SimulatedNode.Answer] = [:]
    /// Every request ever sent.
    private(set) var sent: [LicenseState.RequestKey] = []

    init(handshakeCode: String) {
        self.handshakeCode = handshakeCode
    }

    /// The state both nodes start from: one license with the scan item of
    /// `quantity` units, imported under the clients' handshake code.
    static func baseState(quantity: Int) -> (state: LicenseState, handshakeCode: String) {
        let item: [String: Any] = ["itemId": itemId, "product": product, "chargeWay": "scan", "quantity": quantity,
                                   "startsAt": "2026-01-01T00:00:00Z", "expiresAt": "2027-01-01T00:00:00Z"]
        let file: [String: Any] = ["licenseId": "L-sim", "alias": "Simulated license", "organizationId": "sim", "boundTo": "*",
                                   "issuedAt": "2025-12-01T00:00:00Z", "items": [item],
                                   "signature": Data(count: 64).base64EncodedString()]
        let bytes = Array(try! JSONSerialization.data(withJSONObject: file, options: [.sortedKeys]))
        var state = LicenseState()
        let code = "sim-1"
        state.apply(.importLicense(file: bytes, handshakeCode: code, at: startsAt))
        precondition(state.items[itemId] != nil, "the simulated license does not parse")
        return (state, code)
    }

    /// A new request's first sending.
    mutating func newRequest(_ random: inout SplitMix64) -> ClientCall {
        let number = sent.count
        let request = Request(key: LicenseState.RequestKey(clientUUID: "c\(number % Self.clientCount)", requestId: "r\(number)"),
                              attempt: 1, scans: Int64(random.uniform(1...3)))
        sent.append(request.key)
        open.append(request)
        return call(request)
    }

    /// The next sending of an open request whose last sending got no
    /// answer in time; nil when none is open.
    mutating func retry(_ random: inout SplitMix64) -> ClientCall? {
        guard !open.isEmpty else { return nil }
        let index = Int(random.uniform(0...UInt64(open.count - 1)))
        open[index].attempt += 1
        return call(open[index])
    }

    /// Takes `answer` if it answers the latest sending of an open request.
    /// - Returns: whether the client took it.
    mutating func take(_ answer: SimulatedNode.Answer) -> Bool {
        guard let index = open.firstIndex(where: { $0.key == answer.key }), open[index].attempt == answer.attempt else { return false }
        open.remove(at: index)
        accepted[answer.key] = answer
        return true
    }

    private func call(_ request: Request) -> ClientCall {
        ClientCall(handshakeCode: handshakeCode, clientUUID: request.key.clientUUID, product: Self.product,
                   requestId: request.key.requestId, scans: request.scans, attempt: request.attempt)
    }
}
