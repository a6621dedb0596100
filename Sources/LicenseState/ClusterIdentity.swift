/// The rules of a pair's identity: the cluster UUID a node logs once
/// (`LogRecord.clusterIdentity`) and the UUIDs a license file may be bound to.
///
/// Invariant: a well-formed UUID is the 36-character lowercase text form
/// (8-4-4-4-12 hex digits), as `UUID().uuidString.lowercased()` writes it.
public enum ClusterIdentity {
    public static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) else {
                    return false
                }
            }
        }
        return true
    }

    /// Whether a file bound to `boundTo` may be imported here: `"*"`, the
    /// cluster's UUID (valid on either node of a pair), or this node's own
    /// UUID (files issued before the pair had one identity).
    public static func accepts(boundTo: String, clusterUUID: String?, nodeUUID: String) -> Bool {
        let bound = boundTo.lowercased()
        return bound == "*" || bound == clusterUUID || bound == nodeUUID.lowercased()
    }
}
