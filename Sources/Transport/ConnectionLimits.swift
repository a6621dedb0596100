import CServerShim
import Foundation

/// Caps on the connections one `HTTPServer` holds open, so that no one
/// with network access can take every file descriptor or every TLS
/// handshake.
///
/// Invariant: every cap is at least 1. A connection is "fresh" from its
/// accept until its first request (its TLS handshake included). Past
/// `total`, a connection with no request in flight is closed to make room
/// (a new one is refused only when every connection is busy); past
/// `fresh`, a fresh one. The one closed comes from the address holding the
/// most such connections, its least recently active. Past a per-address
/// cap, the new connection is refused.
public struct ConnectionLimits: Equatable {
    public var total: Int
    public var perAddress: Int
    public var fresh: Int
    public var freshPerAddress: Int
    /// HTTP/2 streams one connection may reset before their answer in a
    /// second; past it the connection is closed.
    public var resetsPerSecond: Int

    /// File descriptors kept out of `total`'s reach for the store, the
    /// replication link, the witness, mail and logs.
    public static let reservedDescriptorsMin = 64

    public init(total: Int, perAddress: Int, fresh: Int, freshPerAddress: Int, resetsPerSecond: Int = 200) {
        self.total = max(1, total)
        self.perAddress = max(1, perAddress)
        self.fresh = max(1, fresh)
        self.freshPerAddress = max(1, freshPerAddress)
        self.resetsPerSecond = max(1, resetsPerSecond)
    }

    /// Defaults for a process allowed `descriptors` open files: at most
    /// 8,192 connections and three quarters of the descriptors, a quarter
    /// of those per address, fresh ones a quarter of the total (64 per
    /// address).
    public static func defaults(descriptors: Int) -> ConnectionLimits {
        let total = min(8192, max(16, descriptors - max(reservedDescriptorsMin, descriptors / 4)))
        return ConnectionLimits(total: total, perAddress: max(16, total / 4), fresh: max(16, total / 4),
                                freshPerAddress: min(64, max(8, total / 16)))
    }

    /// Raises this process's soft limit of open files to its hard limit
    /// (at most `ceiling`) and returns the soft limit then in force.
    public static func raiseDescriptorLimit(ceiling: Int = 65536) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = min(limit.rlim_max, rlim_t(ceiling))
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
        return descriptorLimit()
    }

    /// This process's soft limit of open files (1,024 when unknown).
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(min(limit.rlim_cur, rlim_t(Int32.max)))
    }

    var shim: lts_connection_limits_t {
        lts_connection_limits_t(total: total, per_address: perAddress, fresh: fresh, fresh_per_address: freshPerAddress,
                                resets_per_second: UInt32(resetsPerSecond))
    }
}

/// What a server did when one of its `ConnectionLimits` bit.
public enum ConnectionLimitEvent: Int, CaseIterable {
    case perAddressRefused, freshPerAddressRefused, idleEvicted, totalRefused, freshEvicted, bodyAborted, resetsClosed, stuckClosed

    /// A sentence for the log.
    public var description: String {
        switch self {
        case .perAddressRefused: return "refused a connection: its address holds the most connections one address may"
        case .freshPerAddressRefused: return "refused a connection: its address holds the most unfinished handshakes one address may"
        case .idleEvicted: return "closed an idle connection to make room: the server holds the most connections it may"
        case .totalRefused: return "refused a connection: the server holds the most connections it may, every one busy"
        case .freshEvicted: return "closed the oldest unfinished handshake to make room: the server holds the most it may"
        case .bodyAborted: return "aborted an upload larger than its route takes"
        case .resetsClosed: return "closed an HTTP/2 connection that reset too many streams"
        case .stuckClosed: return "closed a connection its peer had reset (libh2o would have kept it)"
        }
    }

    /// The metric label.
    public var label: String {
        switch self {
        case .perAddressRefused: return "per_address_refused"
        case .freshPerAddressRefused: return "handshakes_per_address_refused"
        case .idleEvicted: return "idle_evicted"
        case .totalRefused: return "total_refused"
        case .freshEvicted: return "handshake_evicted"
        case .bodyAborted: return "body_aborted"
        case .resetsClosed: return "resets_closed"
        case .stuckClosed: return "reset_peer_closed"
        }
    }
}
