/// Where lines end in a manifest's bytes: LF, CRLF, or a lone CR (old Mac files). One definition for the
/// splicer (where to insert a key, which line it lands on), the template masker and the change records,
/// so every line number promobot prints counts lines the way an editor shows them. Pure.
enum LineBreaks {
    /// Whether a line ends at `index`: an LF, or a CR not followed by LF (the CR of a CRLF is not the end:
    /// its LF is).
    static func endsLine(_ bytes: [UInt8], at index: Int) -> Bool {
        bytes[index] == UInt8(ascii: "\n")
            || (bytes[index] == UInt8(ascii: "\r") && (index + 1 == bytes.count || bytes[index + 1] != UInt8(ascii: "\n")))
    }

    /// How many lines end in `bytes[from..<to]`.
    static func count(in bytes: [UInt8], from: Int, to: Int) -> Int {
        var count = 0
        for index in from..<min(to, bytes.count) where endsLine(bytes, at: index) { count += 1 }
        return count
    }

    /// The index of the byte that ends the line holding `offset` (its LF, or lone CR), or `bytes.count`.
    static func lineEnd(from offset: Int, in bytes: [UInt8]) -> Int {
        var index = offset
        while index < bytes.count, !endsLine(bytes, at: index) { index += 1 }
        return index
    }

    /// The line terminator the line ending at `end` uses (`lineEnd(from:in:)`), or the file's first one when
    /// that line is the last and has none; LF by default.
    static func terminator(at end: Int, in bytes: [UInt8]) -> String {
        if end < bytes.count {
            if bytes[end] == UInt8(ascii: "\r") { return "\r" }
            return end > 0 && bytes[end - 1] == UInt8(ascii: "\r") ? "\r\n" : "\n"
        }
        guard let first = bytes.indices.first(where: { endsLine(bytes, at: $0) }) else { return "\n" }
        return terminator(at: first, in: bytes)
    }
}
