/// The whole domain state of a node: imported licenses, item usage (also
/// split by handshake code), handshake codes, open leases, the admin
/// password and the audit log. Remembered answers to request IDs are kept
/// apart (`RequestBook`, or a node's store), so that the state
/// stays small however many requests a node remembers.
///
/// Invariant: the state is a deterministic function of the records applied
/// to it (`apply`); nothing here reads a clock, a file or a socket.
public struct LicenseState: Equatable {

    /// Usage of one license item.
    public struct ItemUsage: Equatable {
        public var item: LicenseItem
        public var licenseId: String
        /// Scans consumed (scan items).
        public var consumed: Int64 = 0
        /// Start of the window `devices` belongs to (device items).
        public var windowStart: Int64 = 0
        public var devices: Set<String> = []
        public var domains: Set<String> = []

        /// What the item counted, whatever the time: scans consumed, devices
        /// of the stored window, domains; 0 for concurrent items, whose use
        /// is their live leases. `CodeUsage` splits it by code.
        var unitsCounted: Int64 {
            switch item.chargeWay {
            case .scan: return consumed
            case .device: return Int64(devices.count)
            case .domain: return Int64(domains.count)
            case .concurrentInstance, .concurrentDevice: return 0
            }
        }
    }

    /// An open lease on a concurrent item.
    public struct Lease: Equatable {
        public var grantId: String
        public var itemId: String
        public var device: String
        public var handshakeCode: String
        public var expiresAt: Int64
    }

    /// A request ID is unique per client.
    public struct RequestKey: Hashable {
        public var clientUUID: String
        public var requestId: String

        public init(clientUUID: String, requestId: String) {
            self.clientUUID = clientUUID
            self.requestId = requestId
        }
    }

    public private(set) var licenses: [String: LicenseFile] = [:]
    public private(set) var items: [String: ItemUsage] = [:]
    public private(set) var handshakes: [String: Handshake] = [:]
    public private(set) var leases: [String: Lease] = [:]
    public private(set) var adminPassword: PasswordHash?
    public private(set) var grantsTotal: Int64 = 0
    /// Usage per 2-hour bucket, item and code (statistics).
    public private(set) var usage = UsageStatistics()
    /// Grants and refusals of the last hour (failure-rate and overuse alerts).
    public private(set) var recentCalls = RecentCalls()
    public private(set) var alerts = AlertBook()
    /// Alert settings saved in the portal; nil until the admin saves some.
    public private(set) var alertSettings: AlertSettings?
    /// The cluster's UUID (`LogRecord.clusterIdentity`); nil until logged.
    public private(set) var clusterUUID: String?
    /// Admin actions of the last 400 days (`AuditLog` states its bounds).
    public private(set) var audit = AuditLog()
    /// The last drill reports (`LogRecord.drillReport`).
    public private(set) var drills = DrillHistory()
    /// The counted use of items split by the code that brought it (read it with `usedByCode`).
    public private(set) var codeUsage = CodeUsage()

    public init() {}

    /// A state restored from a snapshot (`StateSnapshotCodec`).
    init(licenses: [String: LicenseFile], items: [String: ItemUsage], handshakes: [String: Handshake], leases: [String: Lease],
         adminPassword: PasswordHash?, grantsTotal: Int64,
         usage: UsageStatistics, recentCalls: RecentCalls, alerts: AlertBook, alertSettings: AlertSettings?, clusterUUID: String?,
         audit: AuditLog, drills: DrillHistory, codeUsage: CodeUsage) {
        self.licenses = licenses
        self.items = items
        self.handshakes = handshakes
        self.leases = leases
        self.adminPassword = adminPassword
        self.grantsTotal = grantsTotal
        self.usage = usage
        self.recentCalls = recentCalls
        self.alerts = alerts
        self.alertSettings = alertSettings
        self.clusterUUID = clusterUUID
        self.audit = audit
        self.drills = drills
        self.codeUsage = codeUsage
    }

    // MARK: Apply

    /// Applies one record. Records come from the log, so apply accepts each of
    /// them: one that names something unknown (possible only for records
    /// reconciled from another node) changes what it can and nothing else.
    public mutating func apply(_ record: LogRecord) {
        switch record {
        case .importLicense(let bytes, let code, _):
            guard let file = try? LicenseFile.parse(bytes), licenses[file.licenseId] == nil else { return }
            licenses[file.licenseId] = file
            for item in file.items where items[item.itemId] == nil {
                items[item.itemId] = ItemUsage(item: item, licenseId: file.licenseId)
            }
            if handshakes[code] == nil {
                handshakes[code] = Handshake(code: code, organizationId: file.organizationId, items: file.items.map(\.itemId))
            }
        case .putHandshake(let handshake, _):
            handshakes[handshake.code] = handshake
        case .deleteHandshake(let code, _):
            handshakes[code]?.deleted = true
        case .grant(let grant):
            applyGrant(grant)
        case .renewLease(let grantId, let expiresAt, _):
            leases[grantId]?.expiresAt = expiresAt
        case .releaseLease(let grantId, _):
            leases[grantId] = nil
        case .expire(let at):
            leases = leases.filter { $0.value.expiresAt > at }
            usage.prune(before: at - UsageStatistics.retentionSeconds)
            audit.expire(now: at)
        case .setAdminPassword(let hash, _):
            adminPassword = hash
        case .tallyCalls(let tally, let at):
            recentCalls.add(tally, at: at)
        case .alerts(let update, let at):
            alerts.apply(update, at: at)
        case .alertDelivery(let emailId, let error, let at):
            alerts.delivered(emailId: emailId, error: error, at: at)
        case .setAlertSettings(let settings, _):
            alertSettings = settings
        case .voidGrant(let grant, _):
            voidGrant(grant)
        case .clusterIdentity(let uuid, _):
            if clusterUUID == nil { clusterUUID = uuid }
        case .audit(let entry):
            audit.append(entry)
        case .drillReport(let drill):
            drills.add(drill)
        case .refusal, .grantAnsweredAgain:
            // They change only a remembered answer (`RequestBook`).
            break
        }
    }

    private mutating func applyGrant(_ grant: Grant) {
        grantsTotal += 1
        guard var usage = items[grant.itemId] else { return }
        self.usage.add(grant)
        recentCalls.granted(code: grant.handshakeCode, at: grant.at)
        if grant.grace, usage.item.chargeWay.isConcurrent { recentCalls.overused(itemId: grant.itemId, count: 1, at: grant.at) }
        switch usage.item.chargeWay {
        case .scan:
            usage.consumed += grant.amount
            codeUsage.add(grant.amount, itemId: grant.itemId, code: grant.handshakeCode)
        case .device:
            let window = usage.item.activeWindow!.start(containing: grant.at)
            if window > usage.windowStart {
                usage.windowStart = window
                usage.devices = []
                codeUsage.reset(itemId: grant.itemId)
            }
            // A device counts under the code that first registered it in the window.
            if usage.devices.insert(grant.clientUUID).inserted {
                codeUsage.add(1, itemId: grant.itemId, code: grant.handshakeCode)
            }
        case .domain:
            // A domain counts under the code that first brought it.
            if let domain = grant.domain, usage.domains.insert(domain).inserted {
                codeUsage.add(1, itemId: grant.itemId, code: grant.handshakeCode)
            }
        case .concurrentInstance, .concurrentDevice:
            if let expiresAt = grant.leaseExpiresAt {
                leases[grant.grantId] = Lease(grantId: grant.grantId, itemId: grant.itemId, device: grant.clientUUID,
                                              handshakeCode: grant.handshakeCode, expiresAt: expiresAt)
            }
        }
        items[grant.itemId] = usage
    }

    /// Gives back what `grant` charged: its scans, its lease. A device or
    /// domain stays counted (the same client or domain may hold another
    /// grant in the window), and statistics keep the grant.
    private mutating func voidGrant(_ grant: Grant) {
        guard var usage = items[grant.itemId] else { return }
        switch usage.item.chargeWay {
        case .scan:
            let left = max(0, usage.consumed - grant.amount)
            codeUsage.take(usage.consumed - left, itemId: grant.itemId, preferring: grant.handshakeCode)
            usage.consumed = left
        case .concurrentInstance, .concurrentDevice:
            leases[grant.grantId] = nil
        case .device, .domain:
            break
        }
        items[grant.itemId] = usage
    }

    // MARK: Reading

    /// Units in use of an item at `now`: scans consumed, devices in the
    /// current window, domains, or active leases (distinct devices for
    /// concurrentDevice).
    public func used(_ itemId: String, now: Int64) -> Int64 {
        guard let usage = items[itemId] else { return 0 }
        switch usage.item.chargeWay {
        case .scan: return usage.consumed
        case .device: return usage.windowStart == usage.item.activeWindow!.start(containing: now) ? Int64(usage.devices.count) : 0
        case .domain: return Int64(usage.domains.count)
        case .concurrentInstance: return Int64(activeLeases(itemId, now: now).count)
        case .concurrentDevice: return Int64(Set(activeLeases(itemId, now: now).map(\.device)).count)
        }
    }

    /// `used(itemId, now:)` split by handshake code: the scans each code
    /// consumed, the devices (of the current window) and domains each code
    /// registered first, the active leases each code holds (for
    /// concurrentDevice, a device that leases under several codes counts
    /// under the first of them in code order).
    ///
    /// Invariant: the split's `total` is `used(itemId, now:)`.
    public func usedByCode(_ itemId: String, now: Int64) -> CodeUsage.Split {
        guard let usage = items[itemId] else { return CodeUsage.Split() }
        switch usage.item.chargeWay {
        case .scan, .domain:
            return codeUsage.splits[itemId] ?? CodeUsage.Split()
        case .device:
            guard usage.windowStart == usage.item.activeWindow!.start(containing: now) else { return CodeUsage.Split() }
            return codeUsage.splits[itemId] ?? CodeUsage.Split()
        case .concurrentInstance:
            var byCode: [String: Int64] = [:]
            for lease in activeLeases(itemId, now: now) { byCode[lease.handshakeCode, default: 0] += 1 }
            return CodeUsage.Split(byCode: byCode)
        case .concurrentDevice:
            var codeOfDevice: [String: String] = [:]
            for lease in activeLeases(itemId, now: now) {
                codeOfDevice[lease.device] = min(codeOfDevice[lease.device] ?? lease.handshakeCode, lease.handshakeCode)
            }
            var byCode: [String: Int64] = [:]
            for code in codeOfDevice.values { byCode[code, default: 0] += 1 }
            return CodeUsage.Split(byCode: byCode)
        }
    }

    func activeLeases(_ itemId: String, now: Int64) -> [Lease] {
        leases.values.filter { $0.itemId == itemId && $0.expiresAt > now }
    }

    /// True when an `expire(at: now)` record would change the state (the
    /// keeper of remembered answers says apart whether it would forget one).
    public func needsExpiry(now: Int64) -> Bool {
        if leases.values.contains(where: { $0.expiresAt <= now }) { return true }
        return usage.hasBuckets(endingBy: now - UsageStatistics.retentionSeconds) || audit.needsExpiry(now: now)
    }

    /// The items of a handshake code in the order grants try them: as the
    /// admin fixed it, or closest expiry first, then most specific (an item
    /// with an edition before one without), then by ID.
    public func orderedItems(of handshake: Handshake) -> [LicenseItem] {
        let present = handshake.items.compactMap { items[$0]?.item }
        guard !handshake.explicitOrder else { return present }
        return present.sorted {
            if $0.expiresAt != $1.expiresAt { return $0.expiresAt < $1.expiresAt }
            if ($0.edition != nil) != ($1.edition != nil) { return $0.edition != nil }
            return $0.itemId < $1.itemId
        }
    }

    public static func == (lhs: LicenseState, rhs: LicenseState) -> Bool {
        lhs.licenses == rhs.licenses && lhs.items == rhs.items && lhs.handshakes == rhs.handshakes && lhs.leases == rhs.leases
            && lhs.adminPassword == rhs.adminPassword && lhs.grantsTotal == rhs.grantsTotal
            && lhs.usage == rhs.usage && lhs.recentCalls == rhs.recentCalls && lhs.alerts == rhs.alerts
            && lhs.alertSettings == rhs.alertSettings && lhs.clusterUUID == rhs.clusterUUID && lhs.audit == rhs.audit
            && lhs.drills == rhs.drills && lhs.codeUsage == rhs.codeUsage
    }
}
