import Foundation

extension HTTPResponse {
    /// The first value of header `name` (case-insensitive), e.g. `response.header("X-Next-Page")`.
    public func header(_ name: String) -> String? { headers[name] }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200...299).contains(status) }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded from JSON as `type`.
    ///
    /// Does not look at the status: check it first, an error body decodes badly.
    /// - Throws: `HTTPDecodingError` naming the type, the status and where decoding failed.
    public func decodeJSON<Value: Decodable>(_ type: Value.Type = Value.self, decoder: JSONDecoder = JSONDecoder()) throws -> Value {
        do {
            return try decoder.decode(Value.self, from: body)
        } catch {
            throw HTTPDecodingError(type: String(describing: Value.self), status: status,
                                    contentType: header("Content-Type"), byteCount: body.count, underlying: error)
        }
    }
}
