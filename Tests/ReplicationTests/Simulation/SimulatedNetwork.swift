import LTSTestSupport

/// The two directions between the pair members, each of which may drop,
/// delay, duplicate and reorder messages, or be cut for a while.
///
/// Invariant: a message is delivered only if its direction is open both when
/// it is sent and when it arrives; a direction marked `inOrder` delivers in
/// the order of sending (a healed network behaves like one TCP stream).
struct SimulatedNetwork {
    /// One direction, named by its sender.
    struct Link {
        var blockedUntilMs: UInt64 = 0
        var dropPerMille: UInt64 = 0
        var duplicatePerMille: UInt64 = 0
        var delayMs: ClosedRange<UInt64> = 1...5
        var inOrder = false
        var lastDueMs: UInt64 = 0
    }

    /// `links[i]` carries what node `i` sends.
    var links = [Link(), Link()]

    /// When the copies of a message node `sender` sends now arrive (none when
    /// it is lost).
    mutating func deliveryTimes(from sender: Int, nowMs: UInt64, random: inout SplitMix64) -> [UInt64] {
        var link = links[sender]
        defer { links[sender] = link }
        guard link.blockedUntilMs <= nowMs, !random.chance(perMille: link.dropPerMille) else { return [] }
        let copies = random.chance(perMille: link.duplicatePerMille) ? 2 : 1
        return (0..<copies).map { _ in
            var dueMs = nowMs + random.uniform(link.delayMs)
            if link.inOrder { dueMs = max(dueMs, link.lastDueMs) }
            link.lastDueMs = max(link.lastDueMs, dueMs)
            return dueMs
        }
    }

    func isOpen(from sender: Int, atMs nowMs: UInt64) -> Bool {
        links[sender].blockedUntilMs <= nowMs
    }

    /// Cuts what `sender` sends until `untilMs`.
    mutating func cut(from sender: Int, untilMs: UInt64) {
        links[sender].blockedUntilMs = max(links[sender].blockedUntilMs, untilMs)
    }

    /// No more faults: every direction open, lossless and in order.
    mutating func heal() {
        for sender in links.indices {
            links[sender] = Link(blockedUntilMs: 0, dropPerMille: 0, duplicatePerMille: 0, delayMs: 1...5, inOrder: true,
                                 lastDueMs: links[sender].lastDueMs)
        }
    }
}
