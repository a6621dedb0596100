import CH2O
import Foundation
import Platform

/// Opens client connections (TCP, then TLS when a context is given) on the
/// loop and hands them over as `RawStream`s.
///
/// Invariant: `completion` is called exactly once, on the loop thread, with
/// a stream or with the reason it could not be made (including a timeout).
public final class StreamConnector {
    private let loop: EventLoop
    private let tls: TLSClientContext?
    private let serverName: String
    private let stallLimitMs: UInt32?
    private var completion: ((Result<RawStream, TransportError>) -> Void)?
    private var socket: UnsafeMutablePointer<h2o_socket_t>?
    private var timer: LoopTimer?
    private var resolver: UnsafeMutablePointer<uv_getaddrinfo_t>?

    private init(loop: EventLoop, tls: TLSClientContext?, serverName: String, stallLimitMs: UInt32?,
                 completion: @escaping (Result<RawStream, TransportError>) -> Void) {
        self.loop = loop
        self.tls = tls
        self.serverName = serverName
        self.stallLimitMs = stallLimitMs
        self.completion = completion
    }

    /// Connects to `host:port`; with `tls`, also completes a TLS handshake
    /// that verifies the server as the context's trust says.
    /// - Parameter stallLimitMs: with a limit, the kernel drops the
    ///   connection (TCP_USER_TIMEOUT) once bytes written to it stayed
    ///   unacknowledged that long, or the peer took no more bytes for that
    ///   long (a closed window), and the stream closes with an error.
    ///   Without one, a connection whose segments were lost resends them
    ///   with a timeout that doubles at each loss, for up to 15 minutes, so
    ///   its next byte can arrive as long after a cut as the cut lasted.
    /// - Returns: the connector, which `cancel()` stops.
    @discardableResult
    public static func connect(loop: EventLoop, host: String, port: Int, tls: TLSClientContext?, timeoutMs: UInt64,
                               stallLimitMs: UInt32? = nil,
                               completion: @escaping (Result<RawStream, TransportError>) -> Void) -> StreamConnector {
        loop.assertInLoop()
        let connector = StreamConnector(loop: loop, tls: tls, serverName: host, stallLimitMs: stallLimitMs, completion: completion)
        connector.timer = LoopTimer(loop: loop, delayMs: timeoutMs) { [connector] in
            connector.fail("timed out after \(timeoutMs) ms connecting to \(host):\(port)")
        }
        connector.resolve(host: host, port: port)
        return connector
    }

    /// Gives up a connection still being made (nothing once `completion`
    /// ran): `completion` gets a failure now and what was opened is closed
    /// through its own paths. An owner that closes calls it, so that no
    /// handle of a dial is left for the loop's last sweep to close under it.
    public func cancel() {
        fail("cancelled")
    }

    private func resolve(host: String, port: Int) {
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        resolver = request
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(loop.uv, request, { request, status, result in
            guard let request, let data = request.pointee.data else { return }
            let connector = Unmanaged<StreamConnector>.fromOpaque(data).takeRetainedValue()
            connector.resolver = nil
            request.deallocate()
            defer { if let result { uv_freeaddrinfo(result) } }
            guard status == 0, let address = result?.pointee.ai_addr else {
                connector.fail("cannot resolve the host name: \(String(cString: uv_strerror(status)))")
                return
            }
            connector.open(address: address, length: result!.pointee.ai_addrlen)
        }, host, String(port), &hints)
        if status != 0 {
            Unmanaged<StreamConnector>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            resolver = nil
            fail("cannot resolve the host name: \(String(cString: uv_strerror(status)))")
        }
    }

    private func open(address: UnsafeMutablePointer<sockaddr>, length: socklen_t) {
        guard completion != nil else { return }
        guard let socket = h2o_socket_connect(loop.uv, address, length, { socket, error in
            guard let socket, let data = socket.pointee.data else { return }
            let connector = Unmanaged<StreamConnector>.fromOpaque(data).takeUnretainedValue()
            if let error {
                connector.fail("cannot connect: \(String(cString: error))")
            } else {
                connector.connected()
            }
        }) else {
            fail("cannot connect: the socket could not be opened")
            return
        }
        self.socket = socket
        socket.pointee.data = Unmanaged.passRetained(self).toOpaque()
        // Set while the SYN is out: it bounds the SYN's resends as well.
        if var limit = stallLimitMs {
            setsockopt(h2o_socket_get_fd(socket), Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &limit, socklen_t(MemoryLayout<UInt32>.size))
        }
    }

    private func connected() {
        guard let socket else { return }
        // Without it, Nagle's algorithm holds a small write back until the
        // previous one is acknowledged, and a one-way stream (replication:
        // appends one way, acks the other) is acknowledged only when the
        // peer's delayed-ACK timer fires: tens of milliseconds per message.
        var on: Int32 = 1
        setsockopt(h2o_socket_get_fd(socket), Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        guard let tls else {
            succeed()
            return
        }
        h2o_socket_ssl_handshake(socket, tls.ctx, serverName) { socket, error in
            guard let socket, let data = socket.pointee.data else { return }
            let connector = Unmanaged<StreamConnector>.fromOpaque(data).takeUnretainedValue()
            // h2o reports a host-name mismatch as an error of its own; a pinned
            // fingerprint already names the exact certificate, so that check
            // does not apply to it.
            if let error, !(error == h2o_socket_error_ssl_cert_name_mismatch && connector.acceptsAnyName) {
                connector.fail("TLS handshake failed: \(String(cString: error))")
            } else {
                connector.succeed()
            }
        }
    }

    private var acceptsAnyName: Bool {
        switch tls?.trust {
        case .pinnedSHA256, .insecure: return true
        default: return false
        }
    }

    private func succeed() {
        guard let socket, let completion else { return }
        detach(socket)
        finish()
        completion(.success(RawStream(socket: socket)))
    }

    private func fail(_ message: String) {
        guard let completion else { return }
        if let socket {
            detach(socket)
            h2o_socket_close(socket)
        }
        finish()
        completion(.failure(TransportError(message)))
    }

    private func detach(_ socket: UnsafeMutablePointer<h2o_socket_t>) {
        self.socket = nil
        if let data = socket.pointee.data {
            socket.pointee.data = nil
            Unmanaged<StreamConnector>.fromOpaque(data).release()
        }
    }

    private func finish() {
        completion = nil
        timer?.cancel()
        timer = nil
        if let resolver { uv_cancel(UnsafeMutableRawPointer(resolver).assumingMemoryBound(to: uv_req_t.self)) }
    }
}
