/// Cuts a byte stream into frames.
///
/// Invariant: a frame is returned only when its length is within
/// `Frame.frameBytesMax` and its CRC matches; after the first error the
/// decoder stays failed (the stream must be closed: nothing after a bad
/// frame can be trusted).
public struct FrameDecoder {
    /// Why the stream is refused.
    public enum Failure: Error, Equatable {
        case frameTooLarge(bytes: Int)
        case emptyFrame
        case checksumMismatch
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: Failure?

    public init() {}

    /// Adds received bytes and returns every frame now complete.
    public mutating func feed(_ bytes: [UInt8]) throws -> [Frame] {
        if let failure { throw failure }
        buffer.append(contentsOf: bytes)
        var frames: [Frame] = []
        while buffer.count - start >= 4 {
            let length = Int(buffer.bigEndianUInt32(at: start))
            guard length >= 1 else { return try fail(.emptyFrame) }
            guard length + Frame.overheadBytes <= Frame.frameBytesMax else { return try fail(.frameTooLarge(bytes: length)) }
            let total = 4 + length + 4
            guard buffer.count - start >= total else { break }
            let body = buffer[(start + 4)..<(start + 4 + length)]
            guard CRC32C.checksum(body) == buffer.bigEndianUInt32(at: start + 4 + length) else { return try fail(.checksumMismatch) }
            frames.append(Frame(type: body.first!, payload: Array(body.dropFirst())))
            start += total
        }
        if start > 0, start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }

    private mutating func fail(_ reason: Failure) throws -> [Frame] {
        failure = reason
        buffer = []
        start = 0
        throw reason
    }
}
