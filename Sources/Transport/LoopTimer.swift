import CH2O

/// A libuv timer that calls its closure on the loop thread.
///
/// Invariant: the uv handle is heap-allocated, never moves, and is freed
/// only in its close callback; `cancel()` may be called any number of times.
public final class LoopTimer {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private let action: () -> Void
    private var closed = false

    /// Starts a timer that fires after `delayMs`, then every `repeatMs`
    /// (0 = once).
    public init(loop: EventLoop, delayMs: UInt64, repeatMs: UInt64 = 0, action: @escaping () -> Void) {
        loop.assertInLoop()
        self.action = action
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_timer_start(handle, { timer in
            guard let timer, let data = timer.pointee.data else { return }
            Unmanaged<LoopTimer>.fromOpaque(data).takeUnretainedValue().action()
        }, delayMs, repeatMs)
    }

    /// Stops the timer and releases it once libuv has closed the handle.
    public func cancel() {
        guard !closed else { return }
        closed = true
        uv_timer_stop(handle)
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { h in
            closeUnlessClosing(h) { h in
                guard let h else { return }
                if let data = h.pointee.data { Unmanaged<LoopTimer>.fromOpaque(data).release() }
                h.withMemoryRebound(to: uv_timer_t.self, capacity: 1) { $0.deallocate() }
            }
        }
    }
}
