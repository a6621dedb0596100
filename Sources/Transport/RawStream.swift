import CH2O
import Foundation

/// A byte stream over an h2o socket (TLS or plain): an upgraded server
/// connection or a client connection.
///
/// Invariant: at most one write is in flight in h2o; later writes queue in
/// order. The socket is closed once, after any in-flight write completed,
/// and `onClose` is called exactly once. All methods run on the loop thread.
public final class RawStream {
    /// Bytes queued behind the in-flight write before writes are refused.
    public static let pendingWriteBytesMax = 64 << 20

    private var socket: UnsafeMutablePointer<h2o_socket_t>?
    private var pending: [UInt8] = []
    private var inFlight: UnsafeMutableRawBufferPointer?
    private var closeRequested = false
    private var closed = false
    /// Why the stream is closing, when it is not a local close.
    private var failure: String?
    /// Bytes that arrived before a reader was attached.
    private var early: [UInt8] = []

    /// Called with each chunk of bytes as it arrives.
    public var onData: (([UInt8]) -> Void)? {
        didSet {
            if let onData, !early.isEmpty {
                let bytes = early
                early = []
                onData(bytes)
            }
        }
    }

    /// Called once when the stream closes, with the reason (nil = closed locally).
    public var onClose: ((String?) -> Void)?

    init(socket: UnsafeMutablePointer<h2o_socket_t>, leftover: [UInt8] = []) {
        self.socket = socket
        early = leftover
        socket.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Starts delivering bytes to `onData`, beginning with any already buffered.
    public func startReading() {
        guard let socket, !closed else { return }
        if socket.pointee.input.pointee.size > 0 { takeInput() }
        h2o_socket_read_start(socket) { socket, error in
            guard let socket, let data = socket.pointee.data else { return }
            let stream = Unmanaged<RawStream>.fromOpaque(data).takeUnretainedValue()
            if let error {
                stream.shutDown(reason: String(cString: error))
            } else {
                stream.takeInput()
            }
        }
    }

    /// Queues bytes; they are written in order.
    /// - Returns: false when the stream is closed or its queue is full.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !closed, !closeRequested, pending.count + bytes.count <= Self.pendingWriteBytesMax else { return false }
        pending.append(contentsOf: bytes)
        flush()
        return true
    }

    /// Closes the stream after the queued bytes were written.
    public func close() {
        guard !closed else { return }
        closeRequested = true
        if inFlight == nil, pending.isEmpty { shutDown(reason: nil) }
    }

    /// Puts bytes back in front of the stream, for the next reader.
    func unread(_ bytes: [UInt8]) {
        early = bytes + early
    }

    /// True until the stream closed.
    public var isOpen: Bool { !closed }

    private func takeInput() {
        guard let socket else { return }
        let input = socket.pointee.input!
        let size = input.pointee.size
        guard size > 0 else { return }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: input.pointee.bytes, count: size))
        h2o_buffer_consume(&socket.pointee.input, size)
        if let onData { onData(bytes) } else { early.append(contentsOf: bytes) }
    }

    private func flush() {
        guard let socket, inFlight == nil, !pending.isEmpty else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pending.count, alignment: 1)
        buffer.copyBytes(from: pending)
        pending.removeAll(keepingCapacity: true)
        inFlight = buffer
        var iovec = h2o_iovec_t(base: buffer.baseAddress!.assumingMemoryBound(to: CChar.self), len: buffer.count)
        h2o_socket_write(socket, &iovec, 1) { socket, error in
            guard let socket, let data = socket.pointee.data else { return }
            Unmanaged<RawStream>.fromOpaque(data).takeUnretainedValue().writeCompleted(error: error.map { String(cString: $0) })
        }
    }

    private func writeCompleted(error: String?) {
        inFlight?.deallocate()
        inFlight = nil
        if let error {
            shutDown(reason: error)
        } else if failure != nil || (closeRequested && pending.isEmpty) {
            shutDown(reason: failure)
        } else {
            flush()
        }
    }

    /// Closes the socket now, or right after the in-flight write completes
    /// (h2o must not free a socket with a write in flight).
    private func shutDown(reason: String?) {
        guard !closed, let socket else { return }
        if failure == nil { failure = reason }
        guard inFlight == nil else {
            closeRequested = true
            return
        }
        closed = true
        self.socket = nil
        socket.pointee.data = nil
        h2o_socket_close(socket)
        pending = []
        let callback = onClose
        onClose = nil
        onData = nil
        callback?(failure)
        Unmanaged.passUnretained(self).release()
    }
}
