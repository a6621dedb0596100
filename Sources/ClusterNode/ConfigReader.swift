import Foundation

/// Reads typed values out of one JSON object and remembers which keys were
/// read, so that any key left over can be refused by name.
///
/// Invariant: each accessor either returns a value of the asked type, nil
/// when the key is absent, or throws a `ConfigError` naming the key.
struct ConfigReader {
    private var remaining: [String: Any]
    private let path: String

    init(_ object: [String: Any], path: String) {
        remaining = object
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Removes and returns the raw value of `key`.
    mutating func take(_ key: String) -> Any? {
        remaining.removeValue(forKey: key)
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = take(key) else { return nil }
        guard let text = value as? String, !(value is NSNumber) else {
            throw ConfigError(key: name(key), reason: "must be a string")
        }
        return text
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = take(key) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            throw ConfigError(key: name(key), reason: "must be true or false")
        }
        return number.boolValue
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = take(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number),
              number.doubleValue == number.doubleValue.rounded(), let integer = Int(exactly: number.doubleValue) else {
            throw ConfigError(key: name(key), reason: "must be a whole number")
        }
        guard range.contains(integer) else {
            throw ConfigError(key: name(key), reason: "must be between \(range.lowerBound) and \(range.upperBound), not \(integer)")
        }
        return integer
    }

    mutating func stringArray(_ key: String) throws -> [String]? {
        guard let value = take(key) else { return nil }
        guard let array = value as? [Any], let strings = array as? [String], !array.contains(where: { $0 is NSNumber }) else {
            throw ConfigError(key: name(key), reason: "must be a list of strings")
        }
        return strings
    }

    /// Throws for the first key (in sorted order) that no accessor read.
    func rejectUnknownKeys() throws {
        if let key = remaining.keys.sorted().first {
            throw ConfigError(key: name(key), reason: "is not a known setting (check its spelling in Config/lts.json.sample)")
        }
    }

    /// JSONSerialization gives booleans as NSNumber; this tells them apart from 0 and 1.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
