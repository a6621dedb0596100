import Foundation

/// The canonical byte form of a JSON value, the input of license signatures:
/// object keys sorted by their UTF-8 bytes, no white space, integers only,
/// strings escaped minimally (`"`, `\`, control characters).
///
/// Invariant: equal JSON values (as parsed by JSONSerialization) give equal
/// bytes; a value that is not canonicalizable (a fraction) gives nil.
public enum CanonicalJSON {
    public static func encode(_ value: Any) -> [UInt8]? {
        var out: [UInt8] = []
        return write(value, into: &out) ? out : nil
    }

    private static func write(_ value: Any, into out: inout [UInt8]) -> Bool {
        switch value {
        case let text as String:
            writeString(text, into: &out)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                out += Array((number.boolValue ? "true" : "false").utf8)
            } else {
                guard let integer = Int64(exactly: number.doubleValue), Double(integer) == number.doubleValue else { return false }
                out += Array(String(integer).utf8)
            }
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                guard write(element, into: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                guard write(object[key]!, into: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        case is NSNull:
            out += Array("null".utf8)
        default:
            return false
        }
        return true
    }

    private static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
