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
/// with an attached, caught-up standby, not degraded (it waits a bounded
/// time for a pair that is still electing). Unless given a customer's
/// code, the load runs on the drill item (`DrillItem`), which uses no
/// license quota.
public final class Drill {
    /// Grants the load must see before the fault, and after each step.
    static let grantsPerPhase = 50
    /// How often a wait for a ready pair says what it waits for.
    static let readyProgressSeconds = 2.0

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
                report.injection = "the fault command `\(faultCommand)`, run with /bin/sh"
                report.faultAt = Date()
                try drill.shell(faultCommand, what: "the fault command")
            } else {
                try drill.killPrimary(primary, report: &report)
            }
            let standby = 1 - primary
            try drill.waitForPrimary(standby, report: &report)
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
            report.injection = "switchover requested through the API (POST /dls/api/admin/cluster/switchover on \(drill.options.urls[primary]))"
            report.faultAt = Date()
            try drill.switchover(from: primary)
            try drill.waitForPrimary(1 - primary, report: &report)
            try drill.waitForRejoin(primary: 1 - primary, report: &report)
            guard back else { return 1 - primary }
            report.injection += ", then back the same way on \(drill.options.urls[1 - primary])"
            try drill.awaitGrants()
            drill.load?.resetGap()
            let backAt = Date()
            try drill.switchover(from: 1 - primary)
            try drill.until("node \(primary) to be primary again") { drill.probe.health(primary)?["role"] as? String == "primary" }
            let detectedAt = Date()
            try drill.until("a grant from \(drill.options.urls[primary])") { drill.load?.firstAcknowledged(atOrAfter: detectedAt) != nil }
            report.backPromotionMs = Self.milliseconds(from: backAt, to: drill.load?.firstAcknowledged(atOrAfter: detectedAt) ?? detectedAt)
            try drill.awaitGrants()
            report.backOutageMs = Int((drill.load?.largestGap ?? 0) * 1000)
            _ = try drill.probe.waitForAttachedPair(timeoutSeconds: drill.options.stepTimeout)
            return primary
        }
    }

    /// Runs the drill; `step` injects the fault given the primary's index
    /// (setting `faultAt` just before) and returns the index of the primary
    /// after it.
    private func run(_ step: (Drill, Int, inout DrillReport) throws -> Int) throws {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [interrupted = probe.interrupted] in _ = interrupted.raise() }
        source.resume()
        defer { source.cancel() }
        defer { _ = load?.stop() }
        let primary: Int
        do {
            primary = try readyPrimary()
        } catch {
            printError("lts drill: the pair is not healthy, so no drill runs: \(error)")
            throw ExitCode(probe.interrupted.isRaised ? 130 : 2)
        }
        var report = DrillReport(id: Crypto.randomUUID().lowercased(), kind: kind, ranBy: Self.operator, startedAt: Date(), clients: options.clients,
                                 loadSecondsAsked: options.seconds, nodes: options.urls.map { DrillReport.Node(url: $0) })
        do {
            observe(into: &report, before: true)
            let target = try loadTarget(primary)
            report.load = ["handshakeCode": target.code, "product": target.product, "drillItem": target.pass != nil]
            let load = FailoverLoad(servers: Array(zip(options.urls, trusts)), code: target.code, product: target.product,
                                    sessionPassword: target.pass, workers: options.clients)
            self.load = load
            let loadStart = Date()
            try awaitGrants()
            try runLoad(until: loadStart.addingTimeInterval(options.seconds / 2))
            load.resetGap()
            if !options.json {
                print("lts drill \(kind): \(load.acknowledged) grants before the \(kind == "switchover" ? "switchover" : "fault"); starting it now")
            }
            let newPrimary = try step(self, primary, &report)
            report.newPrimary = options.urls[newPrimary]
            try awaitGrants()
            try runLoad(until: loadStart.addingTimeInterval(options.seconds))
            if report.outageMs == nil { report.outageMs = Int(load.largestGap * 1000) }
            let acknowledged = load.stop().acknowledged
            report.loadSeconds = Date().timeIntervalSince(loadStart)
            let faultAt = report.faultAt ?? loadStart
            (report.acknowledgedBefore, report.acknowledgedDuring, report.acknowledgedAfter) = load.counts(splitAt: faultAt, promotedAt ?? faultAt)
            try check(acknowledged, on: newPrimary, into: &report)
            observe(into: &report, before: false)
            report.endedAt = Date()
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

    /// `user@host` of whoever runs the drill.
    static var `operator`: String {
        let user = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(getuid())"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    static func milliseconds(from start: Date, to end: Date) -> Int { Int((end.timeIntervalSince(start) * 1000).rounded()) }

    // MARK: Steps

    /// Waits until `condition` holds, for at most the step timeout; throws
    /// on Ctrl-C or when the time runs out.
    func until(_ what: String, _ condition: () throws -> Bool) throws {
        try probe.wait(timeoutSeconds: options.stepTimeout, for: what, condition)
    }

    /// Lets the load run until `end` (longer than a step may last); Ctrl-C ends the wait.
    func runLoad(until end: Date) throws {
        try probe.wait(timeoutSeconds: max(0, end.timeIntervalSinceNow) + 1, for: "the load to run its --seconds") { Date() >= end }
    }

    /// Waits until the load saw `grantsPerPhase` more grants.
    func awaitGrants() throws {
        guard let load else { return }
        let target = load.acknowledged + Self.grantsPerPhase
        try until("the clients to get \(Self.grantsPerPhase) more grants") { load.waitUntil(target, timeoutSeconds: 0.5) }
    }

    /// Detection ends when node `index` answers as primary; promotion when
    /// the first grant at or after that moment is acknowledged (`DrillReport`).
    func waitForPrimary(_ index: Int, report: inout DrillReport) throws {
        let faultAt = report.faultAt ?? Date()
        try until("\(options.urls[index]) to take over as primary") { probe.health(index)?["role"] as? String == "primary" }
        let detectedAt = Date()
        report.detectionMs = Self.milliseconds(from: faultAt, to: detectedAt)
        try until("a grant from the new primary \(options.urls[index])") { load?.firstAcknowledged(atOrAfter: detectedAt) != nil }
        let answeredAt = load?.firstAcknowledged(atOrAfter: detectedAt) ?? detectedAt
        promotedAt = answeredAt
        report.promotionMs = Self.milliseconds(from: faultAt, to: answeredAt)
    }

    /// Waits until the node other than `primary` is back as its attached standby.
    func waitForRejoin(primary: Int, report: inout DrillReport) throws {
        let other = 1 - primary
        try until("\(options.urls[other]) to rejoin as standby") {
            let health = probe.health(other)
            return health?["role"] as? String == "standby" && (health?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        report.rejoinMs = Self.milliseconds(from: report.faultAt ?? Date(), to: Date())
    }

    /// SIGKILL of the primary of a pair started by `lts pair`, by its pid file.
    func killPrimary(_ index: Int, report: inout DrillReport) throws {
        guard let directory = options.pairDir else { throw DrillFailure("no --pair-dir to find the primary's pid in") }
        let path = directory + "/\(PairFiles.names[index])/data/lts.pid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              pid > 0 else { throw DrillFailure("cannot read the primary's pid from \(path)") }
        report.injection = "SIGKILL of pid \(pid), the primary \(options.urls[index]) (pid from \(path))"
        report.faultAt = Date()
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

    /// The primary's index once the pair is fit for a drill: a pair still
    /// electing, or whose standby is still attaching or catching up, is
    /// waited for (at most `readySeconds`, saying what it waits for at once
    /// and every `readyProgressSeconds`); a wrong password ends the wait at once.
    private func readyPrimary() throws -> Int {
        let start = Date()
        var lastSaid: Date?
        while true {
            do {
                return try healthyPrimary()
            } catch let failure as DrillFailure where !failure.isFinal {
                if probe.interrupted.isRaised { throw failure }
                guard Date().timeIntervalSince(start) < options.readySeconds else {
                    throw DrillFailure("after waiting \(Int(options.readySeconds)) s: \(failure)")
                }
                if lastSaid.map({ Date().timeIntervalSince($0) >= Self.readyProgressSeconds }) ?? true {
                    printError("lts drill: waiting for the pair (\(Int(Date().timeIntervalSince(start))) s of \(Int(options.readySeconds)) s): \(failure)")
                    lastSaid = Date()
                }
                usleep(100_000)
            }
        }
    }

    /// The primary's index, when the pair is fit for a drill.
    private func healthyPrimary() throws -> Int {
        let health = (0..<2).map { probe.health($0) }
        for index in 0..<2 where health[index] == nil { throw DrillFailure("\(options.urls[index]) does not answer") }
        guard let primary = (0..<2).first(where: { health[$0]?["role"] as? String == "primary" }) else {
            throw DrillFailure("neither node is primary yet (roles: \(health.map { $0?["role"] as? String ?? "?" }))")
        }
        let standby = health[1 - primary]!
        guard standby["role"] as? String == "standby", (standby["peer"] as? [String: Any])?["state"] as? String == "attached" else {
            throw DrillFailure("\(options.urls[1 - primary]) is not an attached standby yet (role \(standby["role"] ?? "?"))")
        }
        guard health[primary]?["degraded"] as? Bool != true else { throw DrillFailure("the primary answers degraded: its standby is not in sync") }
        let login = try? probe.call(primary, "POST", "api/admin/login", body: ["password": options.password])
        switch login?.status {
        case 200?: return primary
        case 401?: throw DrillFailure("cannot log in on the primary with the given password", isFinal: true)
        default: throw DrillFailure("cannot log in on the primary yet: HTTP \(login?.status ?? 0) \(login.map { String(decoding: $0.body, as: UTF8.self) } ?? "")")
        }
    }

    /// Each node's UUID, version, role, pid and (on the primary) term, before or after the drill.
    private func observe(into report: inout DrillReport, before: Bool) {
        for index in 0..<2 {
            let health = probe.health(index)
            let cluster = try? probe.cluster(index)
            var node = report.nodes[index]
            node.uuid = health?["uuid"] as? String ?? node.uuid
            node.version = health?["version"] as? String ?? node.version
            let role = health?["role"] as? String
            let pid = cluster?["pid"] as? Int
            if before {
                (node.roleBefore, node.pidBefore) = (role, pid)
                if role == "primary" { report.termBefore = health?["term"] as? Int }
            } else {
                (node.roleAfter, node.pidAfter) = (role, pid)
                if role == "primary" { report.termAfter = health?["term"] as? Int }
            }
            report.nodes[index] = node
        }
    }

    /// The handshake code and product the load uses, and the drill pass
    /// that opens the drill code (nil for a customer's code, --code).
    private func loadTarget(_ primary: Int) throws -> (code: String, product: String, pass: String?) {
        guard let code = options.code else {
            let response = try probe.call(primary, "POST", "api/admin/cluster/drills/pass", body: [:], admin: true)
            guard response.status == 201, let pass = response.json?["pass"] as? String, let code = response.json?["handshakeCode"] as? String,
                  let product = response.json?["product"] as? String else {
                throw DrillFailure("the primary gave no drill pass: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
            }
            return (code, product, pass)
        }
        if let product = options.product { return (code, product, nil) }
        let handshakes = (try? JSONSerialization.jsonObject(with: try probe.call(primary, "GET", "api/admin/handshakes", admin: true).body)) as? [[String: Any]]
        let items = (try? JSONSerialization.jsonObject(with: try probe.call(primary, "GET", "api/admin/items", admin: true).body)) as? [[String: Any]]
        guard let itemId = (handshakes?.first { $0["code"] as? String == code }?["items"] as? [String])?.first,
              let product = items?.first(where: { $0["itemId"] as? String == itemId })?["product"] as? String else {
            throw DrillFailure("cannot find the product of handshake code \(code); give --product")
        }
        return (code, product, nil)
    }

    /// Lost: acknowledged requests the new primary does not list. Changed:
    /// listed, but never under the grant ID acknowledged. Duplicated: listed
    /// more than once.
    private func check(_ acknowledged: [String: String], on primary: Int, into report: inout DrillReport) throws {
        var listed: [String: [String]] = [:]
        for grant in try probe.grants(on: primary) {
            if let requestId = grant.requestId, acknowledged[requestId] != nil { listed[requestId, default: []].append(grant.grantId) }
        }
        for (requestId, grantId) in acknowledged.sorted(by: { $0.key < $1.key }) {
            guard let ids = listed[requestId] else {
                report.lostIds.append(requestId)
                continue
            }
            if !ids.contains(grantId) { report.changedIds.append(requestId) }
            if ids.count > 1 { report.duplicatedIds.append(requestId) }
        }
    }

    /// Leaves the report in the pair's log through the new primary (the
    /// other node if that one refuses); best effort: the drill's result
    /// stands either way.
    private func leave(_ report: DrillReport, on primary: Int) {
        var statuses: [Int] = []
        for index in [primary, 1 - primary] {
            let response = try? probe.call(index, "POST", "api/admin/cluster/drills", body: report.json, admin: true)
            statuses.append(response?.status ?? 0)
            if response?.status == 201 || response?.status == 200 { return }
        }
        printError("lts drill: could not leave the report in the pair's log (HTTP \(statuses.map(String.init).joined(separator: ", ")))")
    }
}

/// A drill could not run to its end; the message says where. A final
/// failure (a wrong password) is not waited out.
struct DrillFailure: Error, CustomStringConvertible {
    let description: String
    let isFinal: Bool
    init(_ description: String, isFinal: Bool = false) {
        self.description = description
        self.isFinal = isFinal
    }
}
