import ArgumentParser
import Foundation
import Platform
import Transport

/// `lts bench failover`: rounds of SIGKILL of the primary of a local pair
/// under continuous authorizations, with what clients saw.
///
/// Invariant: every process it starts is stopped before it returns; it
/// exits 1 when an acknowledged grant is missing at the end.
public struct FailoverBench {
    /// Longest wait for any one step of a round.
    static let stepTimeoutSeconds = 30.0

    let rounds: Int
    let clients: Int
    let port: Int
    let replication: String
    /// Whether the pair has a witness (on `port + 2`).
    let witness: Bool
    let json: Bool

    public init(rounds: Int, clients: Int, port: Int, replication: String, witness: Bool = false, json: Bool) {
        self.rounds = rounds
        self.clients = clients
        self.port = port
        self.replication = replication
        self.witness = witness
        self.json = json
    }

    public func run() throws {
        let directory = NSTemporaryDirectory() + "lts-bench-failover-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try PairFiles(directory: directory, port: port, replication: replication, witness: witness)
        FileManager.default.createFile(atPath: directory + "/nodes.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/nodes.log"))
        let witnessChild = try files.witnessConfig.map { try PairChild(name: "witness", command: "witness", config: $0, log: log) }
        defer {
            witnessChild?.terminate()
            witnessChild?.waitUntilExit()
        }
        let trusts = files.nodes.map { TLSTrust.pinnedSHA256(SelfSignedCertificate.parseFingerprint($0.fingerprint)!) }
        var children = try PairFiles.names.map { try PairChild(name: $0, config: files.config($0), log: log) }
        defer { children.forEach { $0.terminate(); $0.waitUntilExit() } }
        let probe = PairProbe(urls: [files.url(0), files.url(1)], trusts: trusts)
        var primary = try probe.waitForAttachedPair(timeoutSeconds: Self.stepTimeoutSeconds)
        let code = try probe.setUp(on: primary, license: files.license)
        let load = FailoverLoad(servers: [(files.url(0), trusts[0]), (files.url(1), trusts[1])], code: code, workers: clients)
        var detection: [Double] = []
        var promotion: [Double] = []
        var outage: [Double] = []
        for round in 1...rounds {
            guard load.waitForMore(100, timeoutSeconds: Self.stepTimeoutSeconds) else { throw failure("no grants before round \(round)") }
            load.resetGap()
            let killedAt = Date()
            kill(children[primary].pid, SIGKILL)
            children[primary].waitUntilExit()
            let standby = 1 - primary
            try probe.waitForRole(standby, "primary", timeoutSeconds: Self.stepTimeoutSeconds)
            promotion.append(Date().timeIntervalSince(killedAt) * 1000)
            guard load.waitForMore(100, timeoutSeconds: Self.stepTimeoutSeconds) else { throw failure("no grants after round \(round)") }
            outage.append(load.largestGap * 1000)
            if let silence = try probe.cluster(standby)["lastFailoverSilenceMs"] as? Int { detection.append(Double(silence)) }
            children[primary] = try PairChild(name: PairFiles.names[primary], config: files.config(PairFiles.names[primary]), log: log)
            primary = standby
            guard try probe.waitForAttachedPair(timeoutSeconds: Self.stepTimeoutSeconds) == primary else {
                throw failure("the killed node did not rejoin as standby in round \(round)")
            }
            if !json { print(String(format: "round %2d: promotion %4.0f ms, outage %4.0f ms", round, promotion.last!, outage.last!)) }
        }
        let result = load.stop()
        let listed = try probe.grantIds(on: primary)
        let lost = result.acknowledged.values.filter { !listed.contains($0) }.count
        report(detection: detection, promotion: promotion, outage: outage, acknowledged: result.acknowledged.count, lost: lost)
        if lost > 0 { throw ExitCode(1) }
    }

    private func failure(_ what: String) -> Error {
        BenchFailure("lts bench failover: \(what)")
    }

    private func report(detection: [Double], promotion: [Double], outage: [Double], acknowledged: Int, lost: Int) {
        func stats(_ values: [Double]) -> [String: Double] {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return [:] }
            return ["min": sorted.first!, "median": sorted[sorted.count / 2], "max": sorted.last!]
        }
        if json {
            let object: [String: Any] = ["rounds": rounds, "clients": clients, "replication": replication,
                                         "detectionMs": stats(detection), "promotionMs": stats(promotion), "outageMs": stats(outage),
                                         "acknowledged": acknowledged, "lostAcknowledged": lost]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        func line(_ name: String, _ values: [Double]) -> String {
            let s = stats(values)
            let label = name.padding(toLength: 10, withPad: " ", startingAt: 0)
            return "  " + label + String(format: "min %5.0f ms   median %5.0f ms   max %5.0f ms", s["min"] ?? 0, s["median"] ?? 0, s["max"] ?? 0)
        }
        print("failover: \(rounds) rounds of SIGKILL of the primary, \(clients) clients, \(replication) replication")
        print(line("detection", detection))
        print(line("promotion", promotion))
        print(line("outage", outage))
        print("  acknowledged grants \(acknowledged), lost \(lost)")
    }
}
