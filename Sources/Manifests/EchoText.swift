/// Escaping for text that echoes values read from files, argv or servers into a line of output.
///
/// A value from a policy or a manifest may hold a newline, a carriage return or an ANSI escape
/// sequence; echoed raw into a CI log it could forge a diagnostic line (`fake.yaml:1:1: error: …`)
/// or recolour the terminal. Compilers quote and escape what they echo; so does promobot, in one place.
/// Pure; thread-safe.
public enum EchoText {
    /// `text` with every control character (C0, DEL, C1) and the Unicode line/paragraph separators
    /// written as a visible escape: `\n`, `\r`, `\t`, `\e` for ESC, `\u{85}` for the rest. Tab is kept
    /// as `\t` too, so one echoed value can never span or align beyond its own line.
    public static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1B}": out += "\\e"
            default: out += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return out
    }

    /// Whether `scalar` must not reach a log line as it is.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
    }
}
