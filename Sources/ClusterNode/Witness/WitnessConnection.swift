import Replication

/// How a node reaches its pair's witness: `lts witness` over HTTPS
/// (`WitnessLink`) or an etcd cluster (`EtcdWitness`).
///
/// Invariant: every `ask` and `probe` gets exactly one `done`, on the loop
/// thread, never from within the call; answers come in the order asked.
protocol WitnessConnection: AnyObject {
    /// What the witness is, for logs and health.
    var url: String { get }
    /// Why the last request got no answer (nil after an answer).
    var lastProblem: String? { get }
    /// When the witness last answered (nil: not since start).
    var lastAnswerMs: UInt64? { get }
    /// Sends `claim`; `done` gets the answer, or nil when none came in time.
    func ask(_ claim: WitnessClaim, done: @escaping (WitnessAnswer?) -> Void)
    /// Checks that the witness answers, while no claim is due.
    func probe(done: @escaping (Bool) -> Void)
    func close()
}
