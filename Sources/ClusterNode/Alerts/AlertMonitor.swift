import Foundation
import LicenseState
import Logging
import Platform
import Replication
import Transport

/// Runs the usage alert checks on the primary. Every `checkMilliseconds` it
/// logs the refusals counted since the last check (`tallyCalls`), judges
/// every threshold (`AlertRules`) and logs what changed (`alerts`); the
/// mailer sends the email once that record is acknowledged. A standby only
/// watches; the checks move with the primary role.
///
/// Invariant: one check at a time, only while this node accepts writes;
/// the standby's out-of-sync time is sampled every second, so the lag alert
/// is late by at most one check interval.
final class AlertMonitor {
    static let sampleMs: UInt64 = 1_000

    private let loop: EventLoop
    private let service: LicenseService
    private let driver: ClusterDriver?
    private let nodeUUID: String
    private let configuration: () -> AlertConfiguration
    /// True while this node writes the log (primary or standalone).
    private let canWrite: () -> Bool
    private let takeTally: () -> CallTally
    let mailer: AlertMailer
    private var timer: LoopTimer?
    private var wasPrimary = false
    /// True once this node, as standby, followed a live primary.
    private var followedPrimary = false
    /// The term this node took over in from a primary it followed.
    private var takeoverTerm: Int64?
    private var outOfSyncSince: Int64?
    /// Since when this primary has not reached its witness (nil: it answers, or none).
    private var witnessUnreachableSince: Int64?
    private(set) var lastCheckAt: Int64?
    private(set) var nextCheckAt: Int64?
    private(set) var checksTotal = 0

    init(loop: EventLoop, service: LicenseService, driver: ClusterDriver?, nodeUUID: String, mailer: AlertMailer,
         configuration: @escaping () -> AlertConfiguration, canWrite: @escaping () -> Bool, takeTally: @escaping () -> CallTally) {
        self.loop = loop
        self.service = service
        self.driver = driver
        self.nodeUUID = nodeUUID
        self.mailer = mailer
        self.configuration = configuration
        self.canWrite = canWrite
        self.takeTally = takeTally
    }

    func start() {
        timer = LoopTimer(loop: loop, delayMs: Self.sampleMs, repeatMs: Self.sampleMs) { [weak self] in self?.sample() }
    }

    func cancel() {
        timer?.cancel()
    }

    /// New settings: check at once, and retry a pending email now rather
    /// than after its back-off (the settings may be what made it fail).
    func settingsChanged() {
        nextCheckAt = nil
        sample()
        mailer.kick(skippingBackOff: true)
    }

    private func sample() {
        let now = WallClock.nowSeconds()
        guard canWrite() else {
            wasPrimary = false
            takeoverTerm = nil
            if driver?.replica.attached == true { followedPrimary = true }
            outOfSyncSince = nil
            witnessUnreachableSince = nil
            nextCheckAt = nil
            return
        }
        if !wasPrimary {
            wasPrimary = true
            if followedPrimary, let term = driver?.replica.term { takeoverTerm = Int64(term) }
            mailer.releaseAll()
        }
        if let driver {
            let replica = driver.replica
            let inSync = replica.peer != nil && replica.peer?.snapshot == nil && !replica.degraded
            outOfSyncSince = inSync ? nil : (outOfSyncSince ?? now)
            if let witness = driver.witnessStatus {
                witnessUnreachableSince = witness.reachable ? nil : (witnessUnreachableSince ?? now)
            }
        }
        let interval = configuration().checkMilliseconds
        if let next = nextCheckAt, now < next { return }
        check(now: now)
        nextCheckAt = now + max(1, interval / 1000)
    }

    /// What the rules know of the pair (nil for a standalone node).
    var clusterFacts: AlertRules.ClusterFacts? {
        driver.map { driver in
            AlertRules.ClusterFacts(takeoverTerm: takeoverTerm, nodeUUID: nodeUUID, standbyOutOfSyncSince: outOfSyncSince,
                                    witness: driver.witnessStatus.map { ($0.url, witnessUnreachableSince) })
        }
    }

    /// One check: the tally, then the alert book's update.
    private func check(now: Int64) {
        checksTotal += 1
        lastCheckAt = now
        let tally = takeTally()
        if !tally.isEmpty { service.commit(.tallyCalls(tally, at: now), request: nil) { _ in } }
        let settings = configuration()
        let conditions = AlertRules.conditions(service.state, cluster: clusterFacts, standbyLagMinutes: settings.standbyLagMinutes, now: now)
        guard let update = AlertRules.update(service.state, conditions: conditions, recipients: settings.canSend ? settings.recipients : [])
        else { return }
        let emailId = update.email.map { _ in service.state.alerts.nextEmailId }
        service.commit(.alerts(update, at: now), request: nil) { [weak self] _ in
            if let emailId { self?.mailer.release(upTo: emailId) }
        }
    }
}
