// libyaml is reached through Yams' own C target, as in Manifests/YAMLEvents.swift: Yams composes aliases
// by sharing, and then hashes and compares the expanded trees (an alias bomb takes minutes with flat memory),
// so the limits must be checked on the event stream before Yams composes anything. Manifests' event parser
// is internal to that module and keeps every event; this pass keeps only counters. The only file in
// Policies that touches C.
internal import CYaml

/// The sizes a policy or config file may have, checked before the file is composed into a tree.
///
/// Policy and config files are edited by every team through merge requests and read on every cycle, so
/// a file that is huge, nests without end or multiplies itself through aliases must be refused quickly,
/// with a message that names the limit, instead of exhausting time, memory or stack. Documented in
/// docs/policies.md ("Limits"). Pure; thread-safe.
public enum YAMLLimits {
    /// Largest policy or config file, in bytes (2 MiB; real policies are a few kilobytes).
    public static let maxFileBytes = 2 * 1024 * 1024
    /// Deepest nesting of lists and mappings, counting what aliases repeat (a policy needs about 6).
    public static let maxNesting = 64
    /// Most aliases (`*name`) in one file.
    public static let maxAliases = 1_000
    /// Most YAML nodes in one file, counting each alias as every node it repeats.
    public static let maxNodes = 200_000

    /// A file that breaks a limit or that libyaml cannot parse, located at the event where it was noticed.
    struct Violation: Equatable {
        /// 1-based; 0 for the whole file.
        var line: Int
        var column: Int
        var message: String
    }

    /// The first limit `text` breaks, or a syntax error with its position; nil when Yams may compose it.
    ///
    /// Walks libyaml's events keeping, per open collection, the expanded node count and height, and per
    /// anchor the size and height of the node it names, so one alias costs what it repeats. Stops at the
    /// first violation, so the time spent is bounded by the limits, not by the expansion.
    static func check(_ text: String, fileKind: String) -> Violation? {
        if text.utf8.count > maxFileBytes {
            return Violation(line: 0, column: 0, message: sizeMessage(bytes: text.utf8.count, fileKind: fileKind))
        }
        var bytes = Array(text.utf8)
        bytes.append(0)  // libyaml needs no terminator; the byte keeps the buffer non-empty.
        return bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return Violation(line: 0, column: 0, message: "cannot initialise the YAML parser")
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count - 1)
            var walk = Walk(fileKind: fileKind)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    return syntaxViolation(parser, bytes: buffer, fileKind: fileKind)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let violation = walk.take(event) { return violation }
            }
        }
    }

    /// The one wording for nesting too deep, whether this pass or libyaml's scanner (which looks ahead
    /// through flow collections) notices it first.
    static func nestingMessage(fileKind: String) -> String {
        "lists and mappings nest more than \(maxNesting) levels deep here (counting what aliases repeat): \(fileKind) may nest at most \(maxNesting) levels"
    }

    /// `the file is 52.4 MB: a policy file may be at most 2 MB`.
    static func sizeMessage(bytes: Int, fileKind: String) -> String {
        "the file is \(megabytes(bytes)): \(fileKind) may be at most \(megabytes(maxFileBytes)) (\(maxFileBytes) bytes)"
    }

    private static func megabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return value >= 10 || value == value.rounded() ? "\(Int(value.rounded())) MB" : String(format: "%.1f MB", value)
    }

    // MARK: - Walking the events

    /// The counters of one pass. A collection's frame accumulates its children; when it closes, its size
    /// and height are added to its parent (and recorded under its anchor).
    private struct Walk {
        struct Frame {
            var size = 1
            var height = 1
            var anchor: String?
        }

        let fileKind: String
        var stack: [Frame] = []
        var anchors: [String: (size: Int, height: Int)] = [:]
        var nodes = 0
        var aliases = 0
        var documents = 0

        init(fileKind: String) { self.fileKind = fileKind }

        mutating func take(_ event: yaml_event_t) -> Violation? {
            let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    return Violation(line: line, column: column, message:
                        "a second YAML document starts here: \(fileKind) holds exactly one document (remove this '---' and what follows, or move it to its own file)")
                }
            case YAML_SCALAR_EVENT:
                let anchor = YAMLLimits.string(event.data.scalar.anchor)
                return add(size: 1, height: 0, anchor: anchor, line: line, column: column)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor = YAMLLimits.string(event.type == YAML_SEQUENCE_START_EVENT
                                               ? event.data.sequence_start.anchor : event.data.mapping_start.anchor)
                if stack.count >= YAMLLimits.maxNesting {
                    return Violation(line: line, column: column, message: nestingMessage)
                }
                if let violation = count(1, line: line, column: column) { return violation }
                stack.append(Frame(anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { break }
                if let anchor = frame.anchor { anchors[anchor] = (frame.size, frame.height) }
                attach(size: frame.size, height: frame.height)
            case YAML_ALIAS_EVENT:
                let name = YAMLLimits.string(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    return Violation(line: line, column: column, message:
                        "alias '*\(name)' refers to no anchor: define '&\(name)' on a value before the first '*\(name)'")
                }
                aliases += 1
                if aliases > YAMLLimits.maxAliases {
                    return Violation(line: line, column: column, message:
                        "too many aliases: \(fileKind) may use at most \(YAMLLimits.maxAliases) aliases ('*name'); write the values out instead")
                }
                return add(size: target.size, height: target.height, anchor: nil, line: line, column: column)
            default:
                break
            }
            return nil
        }

        var nestingMessage: String { YAMLLimits.nestingMessage(fileKind: fileKind) }

        /// A finished node (scalar or alias) of `size` nodes and `height` levels under the open collections.
        mutating func add(size: Int, height: Int, anchor: String?, line: Int, column: Int) -> Violation? {
            if stack.count + height > YAMLLimits.maxNesting {
                return Violation(line: line, column: column, message: nestingMessage)
            }
            if let violation = count(size, line: line, column: column) { return violation }
            if let anchor { anchors[anchor] = (size, height) }
            attach(size: size, height: height)
            return nil
        }

        mutating func count(_ size: Int, line: Int, column: Int) -> Violation? {
            nodes += size
            guard nodes > YAMLLimits.maxNodes else { return nil }
            return Violation(line: line, column: column, message:
                "the file holds more than \(YAMLLimits.maxNodes) YAML values once its aliases are expanded (the limit for \(fileKind)); split it or write fewer aliases")
        }

        mutating func attach(size: Int, height: Int) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].size += size
            stack[stack.count - 1].height = max(stack[stack.count - 1].height, height + 1)
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    // MARK: - Syntax errors

    /// libyaml's error as a located violation, in the words `YAMLReader.syntaxMessage` chooses.
    private static func syntaxViolation(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>,
                                        fileKind: String) -> Violation {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if parser.error == YAML_READER_ERROR {
            let (line, column) = position(ofByte: Int(parser.problem_offset), in: bytes)
            return Violation(line: line, column: column,
                             message: YAMLReader.readerMessage(problem: problem, value: Int(parser.problem_value)))
        }
        var context: (text: String, line: Int, column: Int)?
        if let text = parser.context.map({ String(cString: $0) }), !text.isEmpty {
            context = (text, Int(parser.context_mark.line) + 1, Int(parser.context_mark.column) + 1)
        }
        return Violation(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1,
                         message: YAMLReader.syntaxMessage(problem: problem, context: context, fileKind: fileKind))
    }

    /// 1-based line and column (in Unicode scalars, like libyaml) of a byte offset into UTF-8 text.
    static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1, column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A || (byte == 0x0D && (index + 1 >= bytes.count || bytes[index + 1] != 0x0A)) {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        return (line, column)
    }
}
