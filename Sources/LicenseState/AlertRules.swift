/// The usage alert rules: every threshold the primary watches, whether it is
/// crossed now, and what an alert check writes. Pure: the shell passes in the
/// time and the cluster facts it knows.
public enum AlertRules {
    /// Usage thresholds of an item's quantity, in percent.
    public static let usagePercents: [Int64] = [60, 80, 100]
    /// Overuse thresholds of a concurrent item's tolerance (its quantity of
    /// overuse events per hour), in percent.
    public static let overusePercents: [Int64] = [60, 80, 100]
    /// Failure-rate thresholds of a handshake code's calls in the last hour, in percent.
    public static let failurePercents: [Int64] = [10, 20, 40, 60, 80, 100]
    /// Calls a code needs in the hour before its failure rate is judged.
    public static let failureAttemptsMin: Int64 = 10
    /// Days before expiry that are alerted.
    public static let expiryWarningDays: [Int64] = [30, 7]

    /// What the shell knows about the pair when it checks.
    public struct ClusterFacts: Equatable {
        /// The term in which this node took over from a primary it had
        /// been following (a failover or a switchover), or nil when it
        /// became primary without one (a cold start).
        public var takeoverTerm: Int64?
        public var nodeUUID: String
        /// Since when the standby has been out of sync (UTC seconds), or nil when it is in sync.
        public var standbyOutOfSyncSince: Int64?
        /// With a witness: its URL and since when this primary has not
        /// reached it (nil: it answers). Nil without a witness.
        public var witness: (url: String, unreachableSince: Int64?)?

        public init(takeoverTerm: Int64?, nodeUUID: String, standbyOutOfSyncSince: Int64?,
                    witness: (url: String, unreachableSince: Int64?)? = nil) {
            self.takeoverTerm = takeoverTerm
            self.nodeUUID = nodeUUID
            self.standbyOutOfSyncSince = standbyOutOfSyncSince
            self.witness = witness
        }

        public static func == (lhs: ClusterFacts, rhs: ClusterFacts) -> Bool {
            lhs.takeoverTerm == rhs.takeoverTerm && lhs.nodeUUID == rhs.nodeUUID && lhs.standbyOutOfSyncSince == rhs.standbyOutOfSyncSince
                && lhs.witness?.url == rhs.witness?.url && lhs.witness?.unreachableSince == rhs.witness?.unreachableSince
        }
    }

    /// How long the witness may go unanswered before it is alerted.
    public static let witnessUnreachableSecondsMax: Int64 = 60

    /// One watched threshold.
    ///
    /// Invariant: `key` names the threshold and, where usage restarts (a
    /// device window, a term), the period it belongs to.
    public struct Condition: Equatable {
        public var key: String
        /// A short form for an email subject.
        public var title: String
        /// One line saying what is watched and where it stands.
        public var text: String
        public var crossed: Bool
    }

    /// Every watched threshold at `now`: items by ID, then codes, then the
    /// cluster (`cluster` nil for a standalone node).
    public static func conditions(_ state: LicenseState, cluster: ClusterFacts?, standbyLagMinutes: Int64, now: Int64) -> [Condition] {
        var result: [Condition] = []
        for (itemId, usage) in state.items.sorted(by: { $0.key < $1.key }) {
            result += itemConditions(state, itemId: itemId, item: usage.item, now: now)
        }
        for (code, handshake) in state.handshakes.sorted(by: { $0.key < $1.key }) where !handshake.deleted {
            let (attempts, refused) = state.recentCalls.attempts(code: code, now: now)
            let rate = attempts > 0 ? refused * 100 / attempts : 0
            for percent in failurePercents {
                result.append(Condition(
                    key: "code:\(code):failures:\(percent)",
                    title: "\(percent) % of calls under \(code) failed",
                    text: "Handshake code \(code): \(refused) of \(attempts) calls in the last hour failed (\(rate) %); alert at \(percent) % (from \(failureAttemptsMin) calls).",
                    crossed: attempts >= failureAttemptsMin && refused * 100 >= attempts * percent))
            }
        }
        if let cluster {
            let since = cluster.standbyOutOfSyncSince
            let minutes = since.map { max(0, now - $0) / 60 }
            result.append(Condition(
                key: "cluster:standby-out-of-sync",
                title: "the standby is out of sync",
                text: (minutes.map { "The standby has been out of sync for \($0) minutes" } ?? "The standby is in sync")
                    + "; alert after \(standbyLagMinutes) minutes out of sync.",
                crossed: since.map { now - $0 >= standbyLagMinutes * 60 } ?? false))
            if let witness = cluster.witness {
                let seconds = witness.unreachableSince.map { max(0, now - $0) }
                result.append(Condition(
                    key: "cluster:witness-unreachable",
                    title: "the witness is unreachable",
                    text: (seconds.map { "The witness \(witness.url) has not answered the primary for \($0) s: the pair writes on the standby's acknowledgements and cannot fail over until it answers" }
                        ?? "The witness \(witness.url) answers the primary") + "; alert after \(witnessUnreachableSecondsMax) s.",
                    crossed: seconds.map { $0 >= witnessUnreachableSecondsMax } ?? false))
            }
            if let term = cluster.takeoverTerm {
                result.append(Condition(
                    key: "cluster:primary:term-\(term)",
                    title: "the primary changed",
                    text: "Node \(cluster.nodeUUID) took over as the primary in term \(term) (a failover or a switchover).",
                    crossed: true))
            }
        }
        return result
    }

    private static func itemConditions(_ state: LicenseState, itemId: String, item: LicenseItem, now: Int64) -> [Condition] {
        var result: [Condition] = []
        let used = state.used(itemId, now: now)
        let name = item.displayName
        let live = now >= item.startsAt && now <= item.expiresAt + LicenseItem.graceSeconds
        let (percents, period): ([Int64], String) = {
            guard item.chargeWay == .device, let window = item.activeWindow else { return (usagePercents, "") }
            return (window == .day ? [100] : usagePercents, ":window-\(window.start(containing: now))")
        }()
        for percent in percents {
            result.append(Condition(
                key: "item:\(itemId):usage:\(percent)\(period)",
                title: "\(name) reached \(percent) % of its quantity",
                text: "\(name): \(used) of \(item.quantity) used (\(used * 100 / item.quantity) %); alert at \(percent) %.",
                crossed: live && used * 100 >= item.quantity * percent))
        }
        if item.chargeWay.isConcurrent {
            let overuse = state.recentCalls.overuse(itemId: itemId, now: now)
            for percent in overusePercents {
                result.append(Condition(
                    key: "item:\(itemId):overuse:\(percent)",
                    title: "\(name) overused (\(percent) % of its tolerance)",
                    text: "\(name): \(overuse) calls in the last hour refused for lack of seats or granted in grace; alert at \(percent) % of its tolerance of \(item.quantity).",
                    crossed: overuse * 100 >= item.quantity * percent))
            }
        }
        for days in expiryWarningDays {
            result.append(Condition(
                key: "item:\(itemId):expiry:\(days)d",
                title: "\(name) expires within \(days) days",
                text: "\(name) expires at \(UTCTime.format(item.expiresAt)); alert \(days) days before.",
                crossed: now >= item.expiresAt - days * UTCTime.secondsPerDay))
        }
        result.append(Condition(
            key: "item:\(itemId):expiry:grace",
            title: "\(name) expired and is in its grace period",
            text: "\(name) expires at \(UTCTime.format(item.expiresAt)) and works in grace until \(UTCTime.format(item.expiresAt + LicenseItem.graceSeconds)); alert when it expires.",
            crossed: now > item.expiresAt))
        result.append(Condition(
            key: "item:\(itemId):overrun",
            title: "\(name) is used beyond its quantity and grace",
            text: "\(name): \(used) in use, \(item.limitWithGrace) allowed with grace; alert when more are in use (reconciled grants after a failover can cause this).",
            crossed: used > item.limitWithGrace))
        return result
    }

    /// What a check at `now` writes: the crossed conditions not yet alerted
    /// (with an email listing them), and the alerted ones that no longer
    /// hold. Nil when nothing changes. Nothing is raised while there are no
    /// recipients, so the first check after the admin adds one alerts every
    /// crossed condition.
    public static func update(_ state: LicenseState, conditions: [Condition], recipients: [String]) -> AlertUpdate? {
        let crossed = conditions.filter(\.crossed)
        let crossedKeys = Set(crossed.map(\.key))
        let newlyCrossed = recipients.isEmpty ? [] : crossed.filter { state.alerts.alerted[$0.key] == nil }
        let cleared = state.alerts.alerted.keys.filter { !crossedKeys.contains($0) }.sorted()
        guard !newlyCrossed.isEmpty || !cleared.isEmpty else { return nil }
        let email = newlyCrossed.isEmpty ? nil : AlertUpdate.Email(
            subject: subject(newlyCrossed), lines: newlyCrossed.map(\.text), recipients: recipients, isTest: false)
        return AlertUpdate(raised: newlyCrossed.map(\.key), cleared: cleared, email: email)
    }

    private static func subject(_ crossed: [Condition]) -> String {
        let first = crossed[0].title
        return crossed.count == 1 ? "[lts] \(first)" : "[lts] \(crossed.count) alerts: \(first), and \(crossed.count - 1) more"
    }
}
