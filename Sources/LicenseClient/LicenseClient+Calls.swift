import Foundation

/// A granted authorization.
public struct Authorization: Equatable {
    public let grantId: String
    public let itemId: String
    public let grace: Bool
    /// Seconds the lease lives without a heartbeat (concurrent items), else 0.
    public let leaseSeconds: Int
    public let term: Int
    public let token: String
    /// The request ID the grant answered (reused on every retry).
    public let requestId: String
    /// The server that granted it.
    public let server: String
}

/// What became of a usage report.
public enum ReportOutcome: Equatable {
    /// A server counted it.
    case delivered(server: String)
    /// No server answered: it waits in the report buffer.
    case buffered
}

/// The client calls of the external contract, typed: authorize, report,
/// heartbeat, release.
extension LicenseClient {
    /// Asks for an authorization of `product` (consuming `scans` on a scan item).
    /// - Throws: `Refusal` (with the DLS code) or `Unavailable`.
    public func authorize(product: String, scans: Int? = nil, requestId: String = LicenseClient.newRequestId()) throws -> Authorization {
        var fields: [String: Any] = ["product": product, "requestId": requestId]
        if let scans { fields["scans"] = scans }
        addValidation(&fields)
        let answer = try call("api/v1/authorize", fields)
        guard let grantId = answer.json["grantId"] as? String, let itemId = answer.json["itemId"] as? String else {
            throw Unavailable(lastErrors: [answer.server: "an authorization without grantId or itemId"])
        }
        return Authorization(grantId: grantId, itemId: itemId, grace: answer.json["grace"] as? Bool ?? false,
                             leaseSeconds: answer.json["leaseSeconds"] as? Int ?? 0, term: answer.json["term"] as? Int ?? 0,
                             token: answer.json["token"] as? String ?? "", requestId: requestId, server: answer.server)
    }

    /// Reports `scans` used; buffered in `buffer` (when given) if no server answers.
    /// - Throws: `Refusal`; `Unavailable` only without a buffer.
    public func report(scans: Int, grantId: String? = nil, buffer: ReportBuffer? = nil,
                       requestId: String = LicenseClient.newRequestId()) throws -> ReportOutcome {
        let report = BufferedReport(requestId: requestId, scans: scans, grantId: grantId, at: Int64(Date().timeIntervalSince1970))
        do {
            return .delivered(server: try deliver(report).server)
        } catch let unavailable as Unavailable {
            guard let buffer else { throw unavailable }
            try buffer.append(report)
            return .buffered
        }
    }

    /// Delivers the buffered reports, oldest first, each with its own
    /// request ID (so none counts twice), until a server stops answering.
    /// - Returns: how many were delivered, and how many a server refused
    ///   (both leave the buffer).
    @discardableResult
    public func deliverBuffered(_ buffer: ReportBuffer) throws -> (delivered: Int, refused: Int) {
        var delivered: Set<String> = []
        var refused: Set<String> = []
        defer { try? buffer.remove(delivered.union(refused)) }
        for report in try buffer.deliverable(now: Int64(Date().timeIntervalSince1970)) {
            do {
                _ = try deliver(report)
                delivered.insert(report.requestId)
            } catch is Refusal {
                refused.insert(report.requestId)
            } catch is Unavailable {
                break
            }
        }
        return (delivered.count, refused.count)
    }

    private func deliver(_ report: BufferedReport) throws -> Answer {
        var fields: [String: Any] = ["scans": report.scans, "requestId": report.requestId]
        if let grantId = report.grantId { fields["grantId"] = grantId }
        addValidation(&fields)
        return try call("api/v1/report", fields)
    }

    /// Renews the lease of `grantId`; returns its new life in seconds.
    public func heartbeat(grantId: String) throws -> (leaseSeconds: Int, server: String) {
        let answer = try call("api/v1/heartbeat", ["grantId": grantId])
        return (answer.json["leaseSeconds"] as? Int ?? 0, answer.server)
    }

    /// Releases the lease of `grantId`. A lease already gone counts as
    /// released: a retry after a failover may find the first attempt applied.
    public func release(grantId: String) throws {
        do {
            _ = try call("api/v1/release", ["grantId": grantId])
        } catch let refusal as Refusal where refusal.code == Self.unknownGrantCode {
            return
        }
    }

    /// The DLS code of "no active lease has this grant ID".
    public static let unknownGrantCode = -20130

    private func addValidation(_ fields: inout [String: Any]) {
        if let value = settings.sessionPassword { fields["sessionPassword"] = value }
        if let value = settings.domain { fields["domain"] = value }
        if let value = settings.appId { fields["appId"] = value }
        if let value = settings.process { fields["process"] = value }
    }
}
