import CH2O

/// Watches one POSIX signal on the loop and calls its closure on the loop
/// thread (never inside the signal handler).
///
/// Invariant: the uv handle lives until `cancel()` closes it.
public final class SignalWatcher {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private let action: (Int32) -> Void
    private var closed = false

    public init(loop: EventLoop, signal signum: Int32, action: @escaping (Int32) -> Void) {
        self.action = action
        handle = .allocate(capacity: 1)
        uv_signal_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_signal_start(handle, { h, signum in
            guard let h, let data = h.pointee.data else { return }
            Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue().action(signum)
        }, signum)
    }

    public func cancel() {
        guard !closed else { return }
        closed = true
        uv_signal_stop(handle)
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { h in
            closeUnlessClosing(h) { h in
                guard let h else { return }
                if let data = h.pointee.data { Unmanaged<SignalWatcher>.fromOpaque(data).release() }
                h.withMemoryRebound(to: uv_signal_t.self, capacity: 1) { $0.deallocate() }
            }
        }
    }
}
