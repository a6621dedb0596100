import Foundation
import LicenseState
import Replication

/// A few valid inputs of each target, made with the real encoders, from
/// which the fuzzer mutates. `lts-fuzz --write-seeds fuzz/corpus` wrote the
/// ones the repository keeps.
///
/// Invariant: every seed is accepted by its target's reader.
public enum FuzzSeeds {
    public static func seeds(of target: FuzzTarget) -> [[UInt8]] {
        switch target {
        case .licenseFile:
            return [Array(licenseFile.utf8)]
        case .clientCall:
            return [#"{"handshakeCode":"acme-1","clientUUID":"c-1","product":"dbr","requestId":"r-1","scans":3,"attempt":1}"#,
                    #"{"handshakeCode":"acme-1","clientUUID":"c-1","product":"dbr","domain":"example.com","sessionPassword":"s3cret"}"#]
                .map { Array($0.utf8) }
        case .config:
            return [#"{"serverMode":"main_standby","servers":["self","https://standby.corp.test:48080/dls/"],"listen":"0.0.0.0:48080","#
                    + #""clusterSecret":"a-long-enough-secret","connections":{"max":100},"alerts":{"recipients":["ops@example.com"]}}"#,
                    #"{"serverMode":"standalone","listen":"127.0.0.1:0","dataDir":"data","http2":true}"#,
                    #"{"servers":["self","https://10.0.0.2:48080/dls/"],"clusterSecret":"a-long-enough-secret","#
                    + #""trustedProxies":["127.0.0.1","10.0.0.0/8","2001:db8::/32"],"publicUrl":"https://lts-a.corp.test/dls/","#
                    + #""publicTrust":"system","peerPublicUrl":"https://lts-b.corp.test/dls/","peerPublicTrust":"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:88"}"#]
                .map { Array($0.utf8) }
        case .replicationFrames:
            return [messages.flatMap { ReplicationMessageCodec.encode($0).encoded() }]
        case .replicationMessage:
            return messages.map { message in
                let frame = ReplicationMessageCodec.encode(message)
                return [frame.type] + frame.payload
            }
        case .snapshot:
            return [StateSnapshotCodec.encode(LicenseState())]
        case .logRecord:
            return records.map(LogRecordCodec.encode)
        case .http1Response:
            return ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnopeHTTP/1.1 204 No Content\r\n\r\n"].map { Array($0.utf8) }
        }
    }

    /// A file `lts license issue` signed (with a vendor key made for it and not kept).
    private static let licenseFile = #"{"alias":"acme","boundTo":"*","issuedAt":"2026-12-07T04:10:00Z","issuerKeyId":"c2162aa2246eb474""#
        + #","items":[{"chargeWay":"scan","expiresAt":"2099-12-31T23:59:59Z","itemId":"s","product":"dbr","q"#
        + #"uantity":100,"startsAt":"2026-01-01T00:00:00Z"}],"licenseId":"L-1","organizationId":"acme","sign"#
        + #"ature":"lmkjOSy9hzsjS7KnaKmVaa0UeKFzRO4BPpMYnMlVto+6Eiu/ocbI52c4jCca1iVswlObxiKygTYZZz89fi6aCw=="#
        + #""}"#

    private static let grant = Grant(grantId: "g-1", kind: .authorize, requestId: "r-1", handshakeCode: "acme-1", clientUUID: "c-1",
                                     itemId: "s", amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: 1_780_000_000)

    private static let records: [LogRecord] = [.grant(grant), .deleteHandshake(code: "acme-1", at: 1_780_000_000),
                                               .expire(at: 1_780_000_001),
                                               .audit(AuditEntry(at: 1_780_000_002, actor: "anonymous", address: "192.0.2.1", action: .login,
                                                                 object: "", refusalCode: -20201))]

    private static let messages: [ReplicationMessage] = [
        .hello(term: 2, session: 7, nodeIndex: 1, history: TermHistory()),
        .append(term: 2, session: 7, prevLsn: 0, prevTerm: 0,
                entries: [ReplicatedEntry(lsn: 1, term: 2, payload: LogRecordCodec.encode(.grant(grant)))], commitLsn: 0),
        .heartbeat(term: 2, session: 7, commitLsn: 1, sentLsn: 1, sentAtMs: 5),
        .ack(term: 2, session: 7, flushedLsn: 1),
        .snapshotChunk(term: 2, session: 7, id: 1, offset: 0, totalBytes: 3, bytes: [1, 2, 3]),
    ]
}
