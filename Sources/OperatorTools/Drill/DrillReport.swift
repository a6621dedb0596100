import Foundation

/// What a drill measured, as `lts drill` prints it and leaves it on the
/// primary (`POST /dls/api/admin/cluster/drills`).
///
/// Invariant: `passed` exactly when nothing acknowledged was lost and no
/// request was counted twice.
struct DrillReport {
    var kind: String
    var servers: [String]
    var clients: Int
    /// When the fault was injected (or the switchover asked for).
    var faultAt = Date()
    /// The silence the new primary measured before it took over (failover).
    var detectionMs: Int?
    /// From the fault until the other node answered as primary.
    var promotionMs: Int?
    /// The largest gap between two acknowledged grants from the fault on.
    var outageMs: Int?
    /// From the fault until the old primary was back as an attached standby.
    var rejoinMs: Int?
    /// Switching back (`--back`): promotion and outage of the second switchover.
    var backPromotionMs: Int?
    var backOutageMs: Int?
    var acknowledgedBefore = 0
    var acknowledgedDuring = 0
    var acknowledgedAfter = 0
    var lost = 0
    var duplicated = 0
    var newPrimary: String?

    var passed: Bool { lost == 0 && duplicated == 0 }

    var json: [String: Any] {
        var object: [String: Any] = [
            "kind": kind, "servers": servers, "clients": clients, "faultAt": ISO8601DateFormatter().string(from: faultAt),
            "acknowledged": ["before": acknowledgedBefore, "during": acknowledgedDuring, "after": acknowledgedAfter],
            "lost": lost, "duplicated": duplicated, "passed": passed,
        ]
        for (key, value) in [("detectionMs", detectionMs), ("promotionMs", promotionMs), ("outageMs", outageMs), ("rejoinMs", rejoinMs),
                             ("backPromotionMs", backPromotionMs), ("backOutageMs", backOutageMs)] {
            object[key] = value.map { $0 as Any } ?? NSNull()
        }
        object["newPrimary"] = newPrimary.map { $0 as Any } ?? NSNull()
        return object
    }

    var text: String {
        func ms(_ value: Int?) -> String { value.map { "\($0) ms" } ?? "-" }
        var lines = [
            "lts drill \(kind): \(clients) clients against \(servers.joined(separator: ", "))",
            "  fault at            \(ISO8601DateFormatter().string(from: faultAt))",
        ]
        if kind == "failover" { lines.append("  detection           \(ms(detectionMs))") }
        lines += [
            "  promotion           \(ms(promotionMs))\(newPrimary.map { " (new primary \($0))" } ?? "")",
            "  client outage       \(ms(outageMs))",
        ]
        if rejoinMs != nil || kind == "failover" { lines.append("  old primary back    \(ms(rejoinMs))") }
        if backPromotionMs != nil { lines.append("  switch back         promotion \(ms(backPromotionMs)), outage \(ms(backOutageMs))") }
        lines += [
            "  grants acknowledged before \(acknowledgedBefore), during \(acknowledgedDuring), after \(acknowledgedAfter)",
            "  lost \(lost), duplicated \(duplicated): \(passed ? "PASSED" : "FAILED")",
        ]
        return lines.joined(separator: "\n")
    }
}
