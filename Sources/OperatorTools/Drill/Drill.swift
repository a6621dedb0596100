import ArgumentParser
import Foundation
import Platform
import Transport

/// One run of `lts drill`: checks that the pair is healthy, starts the
/// built-in load, lets the drill's step inject its fault, measures what the
/// clients saw, checks every acknowledged grant on the new primary, leaves
/// the report there and prints it.
///
/// Invariant: the load is stopped on every way out (success, failure,
/// Ctrl-C); the drill never starts against a pair that is not one primary
/// with an attached, caught-up standby, not degraded.
public final class Drill {
    /// Grants the load must see before the fault, and after each step.
    static let grantsPerPhase = 50

    let options: DrillSettings
    let kind: String
    let probe: PairProbe
    private let trusts: [TLSTrust]
    private(set) var load: FailoverLoad?
    private var promotedAt: Date?

    public init(settings: DrillSettings, kind: String) throws {
        options = settings
        self.kind = kind
        trusts = settings.trusts
        probe = PairProbe(urls: options.urls, trusts: trusts, password: options.password)
    }

    /// `lts drill failover`: runs `faultCommand` (or, for a pair of `lts
    /// pair`, SIGKILL of the primary), waits for the standby to take over,
    /// then runs `restartCommand` and waits for the rejoin when there is one
    /// to wait for.
    public func failover(faultCommand: String?, restartCommand: String?) throws {
        try run { drill, primary, report in
            if let faultCommand {
                try drill.shell(faultCommand, what: "the fault command")
            } else {
                try drill.killPrimary(primary)
            }
            let standby = 1 - primary
            try drill.waitForPrimary(standby, report: &report)
            report.detectionMs = try drill.probe.cluster(standby)["lastFailoverSilenceMs"] as? Int
            if let restartCommand { try drill.shell(restartCommand, what: "the restart command") }
            if restartCommand != nil || faultCommand == nil {
                try drill.waitForRejoin(primary: standby, report: &report)
            }
            return standby
        }
    }

    /// `lts drill switchover`: hands the primary role to the standby and,
    /// with `back`, back again.
    public func switchover(back: Bool) throws {
        try run { drill, primary, report in
            try drill.switchover(from: primary)
            try drill.waitForPrimary(1 - primary, report: &report)
            try drill.waitForRejoin(primary: 1 - primary, report: &report)
            guard back else { return 1 - primary }
            try drill.awaitGrants()
            drill.load?.resetGap()
            let backAt = Date()
            try drill.switchover(from: 1 - primary)
            try drill.until("node \(primary) to be primary again") { drill.probe.health(primary)?["role"] as? String == "primary" }
            report.backPromotionMs = Int(Date().timeIntervalSince(backAt) * 1000)
            try drill.awaitGrants()
            report.backOutageMs = Int((drill.load?.largestGap ?? 0) * 1000)
            _ = try drill.probe.waitForAttachedPair(timeoutSeconds: drill.options.stepTimeout)
            return primary
        }
    }

    /// Runs the drill; `step` injects the fault given the primary's index
    /// and returns the index of the primary after it.
    private func run(_ step: (Drill, Int, inout DrillReport) throws -> Int) throws {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [interrupted = probe.interrupted] in _ = interrupted.raise() }
        source.resume()
        defer { source.cancel() }
        defer { _ = load?.stop() }
        let primary: Int
        do {
            primary = try healthyPrimary()
        } catch {
            printError("lts drill: the pair is not healthy, so no drill runs: \(error)")
            throw ExitCode(2)
        }
        var report = DrillReport(kind: kind, servers: options.urls, clients: options.clients)
        do {
            let (code, product) = try loadTarget(primary)
            let load = FailoverLoad(servers: Array(zip(options.urls, trusts)), code: code, product: product, workers: options.clients)
            self.load = load
            try awaitGrants()
            load.resetGap()
            report.faultAt = Date()
            if !options.json { print("lts drill \(kind): \(load.counts(splitAt: Date(), Date()).before) grants before the fault; injecting it now") }
            let newPrimary = try step(self, primary, &report)
            try awaitGrants()
            if report.outageMs == nil { report.outageMs = Int(load.largestGap * 1000) }
            let acknowledged = load.stop().acknowledged
            let counts = load.counts(splitAt: report.faultAt, promotedAt ?? report.faultAt)
            (report.acknowledgedBefore, report.acknowledgedDuring, report.acknowledgedAfter) = counts
            try check(acknowledged, on: newPrimary, into: &report)
            leave(report, on: newPrimary)
        } catch {
            printError("lts drill: \(error)")
            throw ExitCode(probe.interrupted.isRaised ? 130 : 2)
        }
        if options.json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.passed { throw ExitCode(1) }
    }

    // MARK: Steps

    /// Waits until `condition` holds, for at most the step timeout; throws
    /// on Ctrl-C or when the time runs out.
    func until(_ what: String, _ condition: () throws -> Bool) throws {
        try probe.wait(timeoutSeconds: options.stepTimeout, for: what, condition)
    }

    /// Waits until the load saw `grantsPerPhase` more grants.
    func awaitGrants() throws {
        guard let load else { return }
        let target = load.acknowledged + Self.grantsPerPhase
        try until("the clients to get \(Self.grantsPerPhase) more grants") { load.waitUntil(target, timeoutSeconds: 0.5) }
    }

    func waitForPrimary(_ index: Int, report: inout DrillReport) throws {
        try until("\(options.urls[index]) to take over as primary") { probe.health(index)?["role"] as? String == "primary" }
        let now = Date()
        promotedAt = now
        report.promotionMs = Int(now.timeIntervalSince(report.faultAt) * 1000)
        report.newPrimary = options.urls[index]
    }

    /// Waits until the node other than `primary` is back as its attached standby.
    func waitForRejoin(primary: Int, report: inout DrillReport) throws {
        let other = 1 - primary
        try until("\(options.urls[other]) to rejoin as standby") {
            let health = probe.health(other)
            return health?["role"] as? String == "standby" && (health?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        report.rejoinMs = Int(Date().timeIntervalSince(report.faultAt) * 1000)
    }

    /// SIGKILL of the primary of a pair started by `lts pair`, by its pid file.
    func killPrimary(_ index: Int) throws {
        guard let directory = options.pairDir else { throw DrillFailure("no --pair-dir to find the primary's pid in") }
        let path = directory + "/\(PairFiles.names[index])/data/lts.pid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              pid > 0 else { throw DrillFailure("cannot read the primary's pid from \(path)") }
        guard kill(pid, SIGKILL) == 0 else { throw DrillFailure("cannot kill pid \(pid) (from \(path)): \(String(cString: strerror(errno)))") }
    }

    /// Runs `command` with /bin/sh; a non-zero exit is a failure.
    func shell(_ command: String, what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do {
            try process.run()
        } catch {
            throw DrillFailure("cannot run \(what): \(error)")
        }
        done.wait()
        guard process.terminationStatus == 0 else { throw DrillFailure("\(what) exited with status \(process.terminationStatus)") }
    }

    func switchover(from index: Int) throws {
        let response = try probe.call(index, "POST", "api/admin/cluster/switchover", body: [:], admin: true)
        guard response.status == 202 else {
            throw DrillFailure("the switchover on \(options.urls[index]) was refused: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    // MARK: Before and after

    /// The primary's index, when the pair is fit for a drill.
    private func healthyPrimary() throws -> Int {
        let health = (0..<2).map { probe.health($0) }
        for index in 0..<2 where health[index] == nil { throw DrillFailure("\(options.urls[index]) does not answer") }
        guard let primary = (0..<2).first(where: { health[$0]?["role"] as? String == "primary" }) else {
            throw DrillFailure("neither node is primary (roles: \(health.map { $0?["role"] as? String ?? "?" }))")
        }
        let standby = health[1 - primary]!
        guard standby["role"] as? String == "standby", (standby["peer"] as? [String: Any])?["state"] as? String == "attached" else {
            throw DrillFailure("\(options.urls[1 - primary]) is not an attached standby (role \(standby["role"] ?? "?"))")
        }
        guard health[primary]?["degraded"] as? Bool != true else { throw DrillFailure("the primary answers degraded: its standby is not in sync") }
        do {
            _ = try probe.cluster(primary)
        } catch {
            throw DrillFailure("cannot log in on the primary with the given password: \(error)")
        }
        return primary
    }

    /// The handshake code and product the load uses.
    private func loadTarget(_ primary: Int) throws -> (code: String, product: String) {
        guard let code = try options.code ?? probe.handshakeCodes(on: primary).first else {
            throw DrillFailure("the primary has no handshake code; import a license or give --code")
        }
        if let product = options.product { return (code, product) }
        let handshakes = (try? JSONSerialization.jsonObject(with: try probe.call(primary, "GET", "api/admin/handshakes", admin: true).body)) as? [[String: Any]]
        let items = (try? JSONSerialization.jsonObject(with: try probe.call(primary, "GET", "api/admin/items", admin: true).body)) as? [[String: Any]]
        guard let itemId = (handshakes?.first { $0["code"] as? String == code }?["items"] as? [String])?.first,
              let product = items?.first(where: { $0["itemId"] as? String == itemId })?["product"] as? String else {
            throw DrillFailure("cannot find the product of handshake code \(code); give --product")
        }
        return (code, product)
    }

    /// Lost: acknowledged grants the new primary does not list. Duplicated:
    /// a request ID of the load listed more than once.
    private func check(_ acknowledged: [String: String], on primary: Int, into report: inout DrillReport) throws {
        let listed = try probe.grants(on: primary)
        let ids = Set(listed.map(\.grantId))
        report.lost = acknowledged.values.filter { !ids.contains($0) }.count
        var seen: [String: Int] = [:]
        for grant in listed { if let requestId = grant.requestId, acknowledged[requestId] != nil { seen[requestId, default: 0] += 1 } }
        report.duplicated = seen.values.reduce(0) { $0 + max(0, $1 - 1) }
    }

    /// Leaves the report on the primary (best effort: the drill's result stands either way).
    private func leave(_ report: DrillReport, on primary: Int) {
        let response = try? probe.call(primary, "POST", "api/admin/cluster/drills", body: report.json, admin: true)
        if response?.status != 201 { printError("lts drill: could not leave the report on \(options.urls[primary]) (HTTP \(response?.status ?? 0))") }
    }
}

/// A drill could not run to its end; the message says where.
struct DrillFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
