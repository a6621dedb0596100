import Foundation

/// What a drill did and measured, as `lts drill` prints it and leaves it in
/// the pair's log (`POST /dls/api/admin/cluster/drills`).
///
/// The three times are defined once, here, and `definitions` carries these
/// sentences on every report:
/// - detection: from the fault (or the switchover request) until the other
///   node answered health polls as primary, i.e. began its promotion;
/// - promotion: from the fault until the first grant acknowledged at or
///   after that moment, i.e. until the new primary answered a client as
///   primary; so detection ≤ promotion always holds;
/// - outage: the largest gap between two grants the load saw acknowledged,
///   from the last one before the fault on.
///
/// Invariant: `passed` exactly when nothing acknowledged was lost, changed
/// or counted twice.
struct DrillReport {
    /// One node of the pair, before and after the drill.
    struct Node {
        var url: String
        var uuid: String?
        var version: String?
        var roleBefore: String?
        var roleAfter: String?
        var pidBefore: Int?
        var pidAfter: Int?

        var json: [String: Any] {
            ["url": url, "uuid": orNull(uuid), "version": orNull(version), "roleBefore": orNull(roleBefore), "roleAfter": orNull(roleAfter),
             "pidBefore": orNull(pidBefore), "pidAfter": orNull(pidAfter)]
        }
    }

    /// The definitions of the times, in the words of the drill's kind.
    var definitions: [String: String] {
        let event = kind == "switchover" ? "the switchover request" : "the fault"
        return [
            "detectionMs": "from \(event) until the other node answered health polls as primary: it began its promotion",
            "promotionMs": "from \(event) until the first grant acknowledged at or after that moment: the new primary answered a client as primary",
            "outageMs": "the largest gap between two grants the load saw acknowledged, from the last one before \(event) on",
            "rejoinMs": "from \(event) until the old primary was back as an attached standby",
        ]
    }
    /// Offending IDs listed per problem, at most.
    static let idsListedMax = 20

    let id: String
    /// `failover` (an injected fault) or `switchover` (a planned hand-over).
    let kind: String
    /// `user@host` of whoever ran `lts drill`.
    let ranBy: String
    let startedAt: Date
    var endedAt: Date?
    var clients: Int
    /// How long the load was asked to run, and ran.
    var loadSecondsAsked: Double
    var loadSeconds: Double?
    /// The handshake code and product the load used, and whether that is the drill item (no customer quota).
    var load: [String: Any] = [:]
    var nodes: [Node]
    var termBefore: Int?
    var termAfter: Int?
    /// How the fault was injected, in words.
    var injection = ""
    /// When the fault was injected or the switchover requested.
    var faultAt: Date?
    var detectionMs: Int?
    var promotionMs: Int?
    var outageMs: Int?
    var rejoinMs: Int?
    /// Switching back (`--back`): promotion and outage of the second switchover, defined as above.
    var backPromotionMs: Int?
    var backOutageMs: Int?
    var acknowledgedBefore = 0
    var acknowledgedDuring = 0
    var acknowledgedAfter = 0
    /// Request IDs acknowledged but listed nowhere on the new primary.
    var lostIds: [String] = []
    /// Request IDs listed more than once.
    var duplicatedIds: [String] = []
    /// Request IDs listed, but under another grant ID than the one acknowledged.
    var changedIds: [String] = []
    /// The primary at the end of the drill (the one the grants were checked on).
    var newPrimary: String?

    var passed: Bool { lostIds.isEmpty && duplicatedIds.isEmpty && changedIds.isEmpty }
    var verdict: String { passed ? "passed: nothing acknowledged was lost, changed or counted twice" : "FAILED" }

    var json: [String: Any] {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func time(_ date: Date?) -> Any { date.map { format.string(from: $0) as Any } ?? NSNull() }
        return [
            "id": id, "kind": kind, "ranBy": ranBy, "startedAt": time(startedAt), "endedAt": time(endedAt),
            kind == "switchover" ? "switchoverAt" : "faultAt": time(faultAt),
            "servers": nodes.map(\.url), "clients": clients, "loadSecondsAsked": loadSecondsAsked, "loadSeconds": orNull(loadSeconds),
            "load": load, "nodes": nodes.map(\.json), "versions": Dictionary(nodes.map { ($0.url, orNull($0.version)) }, uniquingKeysWith: { a, _ in a }),
            "termBefore": orNull(termBefore), "termAfter": orNull(termAfter), "injection": injection,
            "detectionMs": orNull(detectionMs), "promotionMs": orNull(promotionMs), "outageMs": orNull(outageMs), "rejoinMs": orNull(rejoinMs),
            "backPromotionMs": orNull(backPromotionMs), "backOutageMs": orNull(backOutageMs), "definitions": definitions,
            "acknowledged": ["before": acknowledgedBefore, "during": acknowledgedDuring, "after": acknowledgedAfter],
            "lost": lostIds.count, "duplicated": duplicatedIds.count, "changed": changedIds.count,
            "lostIds": Array(lostIds.prefix(Self.idsListedMax)), "duplicatedIds": Array(duplicatedIds.prefix(Self.idsListedMax)),
            "changedIds": Array(changedIds.prefix(Self.idsListedMax)),
            "passed": passed, "verdict": verdict, "newPrimary": orNull(newPrimary),
        ]
    }

    var text: String {
        func ms(_ value: Int?) -> String { value.map { "\($0) ms" } ?? "-" }
        func pad(_ label: String) -> String { "  " + label.padding(toLength: 20, withPad: " ", startingAt: 0) }
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var lines = [
            "lts drill \(kind) \(id), run by \(ranBy)",
            pad("started, ended") + "\(format.string(from: startedAt)), \(endedAt.map { format.string(from: $0) } ?? "-")",
            pad("load") + "\(clients) clients on \(load["handshakeCode"] ?? "?") for \(loadSeconds.map { String(format: "%.1f", $0) } ?? "-") s"
                + ((load["drillItem"] as? Bool) == true ? " (the drill item: no customer quota)" : " (a customer's handshake code: its quota was used)"),
        ]
        for node in nodes {
            lines.append(pad("node") + "\(node.url) \(node.uuid ?? "?") \(node.version ?? "?"): \(node.roleBefore ?? "?") -> \(node.roleAfter ?? "?")"
                         + (node.pidBefore.map { ", pid \($0)" } ?? "") + (node.pidAfter.map { node.pidAfter != node.pidBefore ? " -> \($0)" : "" } ?? ""))
        }
        lines += [
            pad("term") + "\(termBefore.map(String.init) ?? "?") -> \(termAfter.map(String.init) ?? "?")",
            pad(kind == "switchover" ? "switchover" : "fault") + injection,
            pad(kind == "switchover" ? "switchover at" : "fault at") + (faultAt.map { format.string(from: $0) } ?? "-"),
            pad("detection") + ms(detectionMs),
            pad("promotion") + ms(promotionMs),
            pad("client outage") + ms(outageMs),
        ]
        if rejoinMs != nil || kind == "failover" { lines.append(pad("old primary back") + ms(rejoinMs)) }
        if backPromotionMs != nil { lines.append(pad("switch back") + "promotion \(ms(backPromotionMs)), outage \(ms(backOutageMs))") }
        lines.append(pad("primary after") + (newPrimary ?? "-"))
        lines += [
            "  grants acknowledged before \(acknowledgedBefore), during \(acknowledgedDuring), after \(acknowledgedAfter)",
            "  lost \(lostIds.count), changed \(changedIds.count), duplicated \(duplicatedIds.count): \(verdict)",
        ]
        for (label, ids) in [("lost", lostIds), ("changed", changedIds), ("duplicated", duplicatedIds)] where !ids.isEmpty {
            lines.append("  \(label) request IDs: \(ids.prefix(Self.idsListedMax).joined(separator: ", "))")
        }
        lines.append("  where: detection is \(definitions["detectionMs"]!); promotion is \(definitions["promotionMs"]!); outage is \(definitions["outageMs"]!)")
        return lines.joined(separator: "\n")
    }
}

/// `value`, or JSON null.
func orNull<T>(_ value: T?) -> Any { value.map { $0 as Any } ?? NSNull() }
