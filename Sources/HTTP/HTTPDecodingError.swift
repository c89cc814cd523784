import Foundation

/// A response body that is not the JSON the caller expected.
///
/// Its description names the type, status and decoding path but never the body, which may hold secrets.
public struct HTTPDecodingError: Error, CustomStringConvertible, Sendable {
    /// The type that was being decoded.
    public var type: String
    /// The response status.
    public var status: Int
    /// The response `Content-Type`, if any.
    public var contentType: String?
    /// The body length.
    public var byteCount: Int
    /// A description of the decoder's error (coding path and reason).
    public var reason: String

    init(type: String, status: Int, contentType: String?, byteCount: Int, underlying: any Error) {
        self.type = type
        self.status = status
        self.contentType = contentType
        self.byteCount = byteCount
        self.reason = Self.describe(underlying)
    }

    /// What was expected, what came, and a hint.
    public var description: String {
        "could not decode \(type) from an HTTP \(status) response (\(contentType ?? "no Content-Type"), \(byteCount) bytes): \(reason). "
            + "Check that the URL points at the expected API and that its version matches."
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)' at '\(path(context))'"
        case .typeMismatch(let type, let context): return "expected \(type) at '\(path(context))': \(context.debugDescription)"
        case .valueNotFound(let type, let context): return "null where \(type) was expected at '\(path(context))'"
        case .dataCorrupted(let context): return "invalid JSON at '\(path(context))': \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}
