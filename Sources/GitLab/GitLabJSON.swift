import Foundation

/// JSON in and out of GitLab: ISO-8601 dates with or without fractional seconds, `null`
/// booleans read as `false` (GitLab's own rule), and a small JSON value for request bodies.
enum GitLabJSON {
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let string = try container.decode(String.self)
            guard let date = parseDate(string) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 date: \(string)")
            }
            return date
        }
        return decoder
    }

    static func parseDate(_ string: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string) { return date }
        return try? Date.ISO8601FormatStyle().parse(string)
    }
}

/// A JSON value for request bodies; object keys are written sorted so bodies are deterministic.
enum JSONValue: Encodable, Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([JSONValue])
    case null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    static func encodeObject(_ object: [String: JSONValue]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)) ?? Data("{}".utf8)
    }
}

extension KeyedDecodingContainer {
    /// A boolean that may be absent or `null`: both read as `false`.
    func flag(_ key: Key) throws -> Bool { try decodeIfPresent(Bool.self, forKey: key) ?? false }
    /// A string that may be absent or `null`: both read as `""`.
    func text(_ key: Key) throws -> String { try decodeIfPresent(String.self, forKey: key) ?? "" }
}

/// The `{id, username, name}` part of a GitLab user object embedded in other objects.
struct EmbeddedUser: Decodable, Hashable {
    var id: Int?
    var username: String
    var name: String?
}
