import LTSTestSupport
import Replication

/// The pair's witness in the simulation: the production `WitnessBook` over
/// a durable record, with its own drifting clock, a crash and restart, and
/// a network of its own to and from each node.
///
/// Invariants: the record is durable as soon as the book changes it (the
/// real witness writes it before answering, so a crash in between loses
/// only the answer); a restart rebuilds the book from the record alone.
final class SimulatedWitness {
    private(set) var book: WitnessBook?
    private var durable = WitnessBook.Record()
    /// `toWitness.links[i]`: what node i sends; `fromWitness.links[i]`: what the witness sends node i.
    var toWitness = SimulatedNetwork()
    var fromWitness = SimulatedNetwork()
    let clockRatePerMille: UInt64
    let clockOffsetMs: UInt64
    private(set) var crashes = 0

    init(random: inout SplitMix64) {
        // Often at an end of the drift bound, where the lease arithmetic is tight.
        clockRatePerMille = random.chance(perMille: 500) ? random.pick([950, 1050]) : random.uniform(950...1050)
        clockOffsetMs = random.uniform(0...10_000)
    }

    var isUp: Bool { book != nil }

    func localNowMs(_ nowMs: UInt64) -> UInt64 {
        clockOffsetMs + nowMs * clockRatePerMille / 1000
    }

    func start(nowMs: UInt64) {
        book = WitnessBook(record: durable, nowMs: localNowMs(nowMs))
    }

    func crash() {
        book = nil
        crashes += 1
    }

    /// The book's answer to `claim` now, its record made durable first.
    func answer(_ claim: WitnessClaim, nowMs: UInt64) -> WitnessAnswer? {
        guard var book else { return nil }
        let (answer, persist) = book.answer(claim, nowMs: localNowMs(nowMs))
        if persist { durable = book.record }
        self.book = book
        return answer
    }

    /// No more faults: links open, lossless and in order.
    func heal() {
        toWitness.heal()
        fromWitness.heal()
    }
}
