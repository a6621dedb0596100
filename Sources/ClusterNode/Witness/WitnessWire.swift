import Foundation
import Platform
import Replication

/// Claims and answers between a node and `lts witness`, as HTTPS bodies:
/// `POST /witness/v1/claim` with the claim's JSON, answered with the
/// answer's JSON. Each body carries an HMAC-SHA-256 under a key derived
/// from the cluster secret in the `x-lts-witness-mac` header; the answer's
/// MAC also covers the claim it answers, so an answer cannot be taken for
/// another claim's.
///
/// Invariant: a body is accepted only with a valid MAC and exactly its
/// fields (no unknown ones, each in range, a claim well formed); MACs are
/// compared in constant time.
enum WitnessWire {
    static let claimPath = "/witness/v1/claim"
    static let statusPath = "/witness/v1/status"
    static let macHeader = "x-lts-witness-mac"
    /// Largest body either side reads.
    static let bodyBytesMax = 1_024

    /// The MAC key: the cluster secret is never used as a key directly.
    static func key(clusterSecret: String) -> [UInt8] {
        Crypto.hmacSHA256(key: Crypto.sha256(Array(clusterSecret.utf8)), message: Array("lts-witness/1".utf8))
    }

    // MARK: Claims

    static func encode(_ claim: WitnessClaim) -> Data {
        Data("{\"id\":\(claim.id),\"node\":\(claim.node),\"term\":\(claim.term),\"holdMs\":\(claim.holdMs),\"release\":\(claim.release)}".utf8)
    }

    static func claimMAC(key: [UInt8], body: Data) -> [UInt8] {
        Crypto.hmacSHA256(key: key, message: Array("claim ".utf8) + Array(body))
    }

    /// The claim in `body`, if its MAC and fields are right.
    static func decodeClaim(_ body: Data, mac: String?, key: [UInt8]) throws -> WitnessClaim {
        guard let mac, let given = SelfSignedCertificate.parseFingerprint(mac),
              Crypto.constantTimeEqual(given, claimMAC(key: key, body: body)) else {
            throw JSONFieldError(key: macHeader, reason: "does not prove the cluster secret")
        }
        var reader = try JSONObjectReader.parse(body)
        let claim = WitnessClaim(id: try required(&reader, "id"), node: Int(try required(&reader, "node")),
                                 term: try required(&reader, "term"), holdMs: try required(&reader, "holdMs"),
                                 release: try reader.bool("release") ?? false)
        try reader.rejectUnknownKeys()
        guard claim.isWellFormed else {
            throw JSONFieldError(key: "term", reason: "must be a term of the claiming node (term % 2 == node), with holdMs 1 to \(WitnessLease.holdMsMax)")
        }
        return claim
    }

    // MARK: Answers

    static func encode(_ answer: WitnessAnswer, to claim: WitnessClaim) -> Data {
        let holder = answer.holder.map(String.init) ?? "null"
        return Data("{\"id\":\(claim.id),\"granted\":\(answer.granted),\"highestTerm\":\(answer.highestTerm),\"holder\":\(holder),\"leaseRemainingMs\":\(answer.leaseRemainingMs)}".utf8)
    }

    static func answerMAC(key: [UInt8], body: Data, claimBody: Data) -> [UInt8] {
        Crypto.hmacSHA256(key: key, message: Array("answer ".utf8) + Array(claimMAC(key: key, body: claimBody)) + Array(body))
    }

    /// The answer in `body` to the claim sent as `claimBody`, if its MAC and
    /// fields are right.
    static func decodeAnswer(_ body: Data, mac: String?, claim: WitnessClaim, claimBody: Data, key: [UInt8]) throws -> WitnessAnswer {
        guard let mac, let given = SelfSignedCertificate.parseFingerprint(mac),
              Crypto.constantTimeEqual(given, answerMAC(key: key, body: body, claimBody: claimBody)) else {
            throw JSONFieldError(key: macHeader, reason: "does not prove the cluster secret")
        }
        var reader = try JSONObjectReader.parse(body)
        guard try required(&reader, "id") == claim.id else { throw JSONFieldError(key: "id", reason: "answers another claim") }
        let granted = try reader.bool("granted") ?? false
        let highestTerm = try required(&reader, "highestTerm")
        let holderValue = reader.take("holder")
        let holder: Int?
        switch holderValue {
        case nil, is NSNull: holder = nil
        case let number as NSNumber where !JSONObjectReader.isBoolean(number) && (number.doubleValue == 0 || number.doubleValue == 1):
            holder = number.intValue
        default: throw JSONFieldError(key: "holder", reason: "must be 0, 1 or null")
        }
        let remaining = try required(&reader, "leaseRemainingMs")
        try reader.rejectUnknownKeys()
        let answer = WitnessAnswer(granted: granted, highestTerm: highestTerm, holder: holder, leaseRemainingMs: remaining)
        guard !granted || (highestTerm == claim.term && holder == claim.node) else {
            throw JSONFieldError(key: "granted", reason: "a grant names another term or holder than the claim")
        }
        return answer
    }

    private static func required(_ reader: inout JSONObjectReader, _ key: String) throws -> UInt64 {
        guard let value = try reader.integer(key, in: 0...(1 << 53)) else { throw JSONFieldError(key: key, reason: "is required") }
        return UInt64(value)
    }
}
