import ArgumentParser
import Foundation
import Platform
import Transport

/// The files of a local main + standby pair under one directory: a demo
/// vendor key and license, each node's configuration and self-signed
/// certificate (made before the nodes start, so each can trust the other's),
/// and a shared cluster secret; with a witness, its configuration and
/// certificate too. What exists already is kept.
///
/// Invariant: after `init`, `config(name)` of both nodes exists; the main
/// listens on `port`, the standby on `port + 1`, a witness on `port + 2`.
public struct PairFiles {
    public static let names = ["main", "standby"]

    let directory: String
    let port: Int
    /// The demo license file, bound to any server.
    let license: String
    /// Each node's certificate and its SHA-256 fingerprint, main first.
    let nodes: [(certificate: String, fingerprint: String)]
    /// The witness's configuration file, when the pair has one.
    let witnessConfig: String?

    init(directory relative: String, port: Int, replication: String, witness: Bool = false, extraConfig: [String: Any] = [:]) throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        directory = URL(fileURLWithPath: relative, relativeTo: cwd).standardized.path
        self.port = port
        license = try Self.prepareVendor(in: directory)
        let base = directory
        nodes = try Self.names.map { name in try Self.prepareNode(name, base: base) }
        let secret = try Self.clusterSecret(in: directory)
        var extra = extraConfig
        if witness {
            let (config, fingerprint) = try Self.prepareWitness(base: directory, port: port + 2, secret: secret)
            witnessConfig = config
            extra["witness"] = ["url": "https://127.0.0.1:\(port + 2)/", "fingerprint": fingerprint]
        } else {
            witnessConfig = nil
        }
        for (index, name) in Self.names.enumerated() {
            try Self.writeConfig(name: name, index: index, base: directory, port: port, secret: secret, replication: replication,
                                 peerFingerprint: nodes[1 - index].fingerprint, extra: extra)
        }
    }

    func config(_ name: String) -> String { directory + "/\(name)/lts.json" }

    /// The witness's certificate (made before the nodes start, so they can
    /// pin it) and configuration, under `witness/`.
    private static func prepareWitness(base: String, port: Int, secret: String) throws -> (config: String, fingerprint: String) {
        let (_, fingerprint) = try prepareNode("witness", base: base)
        let config = base + "/witness/witness.json"
        let object: [String: Any] = ["listen": "127.0.0.1:\(port)", "dataDir": "data", "clusterSecret": secret]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try DurableFile.write(data, to: config, mode: 0o600)
        return (config, fingerprint)
    }

    /// `https://127.0.0.1:PORT/dls/` of node `index`.
    func url(_ index: Int) -> String { "https://127.0.0.1:\(port + index)/dls/" }

    /// The vendor key (made once) and a demo license file bound to any server.
    private static func prepareVendor(in base: String) throws -> String {
        let vendor = base + "/vendor"
        if !FileManager.default.fileExists(atPath: vendor + "/issuer.key") {
            _ = try VendorKey.write(into: vendor)
        }
        let license = base + "/demo-license.json"
        if !FileManager.default.fileExists(atPath: license) {
            _ = try LicenseIssue(key: vendor + "/issuer.key", org: "demo", boundTo: "*", items: [
                "product=dbr,edition=js,chargeWay=scan,quantity=1000000000,expires=2099-12-31",
                "product=dwt,chargeWay=device,window=month,quantity=50,expires=2099-12-31",
                "product=dcv,chargeWay=concurrentInstance,quantity=10,expires=2099-12-31",
            ], alias: nil, licenseId: nil, out: license).write()
        }
        return license
    }

    private static func prepareNode(_ name: String, base: String) throws -> (certificate: String, fingerprint: String) {
        let data = base + "/\(name)/data"
        // Only this user may read a node's files (its key, its database).
        try FileManager.default.createDirectory(atPath: data + "/tls", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        for directory in [base, base + "/\(name)", data, data + "/tls"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        }
        let certificate = data + "/tls/node.crt"
        _ = try SelfSignedCertificate.ensure(certificatePath: certificate, keyPath: data + "/tls/node.key", hostNames: ["127.0.0.1", "localhost"])
        return (certificate, try SelfSignedCertificate.fingerprint(certificatePath: certificate))
    }

    private static func clusterSecret(in base: String) throws -> String {
        let path = base + "/cluster.secret"
        if !FileManager.default.fileExists(atPath: path) {
            let secret = Crypto.hex(Crypto.randomBytes(24))
            guard FileManager.default.createFile(atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(path)")
            }
        }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    private static func writeConfig(name: String, index: Int, base: String, port: Int, secret: String, replication: String,
                                    peerFingerprint: String, extra: [String: Any]) throws {
        let url = { (port: Int) in "https://127.0.0.1:\(port)/dls/" }
        let selfPort = port + index
        let peerPort = port + 1 - index
        var config: [String: Any] = [
            "serverMode": "main_standby",
            "servers": index == 0 ? ["self", url(peerPort)] : [url(peerPort), "self"],
            "listen": "127.0.0.1:\(selfPort)",
            "publicUrl": url(selfPort),
            "dataDir": "data",
            "clusterSecret": secret,
            "replication": replication,
            "trustedIssuers": ["../vendor/issuer.pub"],
            // Pinned: client keys of this pair carry both fingerprints.
            "peerFingerprint": peerFingerprint,
        ]
        for (key, value) in extra { config[key] = value }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        // The config holds the cluster secret: this user only.
        try DurableFile.write(data, to: base + "/\(name)/lts.json", mode: 0o600)
    }
}
