import ClusterNode
import Foundation
import LicenseState
import Replication
import Transport

/// One reader of bytes from outside the process, as the fuzzer drives it:
/// license files, client call bodies, configuration files, the replication
/// stream (its framing and its messages), snapshots and log records from
/// disk or the peer, and HTTP/1 responses (the witness, the etcd gateway).
///
/// Invariant: `run` returns for every input: a reader refuses bad bytes by
/// throwing, never by trapping, hanging or reading out of bounds. It tells
/// whether the reader accepted the input whole.
public enum FuzzTarget: String, CaseIterable {
    case licenseFile = "license-file"
    case clientCall = "client-call"
    case config
    case replicationFrames = "replication-frames"
    case replicationMessage = "replication-message"
    case snapshot
    case logRecord = "log-record"
    case http1Response = "http1-response"

    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .licenseFile:
            return (try? LicenseFile.parse(bytes)) != nil
        case .clientCall:
            let authorize = (try? ClientCallBody.read(Data(bytes), kind: .authorize)) != nil
            let report = (try? ClientCallBody.read(Data(bytes), kind: .report)) != nil
            return authorize || report
        case .config:
            return (try? Config.parse(Data(bytes), baseDirectory: "/nonexistent")) != nil
        case .replicationFrames:
            // In two reads, as a stream delivers it.
            var decoder = FrameDecoder()
            let half = bytes.count / 2
            var accepted = true
            for part in [Array(bytes[..<half]), Array(bytes[half...])] {
                guard let frames = try? decoder.feed(part) else { return false }
                for frame in frames where (try? ReplicationMessageCodec.decode(frame)) == nil { accepted = false }
            }
            return accepted
        case .replicationMessage:
            // A frame whose checksum held: its type byte, then its payload.
            guard let type = bytes.first else { return false }
            return (try? ReplicationMessageCodec.decode(Frame(type: type, payload: Array(bytes.dropFirst())))) != nil
        case .snapshot:
            return (try? StateSnapshotCodec.decodeWithRequests(bytes)) != nil
        case .logRecord:
            return (try? LogRecordCodec.decode(bytes)) != nil
        case .http1Response:
            var reader = HTTP1ResponseReader()
            let half = bytes.count / 2
            guard let first = try? reader.feed(Array(bytes[..<half])), let rest = try? reader.feed(Array(bytes[half...])) else { return false }
            return !(first + rest).isEmpty
        }
    }
}
