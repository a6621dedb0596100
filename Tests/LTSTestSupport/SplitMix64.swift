/// SplitMix64: the tests' only source of randomness, so that a property
/// test or a simulation is a pure function of its seed and replays exactly
/// from it.
///
/// Invariant: the same seed yields the same sequence on every platform and
/// toolchain (no `SystemRandomNumberGenerator`, and no standard-library
/// range sampling, whose algorithm may change between Swift releases).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `0..<bound` (the modulo bias is irrelevant at these sizes).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "an empty range")
        return Int(next() % UInt64(bound))
    }

    /// A number in `range`.
    public mutating func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
        let width = range.upperBound - range.lowerBound
        guard width < UInt64.max else { return next() }
        return range.lowerBound + next() % (width + 1)
    }

    /// True with probability `perMille / 1000`.
    public mutating func chance(perMille: UInt64) -> Bool {
        next() % 1000 < perMille
    }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ elements: [T]) -> T {
        precondition(!elements.isEmpty, "picking from nothing")
        return elements[Int(next() % UInt64(elements.count))]
    }
}
