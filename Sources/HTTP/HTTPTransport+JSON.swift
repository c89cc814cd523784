import Foundation

extension HTTPRequest {
    /// A request whose body is `body` encoded as JSON, with `Content-Type` and `Accept` set to JSON.
    ///
    /// - Throws: `EncodingError` if `body` cannot be encoded.
    public static func json<Body: Encodable>(
        _ method: HTTPMethod, url: URL, body: Body, headers: HTTPHeaders = [:],
        encoder: JSONEncoder = JSONEncoder(), retryable: Bool? = nil
    ) throws -> HTTPRequest {
        var headers = headers
        if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        if headers["Accept"] == nil { headers["Accept"] = "application/json" }
        return HTTPRequest(method: method, url: url, headers: headers, body: try encoder.encode(body), retryable: retryable)
    }
}

extension HTTPTransport {
    /// Sends a GET to `url` with `headers`; see `send(_:)`.
    public func get(_ url: URL, headers: HTTPHeaders = [:]) async throws -> HTTPResponse {
        try await send(HTTPRequest(method: .get, url: url, headers: headers))
    }

    /// Sends `body` as JSON with `method` to `url`; see `HTTPRequest.json` and `send(_:)`.
    /// The response is returned whatever its status; decode it with `HTTPResponse.decodeJSON`.
    ///
    /// - Throws: `EncodingError`, or whatever `send(_:)` throws (`HTTPError`, `CancellationError`).
    public func sendJSON<Body: Encodable>(
        _ method: HTTPMethod, _ url: URL, body: Body, headers: HTTPHeaders = [:],
        encoder: JSONEncoder = JSONEncoder(), retryable: Bool? = nil
    ) async throws -> HTTPResponse {
        try await send(HTTPRequest.json(method, url: url, body: body, headers: headers, encoder: encoder, retryable: retryable))
    }
}
