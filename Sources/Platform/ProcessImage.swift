import Foundation

/// Starting this program again in place of the running process (same pid,
/// same arguments), for a node that rewrote its own configuration.
///
/// Invariant: only descriptors opened without close-on-exec survive; the
/// caller closes its listeners and stores first.
public enum ProcessImage {
    /// Replaces the process with a fresh run of its executable; returns
    /// only when that fails, with the reason.
    public static func restart(arguments: [String]) -> String {
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        execv("/proc/self/exe", argv)
        return String(cString: strerror(errno))
    }
}
