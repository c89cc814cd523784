// libyaml is reached through Yams' own C target: Yams 6.2.2 keeps its parser events and end marks
// private, and the editor needs exact byte spans of scalars. This file is the only one that touches C.
internal import CYaml

/// One libyaml parse event, copied into Swift values with byte offsets into the UTF-8 source.
struct YAMLEvent: Sendable {
    enum Kind: UInt8, Sendable {
        case streamStart, streamEnd, documentStart, documentEnd, alias, scalar
        case sequenceStart, sequenceEnd, mappingStart, mappingEnd
    }

    enum Style: UInt8, Sendable {
        case any, plain, singleQuoted, doubleQuoted, literal, folded, block, flow
    }

    var kind: Kind
    /// Scalar value, or the anchor name an alias refers to.
    var value: String = ""
    var anchor: String?
    var tag: String?
    var style: Style = .any
    /// `plain_implicit`/`quoted_implicit` for scalars, `implicit` for collections and documents.
    var implicit: UInt8 = 0
    /// Byte offsets of the event in the source: [start, end).
    var start: Int
    var end: Int
    /// 1-based line and column (columns count characters, as libyaml does).
    var line: Int
    var column: Int

    /// Whether two events carry the same data, ignoring where they are.
    func sameContent(as other: YAMLEvent) -> Bool {
        kind == other.kind && value == other.value && anchor == other.anchor && tag == other.tag
            && style == other.style && implicit == other.implicit
    }
}

/// A parse failure reported by libyaml, with its 1-based position.
struct YAMLSyntaxError: Error, Sendable {
    var line: Int
    var column: Int
    var problem: String
}

/// Parses UTF-8 YAML into a flat event list (all documents). Pure; safe to call from any thread.
enum YAMLEventParser {
    static func parse(_ bytes: [UInt8]) throws(YAMLSyntaxError) -> [YAMLEvent] {
        let offsets = OffsetMap(bytes)
        // A byte-order mark is not handed to libyaml: with the encoding set explicitly its scanner skips the
        // mark but counts it as column 1, so a key on the first line sits deeper than the keys below it and
        // the file fails to parse. Offsets are shifted back by the mark's one character.
        let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLSyntaxError(line: 1, column: 1, problem: "cannot initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        var events: [YAMLEvent] = []
        events.reserveCapacity(bytes.count / 12)
        var failure: YAMLSyntaxError?
        bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress.map { $0 + bom }, buffer.count - bom)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let mark = parser.problem_mark
                    var problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    if let context = parser.context.map({ String(cString: $0) }) {
                        problem = "\(problem) \(context)"
                    }
                    failure = YAMLSyntaxError(line: Int(mark.line) + 1, column: Int(mark.column) + 1, problem: problem)
                    return
                }
                defer { yaml_event_delete(&event) }
                let converted = convert(event, offsets, shift: bom == 0 ? 0 : 1)
                events.append(converted)
                if converted.kind == .streamEnd { return }
            }
        }
        if let failure { throw failure }
        return events
    }

    /// `shift`: characters before libyaml's input (the byte-order mark).
    private static func convert(_ event: yaml_event_t, _ offsets: OffsetMap, shift: Int) -> YAMLEvent {
        let start = offsets.byteOffset(ofCharacter: Int(event.start_mark.index) + shift)
        let end = offsets.byteOffset(ofCharacter: Int(event.end_mark.index) + shift)
        var result = YAMLEvent(kind: .streamStart, start: start, end: end,
                               line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: result.kind = .streamStart
        case YAML_STREAM_END_EVENT: result.kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            result.kind = .documentStart
            result.implicit = UInt8(event.data.document_start.implicit)
        case YAML_DOCUMENT_END_EVENT:
            result.kind = .documentEnd
            result.implicit = UInt8(event.data.document_end.implicit)
        case YAML_ALIAS_EVENT:
            result.kind = .alias
            result.value = string(event.data.alias.anchor) ?? ""
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            result.kind = .scalar
            result.value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            result.anchor = string(scalar.anchor)
            result.tag = string(scalar.tag)
            result.implicit = UInt8(scalar.plain_implicit) | UInt8(scalar.quoted_implicit) << 1
            switch scalar.style {
            case YAML_PLAIN_SCALAR_STYLE: result.style = .plain
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: result.style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: result.style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: result.style = .literal
            case YAML_FOLDED_SCALAR_STYLE: result.style = .folded
            default: result.style = .any
            }
        case YAML_SEQUENCE_START_EVENT:
            result.kind = .sequenceStart
            result.anchor = string(event.data.sequence_start.anchor)
            result.tag = string(event.data.sequence_start.tag)
            result.implicit = UInt8(event.data.sequence_start.implicit)
            result.style = event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE ? .flow : .block
        case YAML_SEQUENCE_END_EVENT: result.kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            result.kind = .mappingStart
            result.anchor = string(event.data.mapping_start.anchor)
            result.tag = string(event.data.mapping_start.tag)
            result.implicit = UInt8(event.data.mapping_start.implicit)
            result.style = event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? .flow : .block
        case YAML_MAPPING_END_EVENT: result.kind = .mappingEnd
        default: result.kind = .streamEnd
        }
        return result
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}

/// Maps libyaml's character indices to byte offsets: the identity for ASCII, a table otherwise.
struct OffsetMap {
    private let table: [Int]?

    init(_ bytes: [UInt8]) {
        // Indices are characters of the whole text, a byte-order mark included (see `parse`).
        var ascii = true
        for byte in bytes where byte >= 0x80 { ascii = false; break }
        if ascii {
            table = nil
            return
        }
        var map: [Int] = []
        map.reserveCapacity(bytes.count + 1)
        var index = 0
        while index < bytes.count {
            map.append(index)
            let byte = bytes[index]
            index += byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
        }
        map.append(bytes.count)
        table = map
    }

    func byteOffset(ofCharacter index: Int) -> Int {
        guard let table else { return index }
        return index < table.count ? table[index] : table[table.count - 1]
    }
}
