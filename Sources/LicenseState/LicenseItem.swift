/// One license item: a quota of a product, counted one way, valid in a time range.
///
/// Invariant: `quantity > 0`, `startsAt < expiresAt`; `activeWindow` is set
/// exactly for `device` items; `leaseSeconds > 0` for concurrent items.
public struct LicenseItem: Equatable, Hashable {
    /// Days every item keeps working past `expiresAt` (grants marked grace).
    public static let graceSeconds: Int64 = 7 * UTCTime.secondsPerDay
    /// Lease length when the file names none.
    public static let defaultLeaseSeconds: Int64 = 180

    public var itemId: String
    public var product: String
    public var edition: String?
    public var chargeWay: ChargeWay
    public var quantity: Int64
    public var startsAt: Int64
    public var expiresAt: Int64
    public var activeWindow: ActiveWindow?
    public var leaseSeconds: Int64

    public init(itemId: String, product: String, edition: String?, chargeWay: ChargeWay, quantity: Int64, startsAt: Int64,
                expiresAt: Int64, activeWindow: ActiveWindow?, leaseSeconds: Int64) {
        self.itemId = itemId
        self.product = product
        self.edition = edition
        self.chargeWay = chargeWay
        self.quantity = quantity
        self.startsAt = startsAt
        self.expiresAt = expiresAt
        self.activeWindow = activeWindow
        self.leaseSeconds = leaseSeconds
    }

    /// Characters of the item ID a display name shows.
    public static let shortIdLength = 8

    /// The one name people read for the item, in alert emails and in the
    /// portal: its product, its edition when it has one, and the start of
    /// its ID, which tells apart two items of one product:
    /// "dbr js (item 3f2a1b9c)".
    public var displayName: String {
        let name = edition.map { "\(product) \($0)" } ?? product
        return "\(name) (item \(itemId.prefix(Self.shortIdLength)))"
    }

    /// The most that may be used, grace included.
    public var limitWithGrace: Int64 {
        quantity + quantity * chargeWay.graceOverrunPerMille / 1000
    }
}
