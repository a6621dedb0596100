import Foundation
import Platform
import Replication
import Transport
import Logging

/// The pair's witness kept in an etcd cluster, through etcd v3's JSON
/// gateway (`/v3/kv/range`, `/v3/lease/grant`, `/v3/kv/txn`) with libcurl,
/// on a thread of its own (`DedicatedWorker`): each claim reads the two
/// keys, decides by `EtcdWitnessRules`, and writes in one transaction that
/// succeeds only if nothing changed since the read. A lease is an etcd
/// lease of `ceil(holdMs / 1000)` seconds (etcd may give more: its minimum
/// is about 2 s by default), granted after the claim was sent, so it holds
/// at least as long as the node's own lease needs.
///
/// Invariant: every `ask` and `probe` gets one `done` on the loop thread
/// (see `WitnessConnection`); endpoints are tried in order until one answers.
final class EtcdWitness: WitnessConnection {
    private let endpoints: [String]
    private let keyPrefix: String
    private let client: HTTPClient
    private let worker: DedicatedWorker
    private let loop: EventLoop
    private let logger: Logger
    private(set) var lastProblem: String?
    private(set) var lastAnswerMs: UInt64?

    var url: String { "etcd \(endpoints.joined(separator: ",")) \(keyPrefix)" }

    init(loop: EventLoop, endpoints: [String], keyPrefix: String, trust: TLSTrust, timeoutMs: UInt64, logger: Logger) {
        self.loop = loop
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.keyPrefix = keyPrefix
        self.logger = logger
        client = HTTPClient(trust: trust, timeoutMs: Int(timeoutMs), connectTimeoutMs: Int(timeoutMs / 2))
        worker = DedicatedWorker(loop: loop, name: "lts-etcd-witness")
    }

    func ask(_ claim: WitnessClaim, done: @escaping (WitnessAnswer?) -> Void) {
        worker.submit({ [client, endpoints, keyPrefix] in
            Result { try Self.perform(claim, etcd: EtcdCalls(client: client, endpoints: endpoints), prefix: keyPrefix) }
        }, completion: { [weak self] result in
            self?.note(result)
            done(try? result.get())
        })
    }

    func probe(done: @escaping (Bool) -> Void) {
        worker.submit({ [client, endpoints, keyPrefix] in
            Result { _ = try EtcdCalls(client: client, endpoints: endpoints).read(prefix: keyPrefix) }
        }, completion: { [weak self] result in
            self?.note(result)
            done((try? result.get()) != nil)
        })
    }

    func close() {
        worker.close()
    }

    private func note<T>(_ result: Result<T, Error>) {
        switch result {
        case .success:
            if lastProblem != nil { logger.info("the witness \(url) answers again") }
            lastProblem = nil
            lastAnswerMs = loop.nowMs
        case .failure(let error):
            let problem = "\(error)"
            if lastProblem != problem { logger.warning("witness \(url): \(problem)") }
            lastProblem = problem
        }
    }

    /// Reads, decides and writes one claim (on the worker's thread).
    /// - Returns: the answer (nil for a release); throws when etcd could
    ///   not be reached, or the keys changed between the read and the write.
    static func perform(_ claim: WitnessClaim, etcd: EtcdCalls, prefix: String) throws -> WitnessAnswer? {
        let state = try etcd.read(prefix: prefix)
        switch EtcdWitnessRules.plan(claim, state) {
        case .refuse(let answer):
            return answer
        case .nothing:
            return nil
        case .release:
            _ = try etcd.transaction(compares: [etcd.unchanged("\(prefix)/holder", revision: state.holderRevision)],
                                     operations: [["request_delete_range": ["key": EtcdCalls.base64("\(prefix)/holder")]]])
            return nil
        case .take(let term, let writeTerm):
            let (lease, ttlSeconds) = try etcd.grantLease(seconds: (claim.holdMs + 999) / 1000)
            let holder = EtcdWitnessRules.Holder(node: claim.node, term: term)
            var operations: [[String: Any]] = [["request_put": ["key": EtcdCalls.base64("\(prefix)/holder"), "value": EtcdCalls.base64(holder.text),
                                                                "lease": lease]]]
            if writeTerm {
                operations.append(["request_put": ["key": EtcdCalls.base64("\(prefix)/term"), "value": EtcdCalls.base64(String(term))]])
            }
            let compares = [etcd.unchanged("\(prefix)/term", revision: state.termRevision),
                            etcd.unchanged("\(prefix)/holder", revision: state.holderRevision)]
            guard try etcd.transaction(compares: compares, operations: operations) else {
                throw TransportError("the witness keys changed under this claim (another claim won); the next one reads them again")
            }
            return WitnessAnswer(granted: true, highestTerm: term, holder: claim.node, leaseRemainingMs: ttlSeconds * 1000)
        }
    }
}

/// etcd v3's JSON gateway, blocking: keys and values base64, 64-bit
/// numbers as strings. Each call tries the endpoints in order.
struct EtcdCalls {
    let client: HTTPClient
    let endpoints: [String]

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The term and holder keys under `prefix`.
    func read(prefix: String) throws -> EtcdWitnessRules.State {
        let answer = try call("/v3/kv/range", ["key": Self.base64(prefix + "/"), "range_end": Self.base64(prefix + "0")])
        var state = EtcdWitnessRules.State()
        for kv in answer["kvs"] as? [[String: Any]] ?? [] {
            guard let key = (kv["key"] as? String).flatMap({ Data(base64Encoded: $0) }).map({ String(decoding: $0, as: UTF8.self) }),
                  let revision = (kv["mod_revision"] as? String).flatMap(Int64.init) else { continue }
            let value = (kv["value"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            switch key {
            case prefix + "/term":
                guard let term = UInt64(value) else { throw TransportError("\(key) holds \"\(value)\", not a term") }
                state.term = term
                state.termRevision = revision
            case prefix + "/holder":
                guard let holder = EtcdWitnessRules.Holder(text: value) else { throw TransportError("\(key) holds \"\(value)\", not NODE:TERM") }
                state.holder = holder
                state.holderRevision = revision
            default:
                continue
            }
        }
        return state
    }

    /// A new lease of at least `seconds`: its ID and the TTL etcd gave.
    func grantLease(seconds: UInt64) throws -> (id: String, ttlSeconds: UInt64) {
        let answer = try call("/v3/lease/grant", ["TTL": String(seconds)])
        guard let id = answer["ID"] as? String, let ttl = (answer["TTL"] as? String).flatMap(UInt64.init) else {
            throw TransportError("etcd granted no lease: \(answer)")
        }
        return (id, ttl)
    }

    /// A comparison true while `key` is at `revision` (0: does not exist).
    func unchanged(_ key: String, revision: Int64) -> [String: Any] {
        revision == 0
            ? ["key": Self.base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"]
            : ["key": Self.base64(key), "target": "MOD", "result": "EQUAL", "mod_revision": String(revision)]
    }

    /// Runs `operations` if every comparison holds; returns whether they did.
    func transaction(compares: [[String: Any]], operations: [[String: Any]]) throws -> Bool {
        try call("/v3/kv/txn", ["compare": compares, "success": operations])["succeeded"] as? Bool ?? false
    }

    private func call(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body)
        var problems: [String] = []
        for endpoint in endpoints {
            do {
                let response = try client.send("POST", endpoint + path, body: data)
                guard response.status == 200, let json = response.json else {
                    problems.append("\(endpoint): HTTP \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                    continue
                }
                return json
            } catch {
                problems.append("\(error)")
            }
        }
        throw TransportError("etcd did not answer \(path): \(problems.joined(separator: "; "))")
    }
}
