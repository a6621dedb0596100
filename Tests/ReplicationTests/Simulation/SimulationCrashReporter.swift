import Foundation

/// Names the seed that was running when a precondition (in the simulator or
/// in `Replica`) stops the test process, which XCTest cannot report: the
/// note is written by a signal handler, from a buffer prepared before each
/// seed, with no allocation at crash time.
///
/// Invariant: while a seed runs, `note` holds its replay line.
enum SimulationCrashReporter {
    private static let capacity = 256
    private static let note: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        buffer.initialize(repeating: 0, count: capacity)
        return buffer
    }()
    private static var installed = false

    /// Records the seed about to run (and installs the handler once).
    static func running(_ simulator: Simulator) {
        if !installed {
            installed = true
            for signal in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV] { Foundation.signal(signal, handler) }
        }
        let text = "\nsimulation crashed in seed \(simulator.seed) — \(simulator.replayHint)\n"
        text.withCString { source in
            let count = min(strlen(source), capacity - 1)
            note.update(from: source, count: count)
            note[count] = 0
        }
    }

    /// No seed runs any more: a later crash is not the simulation's.
    static func finished() {
        note[0] = 0
    }

    private static let handler: @convention(c) (Int32) -> Void = { signal in
        _ = write(2, SimulationCrashReporter.note, strlen(SimulationCrashReporter.note))
        Foundation.signal(signal, SIG_DFL)
        raise(signal)
    }
}
