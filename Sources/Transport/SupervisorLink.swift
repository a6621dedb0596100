import CServerShim
import Foundation

/// A child process's tie to the supervisor that started it (`lts pair`):
/// the supervisor names itself in the child's environment, and the child,
/// first thing at start, asks the kernel for SIGTERM when that supervisor
/// dies, so no node outlives it, whatever killed it (SIGKILL included).
///
/// Why the kernel (PR_SET_PDEATHSIG) and not a polling thread: it acts at
/// once and costs nothing; why in the child after exec and not between fork
/// and exec: Foundation's `Process` spawns with posix_spawn, which has no
/// hook there. The gap between spawn and the request is closed by checking
/// that the parent is still the named supervisor.
///
/// Invariant: the signal fires when the supervisor's thread that started the
/// child ends; the supervisor starts children only from threads that live as
/// long as it runs them (its main thread, or the thread waiting on the child).
public enum SupervisorLink {
    /// The environment variable holding the supervisor's pid.
    public static let environmentKey = "LTS_SUPERVISOR_PID"

    /// The environment for a child of this process: this process's own plus
    /// its pid under `environmentKey`.
    public static func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment[environmentKey] = String(getpid())
        return environment
    }

    /// Ties this process to the supervisor named in its environment (no-op
    /// when none is). Returns false when that supervisor is already gone or
    /// the tie could not be made: the caller then ends instead of running
    /// unsupervised.
    public static func endWithSupervisor() -> Bool {
        guard let value = ProcessInfo.processInfo.environment[environmentKey] else { return true }
        guard let supervisor = pid_t(value), supervisor > 1 else { return false }
        return lts_process_end_with_parent(supervisor) == 0
    }
}
