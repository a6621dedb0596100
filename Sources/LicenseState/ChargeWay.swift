/// How a license item counts usage (DESIGN.md §2).
public enum ChargeWay: String, CaseIterable, Equatable, Hashable {
    /// Each reported scan consumes one of `quantity`; may overrun 5 % (grace).
    case scan
    /// Distinct devices active within the `activeWindow`; may overrun 10 % (grace).
    case device
    /// Simultaneous leases, each living `leaseSeconds` unless renewed.
    case concurrentInstance
    /// Like `concurrentInstance`, counted per distinct device.
    case concurrentDevice
    /// Distinct web domains.
    case domain

    /// Per-mille of `quantity` that may be used in grace beyond it.
    var graceOverrunPerMille: Int64 {
        switch self {
        case .scan: return 50
        case .device: return 100
        case .concurrentInstance, .concurrentDevice, .domain: return 0
        }
    }

    /// True for the charge ways that hand out leases.
    public var isConcurrent: Bool { self == .concurrentInstance || self == .concurrentDevice }
}

/// The period within which a device counts once, for `device` items.
public enum ActiveWindow: String, CaseIterable, Equatable, Hashable {
    case year, quarter, month, day

    /// Start (UTC seconds) of the window that contains `seconds`.
    public func start(containing seconds: Int64) -> Int64 {
        let (year, month, day) = UTCTime.civil(seconds)
        switch self {
        case .year: return UTCTime.seconds(year: year, month: 1, day: 1)
        case .quarter: return UTCTime.seconds(year: year, month: (month - 1) / 3 * 3 + 1, day: 1)
        case .month: return UTCTime.seconds(year: year, month: month, day: 1)
        case .day: return UTCTime.seconds(year: year, month: month, day: day)
        }
    }
}
