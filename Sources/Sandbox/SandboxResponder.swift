import BlockingWork
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Per-request context that keeps the connection's channel, so a `.drop` fault can close it
/// without writing a response.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Large enough for git pushes of test repositories.
    var maxUploadSize: Int { 512 * 1024 * 1024 }
}

/// Thrown after closing the channel for a `.drop` fault; Hummingbird's attempt to write a 500
/// then fails on the closed channel, so the client sees the connection close with no response.
struct DroppedConnection: Error {}

/// A request reduced to what the handlers need; built once the body is collected.
struct SandboxRequest: Sendable {
    var method: String
    /// Raw path, still percent-encoded.
    var path: String
    var query: String
    var headers: [String: String]
    var body: Data
    var params: Params

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The reply to a request, written by `SandboxResponder`.
struct SandboxResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: Data = Data()

    static func json(_ status: Int, _ value: JSON, headers: [(String, String)] = []) -> SandboxResponse {
        SandboxResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.data)
    }

    /// `{"message": message}` as GitLab's `render_api_error!`.
    static func message(_ status: Int, _ message: String) -> SandboxResponse {
        json(status, ["message": .string(message)])
    }

    /// `{"error": error}` as Grape's validation errors.
    static func error(_ status: Int, _ error: String) -> SandboxResponse {
        json(status, ["error": .string(error)])
    }

    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> SandboxResponse {
        SandboxResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers, body: Data(text.utf8))
    }

    static let unauthorized = message(401, "401 Unauthorized")
    static let forbidden = message(403, "403 Forbidden")
    static let routeNotFound = error(404, "404 Not Found")
}

/// Request parameters merged from the query string, a form body and a JSON body.
/// `key[]` is stored as `key`; every value is kept as text.
struct Params: Sendable {
    var values: [String: [String]] = [:]

    init() {}

    init(query: String, body: Data, contentType: String?) {
        add(form: query)
        let type = contentType?.lowercased() ?? ""
        if type.contains("application/json") {
            add(json: body)
        } else if type.contains("application/x-www-form-urlencoded") || (type.isEmpty && !body.isEmpty && body.first != UInt8(ascii: "{")) {
            add(form: String(decoding: body, as: UTF8.self))
        } else if body.first == UInt8(ascii: "{") {
            add(json: body)
        }
    }

    static func normalize(_ key: String) -> String {
        key.hasSuffix("[]") ? String(key.dropLast(2)) : key
    }

    mutating func add(form: String) {
        for pair in form.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decodeForm(String(parts[0]))
            let value = parts.count > 1 ? Self.decodeForm(String(parts[1])) : ""
            values[Self.normalize(key), default: []].append(value)
        }
    }

    static func decodeForm(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    mutating func add(json body: Data) {
        guard case .object(let object)? = try? JSONDecoder().decode(AnyJSON.self, from: body) else { return }
        for (key, value) in object {
            switch value {
            case .null: continue
            case .array(let items): values[Self.normalize(key)] = items.map(\.text)
            default: values[Self.normalize(key)] = [value.text]
            }
        }
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    func string(_ key: String) -> String? { values[key]?.first }

    /// A list: several values, or one comma-separated value (GitLab coerces both). `""` is an empty list.
    func list(_ key: String) -> [String]? {
        guard let raw = values[key] else { return nil }
        let items = raw.count == 1 ? raw[0].split(separator: ",").map(String.init) : raw
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func bool(_ key: String) -> Bool? {
        guard let v = string(key)?.lowercased() else { return nil }
        return ["true", "1", "yes", "t", "on"].contains(v)
    }

    func int(_ key: String) -> Int? { string(key).flatMap { Int($0) } }

    func ints(_ key: String) -> [Int]? { list(key).map { $0.compactMap { Int($0) } } }
}

/// Hummingbird responder: logs the request, applies faults, then dispatches to git smart HTTP,
/// Argo CD, Prometheus or the GitLab REST API. Handlers are synchronous and run on threads of
/// their own (`BlockingWork.run`), never on the cooperative pool.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxRequestContext
    let sandbox: Sandbox

    func respond(to request: Request, context: SandboxRequestContext) async throws -> Response {
        var request = request
        let method = request.method.rawValue
        let path = request.uri.path
        sandbox.logRequest(method: method, path: path)
        if let fault = sandbox.takeFault(method: method, path: path) {
            switch fault {
            case .status(let code, let body, let headers):
                return Self.makeResponse(SandboxResponse(status: code, headers: headers.map { ($0.key, $0.value) }, body: Data(body.utf8)))
            case .delay(let duration):
                try await Task.sleep(for: duration)
            case .drop:
                context.channel.close(promise: nil)
                throw DroppedConnection()
            }
        }
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let body = Data(buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? [])
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] { headers[name] = existing + ", " + field.value } else { headers[name] = field.value }
        }
        let query = request.uri.query ?? ""
        let params = Params(query: query, body: body, contentType: headers["content-type"])
        let req = SandboxRequest(method: method, path: path, query: query, headers: headers, body: body, params: params)
        let sandbox = self.sandbox
        let response = try await BlockingWork.run(name: "promobot.sandbox", stackSize: 1 << 20) { sandbox.handle(req) }
        return Self.makeResponse(response, head: method == "HEAD")
    }

    static func makeResponse(_ response: SandboxResponse, head: Bool = false) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let key = HTTPField.Name(name) { fields.append(HTTPField(name: key, value: value)) }
        }
        let body = head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: response.body))
        if head { fields[.contentLength] = String(response.body.count) }
        return Response(status: .init(code: response.status), headers: fields, body: body)
    }
}

extension Sandbox {
    /// Top-level dispatch by path.
    func handle(_ req: SandboxRequest) -> SandboxResponse {
        let path = req.path
        if path.hasPrefix("/api/v4/") || path == "/api/v4" {
            return handleGitLab(req)
        }
        if path == "/v2" || path.hasPrefix("/v2/") || path == "/jwt/auth" {
            return handleRegistry(req)
        }
        if path.hasPrefix("/api/v1/applications") {
            return handleArgo(req)
        }
        if path == "/api/v1/query" {
            return handlePrometheus(req)
        }
        if path.contains(".git/") {
            return handleGitHTTP(req)
        }
        if path == "/" || path == "/-/health" || path == "/-/readiness" {
            return .text(200, "GitLab OK")
        }
        return .routeNotFound
    }
}

/// A decoded JSON request body; `JSONDecoder` keeps booleans and numbers apart on every platform.
enum AnyJSON: Decodable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    /// The value as a parameter string (objects and arrays as compact JSON-ish text).
    var text: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .string(let s): s
        case .array(let a): a.map(\.text).joined(separator: ",")
        case .object: ""
        }
    }
}
