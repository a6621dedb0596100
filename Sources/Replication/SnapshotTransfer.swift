/// A snapshot on its way from a primary to its standby, as the primary
/// sees it: go-back-N over chunks, within a window of unacknowledged bytes.
///
/// Invariant: `ackedBytes <= sentBytes <= totalBytes` once the size is
/// known; before that (`totalBytes == nil`, the store is still being
/// copied) nothing is sent.
public struct SnapshotTransfer: Equatable {
    /// Names this transfer: different for every transfer a primary starts.
    public var id: UInt64
    public var totalBytes: UInt64?
    public var sentBytes: UInt64 = 0
    public var ackedBytes: UInt64 = 0
    /// When the standby last acknowledged something (or the transfer began).
    public var lastProgressMs: UInt64
    /// What the standby's latest acknowledgement said it holds, which may
    /// be less than `ackedBytes`: a late first chunk of an older transfer
    /// can make it start over. A stalled transfer goes back to it.
    public var reportedBytes: UInt64?

    public var isComplete: Bool { totalBytes.map { ackedBytes == $0 } ?? false }
}

/// A snapshot arriving at a standby: the bytes so far, in order, of the
/// transfer `id`.
///
/// Invariant: `receivedBytes <= totalBytes`.
public struct IncomingSnapshot: Equatable {
    public var id: UInt64
    public var totalBytes: UInt64
    public var receivedBytes: UInt64
}
