import Foundation

/// A JSON field that is missing, mistyped, out of range or unknown.
struct JSONFieldError: Error, Equatable {
    /// The key path, e.g. `validation.domains` ("" for the whole document).
    let key: String
    let reason: String
}

/// Reads typed values out of one JSON object (a config file or a request
/// body) and remembers which keys were read, so that any key left over can
/// be refused by name.
///
/// Invariant: each accessor either returns a value of the asked type, nil
/// when the key is absent, or throws a `JSONFieldError` naming the key.
struct JSONObjectReader {
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
        guard let value = take(key), !(value is NSNull) else { return nil }
        guard let text = value as? String, !(value is NSNumber) else {
            throw JSONFieldError(key: name(key), reason: "must be a string")
        }
        return text
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = take(key) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            throw JSONFieldError(key: name(key), reason: "must be true or false")
        }
        return number.boolValue
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = take(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number),
              number.doubleValue == number.doubleValue.rounded(), let integer = Int(exactly: number.doubleValue) else {
            throw JSONFieldError(key: name(key), reason: "must be a whole number")
        }
        guard range.contains(integer) else {
            throw JSONFieldError(key: name(key), reason: "must be between \(range.lowerBound) and \(range.upperBound), not \(integer)")
        }
        return integer
    }

    mutating func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = take(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number), number.doubleValue.isFinite else {
            throw JSONFieldError(key: name(key), reason: "must be a number")
        }
        guard range.contains(number.doubleValue) else {
            throw JSONFieldError(key: name(key), reason: "must be between \(range.lowerBound) and \(range.upperBound), not \(number.doubleValue)")
        }
        return number.doubleValue
    }

    mutating func stringArray(_ key: String) throws -> [String]? {
        guard let value = take(key) else { return nil }
        guard let array = value as? [Any], let strings = array as? [String], !array.contains(where: { $0 is NSNumber }) else {
            throw JSONFieldError(key: name(key), reason: "must be a list of strings")
        }
        return strings
    }

    /// Parses `data` as a JSON object.
    static func parse(_ data: Data, path: String = "") throws -> JSONObjectReader {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw JSONFieldError(key: "", reason: "is not a JSON object")
        }
        return JSONObjectReader(object, path: path)
    }

    /// Throws for the first key (in sorted order) that no accessor read.
    func rejectUnknownKeys() throws {
        if let key = remaining.keys.sorted().first {
            throw JSONFieldError(key: name(key), reason: "is not a known field")
        }
    }

    /// Reads a nested object with its own reader.
    mutating func object(_ key: String) throws -> JSONObjectReader? {
        guard let value = take(key) else { return nil }
        guard let object = value as? [String: Any] else { throw JSONFieldError(key: name(key), reason: "must be an object") }
        return JSONObjectReader(object, path: name(key))
    }

    /// JSONSerialization gives booleans as NSNumber; this tells them apart from 0 and 1.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
