/// Recognises Go/Helm template actions (`{{ ... }}`) in a file that libyaml cannot parse. Pure.
///
/// A file is skipped as a template only when its template actions are what breaks the YAML: with every
/// action masked out the file parses. A broken file that merely mentions `{{` (in a comment, in a string)
/// is still reported as invalid YAML, so a typo can never hide behind a comment.
enum TemplateText {
    /// `bytes` with each `{{ ... }}` action masked: an action alone on its line(s) becomes blanks, one next to
    /// other text becomes the placeholder `x` and blanks (so `name: {{ .Release.Name }}-app` stays a
    /// scalar). Line breaks are kept, so positions stay comparable. Nil when there is no complete action.
    /// Also returns the 1-based line of the first action outside a comment (or the first action at all).
    static func masked(_ bytes: [UInt8]) -> (bytes: [UInt8], firstLine: Int)? {
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var result = bytes
        var firstLine: Int?, firstCommentedLine: Int?
        var line = 1, lineStart = 0, index = 0
        while index + 1 < bytes.count {
            let byte = bytes[index]
            if LineBreaks.endsLine(bytes, at: index) {
                line += 1
                index += 1
                lineStart = index
                continue
            }
            guard byte == open, bytes[index + 1] == open else { index += 1; continue }
            var end = index + 2
            while end + 1 < bytes.count, !(bytes[end] == close && bytes[end + 1] == close) { end += 1 }
            guard end + 1 < bytes.count else { break }
            end += 2
            if inComment(bytes, lineStart, index) {
                firstCommentedLine = firstCommentedLine ?? line
            } else {
                firstLine = firstLine ?? line
            }
            let alone = bytes[lineStart..<index].allSatisfy(isBlank) && restOfLineIsBlank(bytes, end)
            for position in index..<end where bytes[position] != UInt8(ascii: "\n") && bytes[position] != UInt8(ascii: "\r") {
                result[position] = UInt8(ascii: " ")
            }
            if !alone { result[index] = UInt8(ascii: "x") }
            // Lines inside a multi-line action still count.
            for position in index..<end where LineBreaks.endsLine(bytes, at: position) {
                line += 1
                lineStart = position + 1
            }
            index = end
        }
        guard let reported = firstLine ?? firstCommentedLine else { return nil }
        return (result, reported)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// Whether a `#` that starts a comment (at the line start or after a blank) comes before `index` on its
    /// line. Quotes are not tracked: this only picks the line a notice names.
    private static func inComment(_ bytes: [UInt8], _ lineStart: Int, _ index: Int) -> Bool {
        var position = lineStart
        while position < index {
            if bytes[position] == UInt8(ascii: "#"), position == lineStart || isBlank(bytes[position - 1]) { return true }
            position += 1
        }
        return false
    }

    private static func restOfLineIsBlank(_ bytes: [UInt8], _ from: Int) -> Bool {
        var position = from
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n"), bytes[position] != UInt8(ascii: "\r") {
            if bytes[position] == UInt8(ascii: "#") { return true }
            guard isBlank(bytes[position]) else { return false }
            position += 1
        }
        return true
    }
}
