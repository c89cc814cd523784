import Yams

/// How scalar values are written back: which plain values need quotes and how quotes are escaped. Pure.
enum ScalarText {
    /// Whether `value` can be written as a plain scalar and still read back as the same string: it must not
    /// resolve to a number, boolean, null or timestamp under YAML 1.1 or 1.2 (`1.10`, `1e3`, `on`, `yes`,
    /// `null`, `0x1F`, `2024-01-15`), nor start or end with an indicator.
    static func isSafePlain(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        guard isAlnum(first), last != UInt8(ascii: ":") else { return false }
        for byte in bytes where !(isAlnum(byte) || "._-/:@+".utf8.contains(byte)) { return false }
        // No number, boolean, null or timestamp contains '/' or '@': image references need no regex check.
        if bytes.contains(UInt8(ascii: "/")) || bytes.contains(UInt8(ascii: "@")) { return true }
        // Every YAML 1.1/1.2 number and timestamp pattern has at most one '.', so `1.5.0` is a string.
        if bytes.lazy.filter({ $0 == UInt8(ascii: ".") }).count >= 2 { return true }
        if ["y", "Y", "n", "N"].contains(value) { return false }
        // Timestamps (YAML 1.1): `2024-01-15...`.
        if bytes.count >= 8, bytes[0..<4].allSatisfy(isDigit), bytes[4] == UInt8(ascii: "-") { return false }
        return Resolver.default.resolveTag(of: Node(value)) == .str
    }

    /// `value` as a double-quoted scalar (with the quotes).
    static func doubleQuoted(_ value: String) -> String {
        "\"" + escapeDouble(value) + "\""
    }

    static func escapeDouble(_ value: String) -> String {
        var result = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    result += "\\x" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    static func escapeSingle(_ value: String) -> String {
        value.replacingOccurrences(of: "'", with: "''")
    }

    /// A value for a newly inserted key: plain when safe, double-quoted otherwise.
    static func fresh(_ value: String) -> String {
        isSafePlain(value) ? value : doubleQuoted(value)
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
