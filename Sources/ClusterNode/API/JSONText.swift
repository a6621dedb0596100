/// Builds small JSON texts by hand on hot paths, where JSONEncoder costs more
/// than the rest of the request (see bench/README.md).
///
/// Invariant: `quote` returns a valid JSON string literal for any input.
enum JSONText {
    static func quote(_ text: String) -> String {
        // Nearly every value (IDs, codes, tokens) needs no escaping.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
