import CH2O

/// Runs a closure on the loop thread right after every poll phase, that is
/// after the callbacks of one loop turn: the place to act on everything that
/// turn produced at once (group commit).
///
/// Invariant: the uv handle lives until `cancel()` closes it.
public final class LoopCheck {
    private let handle: UnsafeMutablePointer<uv_check_t>
    private let action: () -> Void
    private var closed = false

    public init(loop: EventLoop, action: @escaping () -> Void) {
        self.action = action
        handle = .allocate(capacity: 1)
        uv_check_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_check_start(handle) { h in
            guard let h, let data = h.pointee.data else { return }
            Unmanaged<LoopCheck>.fromOpaque(data).takeUnretainedValue().action()
        }
        // A check handle alone must not keep the loop alive.
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_unref($0) }
    }

    public func cancel() {
        guard !closed else { return }
        closed = true
        uv_check_stop(handle)
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { h in
            closeUnlessClosing(h) { h in
                guard let h else { return }
                if let data = h.pointee.data { Unmanaged<LoopCheck>.fromOpaque(data).release() }
                h.withMemoryRebound(to: uv_check_t.self, capacity: 1) { $0.deallocate() }
            }
        }
    }
}
