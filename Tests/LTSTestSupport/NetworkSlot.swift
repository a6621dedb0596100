import Foundation
import Transport

/// One of `count` disjoint ranges of three /24 networks (10.231.3n to
/// 10.231.3n+2) for a test's network namespaces, claimed with an exclusive
/// `flock` on a file of its own, so that test processes running side by
/// side (two `make nemesis`, or one beside `make test`) never share an address.
///
/// Invariant: while a slot is held, no other holder, in this process or
/// another, holds the same number; `release()` (also on deinit) frees it,
/// and the kernel frees it when the process dies.
final class NetworkSlot {
    static let count = 16
    let number: Int
    private var descriptor: Int32

    /// Claims the lowest free slot; throws when all are taken.
    init() throws {
        for number in 0..<Self.count {
            let fd = open("/tmp/lts-netns-slot-\(number).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw TransportError("cannot open the namespace slot \(number): errno \(errno)") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                self.number = number
                descriptor = fd
                return
            }
            close(fd)
        }
        throw TransportError("all \(Self.count) network namespace slots are in use")
    }

    deinit { release() }

    /// The /24 network (first three octets) of link `index` (0 to 2).
    func subnet(_ index: Int) -> String { "10.231.\(number * 3 + index)" }

    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }
}
