import Foundation
import LicenseClient
import LicenseState
import Logging
import Platform
import Replication
import Transport

/// A running lts node: one event loop, one HTTPS server, one locked data
/// directory.
///
/// Invariant: everything after `init` runs on the loop thread; the node
/// stops gracefully on SIGINT or SIGTERM (no new connections, requests in
/// flight answered, then the loop ends).
public final class Node {
    /// Longest wait for requests in flight when stopping.
    static let drainTimeoutMs: UInt64 = 10_000
    /// How often expired leases are looked for.
    static let expiryCheckMs: UInt64 = 1_000

    let config: Config
    let logger: Logger
    let loop = EventLoop()
    let dataDirectory: DataDirectory
    private var server: HTTPServer?
    private var signals: [SignalWatcher] = []
    private var portal: StaticFiles?
    private var healthCache: (report: HealthReport, body: Data)?
    private var service: LicenseService?
    private var clientAPI: ClientAPI?
    private var adminAPI: AdminAPI?
    private var driver: ClusterDriver?
    private var clusterAPI: ClusterAPI?
    private var metricsAPI: MetricsAPI?
    /// How long callbacks hold the loop (a metric).
    private var lagProbe: LoopLagProbe?
    private var busyProbe: LoopBusyProbe?
    private var clientKeyAPI: ClientKeyAPI?
    private var auditAPI: AuditAPI?
    private var statsAPI: StatsAPI?
    private var backupAPI: BackupAPI?
    private var alertsAPI: AlertsAPI?
    private var alertMonitor: AlertMonitor?
    private var expiryTimer: LoopTimer?
    private var identityTimer: LoopTimer?
    private var passwordReset: PendingPasswordReset?
    /// The thread every password hash runs on.
    private var passwords: PasswordWork?
    private var limitLog = ConnectionLimitLog()
    /// One line a minute at most for trusted proxies' malformed X-Forwarded-For.
    private var forwardingProblemLog = LoginRateLimiter(failuresMax: 1)
    private var certificateReloader: CertificateReloader?
    private var joinAPI: JoinAPI?
    /// A standby joined (`JoinAPI`): the process should start again on the
    /// configuration file, now the main's of a pair, once `run` returns.
    public private(set) var restartRequested = false

    /// Serve a log that ends before this data dir's `LogMark` (the operator
    /// accepted that what came after is gone).
    let acceptDataLoss: Bool

    public init(config: Config, logger: Logger, acceptDataLoss: Bool = false) throws {
        self.config = config
        self.logger = logger
        self.acceptDataLoss = acceptDataLoss
        dataDirectory = try DataDirectory(path: config.dataDir)
    }

    /// Serves until a stop signal; returns after the loop ended.
    public func run() throws {
        LargeAllocations.returnToSystemWhenFreed()
        try start()
        loop.run()
        loop.close()
        logger.info("stopped")
    }

    private func start() throws {
        portal = try Self.loadPortal()
        let issuers = try TrustedIssuers.load(paths: config.trustedIssuers)
        let store = try LicenseStore(directory: dataDirectory.path)
        let service = try LicenseService(loop: loop, store: store) { [logger] error in
            logger.critical("cannot use the store (\(error)); stopping so that no unrecorded grant is acknowledged")
            exit(1)
        }
        self.service = service
        try checkLogMark(service)
        service.onCheckpointRefused = { [logger] lsn in
            logger.error("the state at lsn \(lsn) does not decode again, so no checkpoint was written and the log is kept; please report this")
        }
        service.onDiskFull = { [logger] full in
            if full {
                logger.error("the data dir's disk is full: writes are refused (-20006) and the store's write is retried every second until space is freed; reads and health go on")
            } else {
                logger.notice("the data dir's disk has room again: the store caught up and writes are taken")
            }
        }
        logger.info("log replayed: term \(service.term), lsn \(service.lastLsn) (checkpoint at \(service.checkpointLsn)), \(service.state.items.count) license items")
        let passwords = PasswordWork(loop: loop)
        self.passwords = passwords
        let trail = AuditTrail(loop: loop, service: service, logger: logger) { [weak self] in
            (self?.acceptsWrites ?? false) && service.backlogRefusal == nil
        }
        let tokenKey = try tokenKey()
        // Both nodes of a pair derive it from the cluster secret: each checks what the other hashed.
        let sessionPasswordKey = Crypto.hmacSHA256(key: tokenKey, message: Array("lts session password key".utf8))
        let drillPass = DrillPass(tokenKey: tokenKey)
        clientAPI = ClientAPI(loop: loop, service: service, tokens: GrantToken(key: tokenKey), passwords: passwords,
                              sessionPasswordKey: sessionPasswordKey, drillPass: drillPass)
        let adminAPI = AdminAPI(loop: loop, service: service, issuers: issuers, nodeUUID: dataDirectory.nodeUUID,
                                secureCookie: config.tls != .off, passwords: passwords,
                                setupToken: try SetupToken(dataDirectory: dataDirectory.path, passwordSet: service.state.adminPassword != nil,
                                                           logger: logger),
                                sessionPasswordKey: sessionPasswordKey, trail: trail, logger: logger)
        self.adminAPI = adminAPI
        auditAPI = AuditAPI(loop: loop, service: service, admin: adminAPI)
        if config.serverMode == .mainStandby {
            let peerIsHTTPS = config.peerURL.flatMap { URLComponents(string: $0)?.scheme } == "https"
            let peerKeys = peerIsHTTPS ? try PeerKeys(path: dataDirectory.peerKeysPath) : nil
            let peerTLS = try peerKeys.map { try TLSClientContext(trust: config.peerTrust, keyPins: $0.keys) }
            // An `lts witness` URL is always https (Config checks it).
            var witnessKeys: PeerKeys?
            if case .lts? = config.witness {
                witnessKeys = try PeerKeys(path: dataDirectory.witnessKeysPath, peer: "witness", pinSetting: "witness.fingerprint")
            }
            let driver = try ClusterDriver(loop: loop, config: config, service: service, nodeUUID: dataDirectory.nodeUUID,
                                           peerTLS: peerTLS, peerKeys: peerKeys, witnessKeys: witnessKeys,
                                           pairedPeer: try PairedPeer(path: dataDirectory.pairedPeerPath), logger: logger)
            self.driver = driver
            // A new primary gives the cluster its identity at once if it has none
            // (after the effects of its promotion, not inside them).
            driver.onChange = { [weak self] in
                guard let self else { return }
                self.identityTimer = LoopTimer(loop: self.loop, delayMs: 0) { [weak self] in self?.logClusterIdentity() }
            }
        } else {
            service.compaction = LogCompaction(everyRecords: UInt64(config.logCheckpointRecords),
                                               retainedRecords: UInt64(config.logRetainedRecords),
                                               checkpointLsn: service.checkpointLsn, compactedLsn: service.compactedLsn)
        }
        if let driver {
            clusterAPI = ClusterAPI(loop: loop, driver: driver, service: service, admin: adminAPI, nodeUUID: dataDirectory.nodeUUID,
                                    drillPass: drillPass)
        }
        statsAPI = StatsAPI(loop: loop, service: service, admin: adminAPI)
        backupAPI = BackupAPI(loop: loop, service: service, admin: adminAPI, dataDir: dataDirectory.path, nodeUUID: dataDirectory.nodeUUID,
                              logger: logger) { [weak self] in self?.driver?.replica.role.rawValue ?? "standalone" }
        let box = try NodeSecretBox.make(config: config, dataDirectory: dataDirectory.path)
        let alertConfiguration = { [config] in AlertConfiguration.resolve(state: service.state, config: config, box: box) }
        let canWrite = { [weak self] in self?.acceptsWrites ?? false }
        let mailer = AlertMailer(loop: loop, service: service, logger: logger, serverName: ownURL(), configuration: alertConfiguration,
                                 canWrite: canWrite)
        let clientAPI = self.clientAPI
        let alertMonitor = AlertMonitor(loop: loop, service: service, driver: driver, nodeUUID: dataDirectory.nodeUUID, mailer: mailer,
                                        configuration: alertConfiguration, canWrite: canWrite,
                                        takeTally: { clientAPI?.takeTally() ?? CallTally() })
        self.alertMonitor = alertMonitor
        alertsAPI = AlertsAPI(service: service, admin: adminAPI, monitor: alertMonitor, box: box, configuration: alertConfiguration)
        let lagProbe = LoopLagProbe(loop: loop), busyProbe = LoopBusyProbe(loop: loop) { [logger] busyNs in
            logger.warning("the event loop worked \(busyNs / 1_000_000) ms in one turn: answers and heartbeats waited that long")
        }
        self.lagProbe = lagProbe
        self.busyProbe = busyProbe
        if let clientAPI {
            metricsAPI = MetricsAPI(service: service, clientAPI: clientAPI, driver: driver, alerts: alertMonitor, lagProbe: lagProbe,
                                    busyProbe: busyProbe)
        }
        logClusterIdentity()
        expiryTimer = LoopTimer(loop: loop, delayMs: Self.expiryCheckMs, repeatMs: Self.expiryCheckMs) { [weak self] in
            self?.logClusterIdentity()
            self?.expireLeases()
        }
        passwordReset = PendingPasswordReset(loop: loop, service: service, dataDirectory: dataDirectory.path, logger: logger, trail: trail,
                                             canWrite: { [weak self] in self?.acceptsWrites ?? false },
                                             endSessions: { adminAPI.endAllSessions() })
        let tls = try makeTLS()
        let ownFingerprint = config.tls == .selfSigned
            ? SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: dataDirectory.certificatePath)) : nil
        let ownURL = ownURL()
        joinAPI = JoinAPI(loop: loop, config: config, dataDirectory: dataDirectory, logger: logger) { [weak self] in
            self?.restartRequested = true
            self?.stop(because: "a standby joined: restarting as the main of the pair")
        }
        clientKeyAPI = ClientKeyAPI(service: service, admin: adminAPI,
                                    servers: try ClientKeyAPI.servers(of: config, ownURL: ownURL, ownFingerprint: ownFingerprint))
        let routes = makeRoutes()
        let descriptors = ConnectionLimits.raiseDescriptorLimit()
        let server = HTTPServer(loop: loop, router: routes.router, tls: tls, http2: config.http2,
                                bodyLimitBytesMax: routes.bodyLimitBytesMax, limits: config.connections.limits(descriptors: descriptors))
        server.onLimit = { [weak self] event, address in
            guard let self, let line = self.limitLog.note(event, address: address, nowMs: self.loop.nowMs) else { return }
            self.logger.warning("\(line)")
        }
        server.trustedProxies = config.trustedProxies
        server.onForwardingProblem = { [weak self] problem in
            guard let self, self.forwardingProblemLog.allows("x-forwarded-for", nowMs: self.loop.nowMs) else { return }
            self.forwardingProblemLog.recordFailure("x-forwarded-for", nowMs: self.loop.nowMs)
            self.logger.warning("a request answered 400: \(problem) (one line a minute at most)")
        }
        self.server = server
        certificateReloader = CertificateReloader(loop: loop, setting: config.tls, dataDirectory: dataDirectory, hostNames: config.hostNames,
                                                  http2: config.http2, logger: logger) { [weak server] in server?.replaceTLS($0) }
        metricsAPI?.server = server
        metricsAPI?.certificate = certificateReloader
        metricsAPI?.passwords = passwords
        let port = try server.listen(host: config.listenHost, port: config.listenPort)
        alertMonitor.start()
        // Before the line that says the node is up: a stop asked for right after it is a clean stop.
        for signum in [SIGINT, SIGTERM] {
            signals.append(SignalWatcher(loop: loop, signal: signum) { [weak self] signum in self?.stop(because: "received signal \(signum)") })
        }
        let scheme = tls == nil ? "http" : "https"
        logger.info("node \(dataDirectory.nodeUUID) listening on \(scheme)://\(config.listenHost):\(port)/dls/ (portal: /dls/page/#/index.html)")
    }

    private func stop(because reason: String) {
        logger.info("\(reason): no new connections, finishing requests in flight")
        signals.forEach { $0.cancel() }
        let deadline = LoopTimer(loop: loop, delayMs: Self.drainTimeoutMs) { [weak self] in
            self?.logger.warning("requests still in flight after \(Self.drainTimeoutMs) ms; stopping anyway")
            self?.loop.stop()
        }
        expiryTimer?.cancel()
        identityTimer?.cancel()
        lagProbe?.cancel()
        busyProbe?.cancel()
        passwordReset?.cancel()
        alertMonitor?.cancel()
        certificateReloader?.cancel()
        backupAPI?.close()
        statsAPI?.close()
        server?.stopAccepting { [weak self] in
            deadline.cancel()
            self?.server?.close()
            self?.driver?.close()
            self?.passwords?.close()
            self?.service?.close()
            self?.loop.stop()
        }
    }

    /// This node's URL as clients and emails name it.
    private func ownURL() -> String {
        config.publicUrl ?? "\(config.tls == .off ? "http" : "https")://\(config.listenHost):\(config.listenPort)/dls/"
    }

    /// True while this node writes the log (primary or standalone).
    private var acceptsWrites: Bool { driver?.writeRefusal() == nil }

    /// Writes an `expire` record when a lease ran out or a request ID aged out.
    private func expireLeases() {
        guard let service, acceptsWrites else { return }
        let now = WallClock.nowSeconds()
        if service.state.needsExpiry(now: now) || service.answers.needsExpiry(now: now) { service.commit(.expire(at: now), request: nil) { _ in } }
    }

    /// Refuses a log that ends before the mark this data dir wrote (its
    /// database was deleted, or replaced by an older copy), unless the
    /// operator accepted the loss.
    private func checkLogMark(_ service: LicenseService) throws {
        guard let marked = LogMark.read(dataDir: dataDirectory.path), service.lastLsn < marked else { return }
        let database = service.store.path
        guard acceptDataLoss else {
            throw DataLossRefusal(description: "the log of \(database) ends at lsn \(service.lastLsn), but this data dir held lsn \(marked) (\(LogMark.path(dataDir: dataDirectory.path))): the database was deleted, rolled back or replaced by an older copy. Restore the newest copy of \(database) (with its -wal file) and start again. In a pair, the other node may hold the rest: make it the primary first, then start this one with --accept-data-loss, and it catches up from its peer. To serve from lsn \(service.lastLsn) and lose what came after, start it with lts serve --accept-data-loss")
        }
        logger.warning("the log ends at lsn \(service.lastLsn), before lsn \(marked) this data dir held: serving from it, as --accept-data-loss asks; records \(service.lastLsn + 1) to \(marked) are lost here")
        LogMark.write(dataDir: dataDirectory.path, lsn: service.lastLsn)
    }

    /// Gives the cluster its UUID: the first node to write the log (a
    /// standalone node at start, a pair's first primary) logs a new one.
    private func logClusterIdentity() {
        guard let service, acceptsWrites,
              let record = service.state.decideClusterIdentity(uuid: UUID().uuidString.lowercased(), now: WallClock.nowSeconds()) else { return }
        service.commit(record, request: nil) { [logger] entry in
            logger.notice("cluster UUID \(service.state.clusterUUID ?? "") logged at lsn \(entry.lsn): license files bound to it are valid on either node")
        }
    }

    /// The key of grant tokens: derived from the cluster secret in a pair (both
    /// nodes check each other's tokens), else random and kept in the data dir.
    private func tokenKey() throws -> [UInt8] {
        if let secret = config.clusterSecret { return GrantToken.key(clusterSecret: secret) }
        let path = dataDirectory.path + "/token.key"
        if let data = FileManager.default.contents(atPath: path), data.count == 32 { return Array(data) }
        let key = Crypto.randomBytes(32)
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw StoreFailure("cannot write \(path)")
        }
        return key
    }

    private func makeTLS() throws -> TLSServerContext? {
        try ServerCertificate.context(for: config.tls, dataDirectory: dataDirectory, hostNames: config.hostNames, http2: config.http2,
                                      logger: logger)
    }

    // MARK: Routes

    private func makeRoutes() -> (router: Router<HTTPServer.Route>, bodyLimitBytesMax: Int) {
        var router = Router<HTTPServer.Route>()
        let routes: [RouteSpec] = [
            ("GET", "/api/health", HTTPServer.Route { [unowned self] request in self.health(request) }),
            ("GET", "/page", HTTPServer.Route { request in
                request.respond(status: 301, headers: [("location", request.path + "/")], body: Data())
            }),
            ("GET", "/page/*", HTTPServer.Route { [unowned self] request in self.portalFile(request) }),
        ]
        let clientRoutes = (clientAPI?.routes ?? []).map(gated).map(crossOriginClient)
        let preflights: [RouteSpec] = clientRoutes.map { spec in
            ("OPTIONS", spec.pattern, HTTPServer.Route { [unowned self] request in
                CrossOrigin.answerPreflight(request, state: self.service?.state ?? LicenseState())
            })
        }
        let adminRoutes = (adminAPI?.routes ?? []).map(gated) + (clientKeyAPI?.routes ?? []) + (clusterAPI?.routes ?? [])
            + (statsAPI?.routes ?? []) + (alertsAPI?.routes ?? []).map(gated) + (auditAPI?.routes ?? []) + (backupAPI?.routes ?? [])
        var all = routes + clientRoutes + preflights + adminRoutes.map(sameOriginAdmin) + (joinAPI?.routes ?? []) + (metricsAPI?.routes ?? [])
        if let driver {
            all.append(("GET", "/cluster/stream", HTTPServer.Route { request in driver.accept(request) }))
        }
        for (method, pattern, route) in all { router.add(method, pattern, route) }
        return (router, all.map(\.2.bodyLimitBytes).max() ?? HTTPServer.defaultBodyLimitBytes)
    }

    /// Besides reads (GET), a standby serves login and logout: sessions live
    /// in each node's memory.
    private static let routesServedByStandby: Set<String> = ["/api/admin/login", "/api/admin/logout"]

    /// A route that changes the log answers only on the primary: a standby
    /// answers 421 naming the primary.
    private func gated(_ spec: RouteSpec) -> RouteSpec {
        guard spec.method != "GET", !Self.routesServedByStandby.contains(spec.pattern) else { return spec }
        let route = spec.route
        return (spec.method, spec.pattern, HTTPServer.Route(bodyLimitBytes: route.bodyLimitBytes) { [unowned self] request in
            if let refusal = self.driver?.writeRefusal() ?? self.service?.backlogRefusal { return request.respond(error: refusal) }
            route.handler(request)
        })
    }

    /// A client route answers web pages of the origins handshake codes
    /// allow, every answer (refusals and redirects included).
    private func crossOriginClient(_ spec: RouteSpec) -> RouteSpec {
        let route = spec.route
        return (spec.method, spec.pattern, HTTPServer.Route(bodyLimitBytes: route.bodyLimitBytes) { [unowned self] request in
            request.responseHeaders = CrossOrigin.clientHeaders(for: request, state: self.service?.state ?? LicenseState())
            route.handler(request)
        })
    }

    /// An admin route answers only the node's own pages.
    private func sameOriginAdmin(_ spec: RouteSpec) -> RouteSpec {
        guard spec.pattern.hasPrefix("/api/admin/") else { return spec }
        let route = spec.route
        return (spec.method, spec.pattern, HTTPServer.Route(bodyLimitBytes: route.bodyLimitBytes) { request in
            guard CrossOrigin.isSameOrigin(request) else { return request.respond(error: CrossOrigin.crossOriginAdmin(request.header("origin") ?? "")) }
            route.handler(request)
        })
    }

    /// Monitors and clients poll health constantly and JSONEncoder was most of
    /// its cost (bench/http.sh), so the body is encoded once per change of
    /// the report, not once per request.
    private func health(_ request: HTTPRequest) {
        var report = HealthReport(role: "standalone", term: service?.term ?? 0, lsn: service?.lastLsn ?? 0,
                                  uuid: dataDirectory.nodeUUID, clusterUuid: service?.state.clusterUUID, version: Version.current)
        if service?.diskFull == true { report.diskFull = true }
        if let driver, let clusterAPI {
            report.role = driver.replica.role.rawValue
            report.term = driver.replica.term
            report.degraded = driver.replica.degraded
            report.peer = HealthReport.Peer(url: driver.peerURL, state: clusterAPI.peerState, heldForUpgrade: driver.peerHeldForUpgrade)
            report.witness = driver.witnessStatus.map { HealthReport.Witness(url: $0.url, reachable: $0.reachable, lease: $0.leaseRemainingMs > 0) }
        }
        if healthCache?.report != report {
            healthCache = (report, HTTPRequest.encodeJSON(report))
        }
        request.respond(status: 200, headers: [("content-type", "application/json")], body: healthCache!.body)
    }

    private func portalFile(_ request: HTTPRequest) {
        guard let file = portal?.file(request.parameters["*"] ?? "") else {
            request.respond(error: .notFound(request.path))
            return
        }
        // The security headers (content security policy included) come with
        // every answer (HTTPServer.securityHeaders). Portal files may be
        // kept, but checked again before each use: a new lts version brings new ones.
        request.respond(status: 200, headers: [("content-type", file.contentType), ("cache-control", "no-cache")], body: file.body)
    }

    private static func loadPortal() throws -> StaticFiles {
        guard let directory = Bundle.module.url(forResource: "Portal", withExtension: nil) else {
            throw TransportError("the portal files are missing from the lts installation")
        }
        return try StaticFiles(directory: directory.path)
    }
}
