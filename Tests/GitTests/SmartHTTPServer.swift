import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal git smart-HTTP server for tests: HTTP/1.1 on 127.0.0.1 (port 0), one request per connection,
/// each request handed to `git http-backend` (CGI) over `projectRoot`. With `token` set, every request must
/// carry Basic auth whose password is the token (any username, as GitLab does), else 401.
///
/// Receive-pack runs the repositories' hooks, so tests can simulate server-side rejections.
/// `stop()` (also called from `deinit`) closes the listener; in-flight requests finish on their own threads.
final class SmartHTTPServer: @unchecked Sendable {
    let projectRoot: URL
    let token: String?
    private(set) var port: UInt16 = 0
    private var listenFD: Int32 = -1
    private let lock = NSLock()
    private var stopped = false
    private var _requests: [String] = []
    private var afterResponse: (@Sendable (String) -> Void)?
    private var faults: [(prefix: String, fault: Fault, remaining: Int)] = []

    /// What the server does to a request instead of answering it normally.
    enum Fault: Sendable {
        /// Answer with `status` (and `headers`), empty body, without running the backend.
        case status(Int, headers: [String: String] = [:])
        /// Close the connection without an answer, without running the backend.
        case drop
        /// Run the backend, send the head and half of the body, then close (a connection cut mid-response).
        case truncate
        /// Run the backend (a push is applied), then close without an answer (the answer is lost).
        case dropAfterBackend
    }

    /// Applies `fault` to the next `count` requests whose "METHOD target" starts with `prefix`
    /// (e.g. `GET /origin.git/info/refs`, `POST /origin.git/git-upload-pack`).
    func inject(_ fault: Fault, on prefix: String, count: Int = 1) {
        lock.withLock { faults.append((prefix, fault, count)) }
    }

    /// Forgets every fault not yet applied.
    func clearFaults() { lock.withLock { faults.removeAll() } }

    private func takeFault(_ request: String) -> Fault? {
        lock.withLock {
            guard let index = faults.firstIndex(where: { request.hasPrefix($0.prefix) }) else { return nil }
            faults[index].remaining -= 1
            let fault = faults[index].fault
            if faults[index].remaining <= 0 { faults.remove(at: index) }
            return fault
        }
    }

    /// Runs `action` with "METHOD target" after each response is computed and before it is sent (e.g. to move a
    /// branch after the ref advertisement was generated and before the client can push).
    func onResponse(_ action: @escaping @Sendable (String) -> Void) { lock.withLock { afterResponse = action } }

    /// "METHOD path?query status" for every request served, to assert on round trips.
    var requests: [String] { lock.withLock { _requests } }

    init(projectRoot: URL, token: String? = nil) throws {
        self.projectRoot = projectRoot
        self.token = token
        listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listenFD >= 0 else { throw FixtureError(message: "socket() failed") }
        var reuse: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listenFD, 16) == 0 else {
            close(listenFD)
            throw FixtureError(message: "bind/listen on 127.0.0.1:0 failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let fd = listenFD
        Thread.detachNewThread { [self] in acceptLoop(fd) }
    }

    deinit { stop() }

    func url(_ repository: String) -> String { "http://127.0.0.1:\(port)/\(repository)" }

    func stop() {
        let fd: Int32? = lock.withLock {
            guard !stopped else { return nil }
            stopped = true
            return listenFD
        }
        if let fd {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let connection = accept(fd, nil, nil)
            if connection < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            Thread.detachNewThread { [self] in
                serve(connection)
                close(connection)
            }
        }
    }

    // MARK: - One request

    private func serve(_ fd: Int32) {
        var buffer = Data()
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            guard let chunk = receive(fd) else { return }
            buffer.append(chunk)
            headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        guard let headerEnd else { return }
        let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self)
        var rest = Data(buffer[headerEnd.upperBound...])
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        // Body: Content-Length or chunked.
        var body = Data()
        if let length = headers["content-length"].flatMap(Int.init) {
            while rest.count < length, let chunk = receive(fd) { rest.append(chunk) }
            body = rest.prefix(length)
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                guard let lineEnd = rest.range(of: Data("\r\n".utf8)) else {
                    guard let chunk = receive(fd) else { return }
                    rest.append(chunk)
                    continue
                }
                let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { return }
                let needed = lineEnd.upperBound - rest.startIndex + size + 2
                while rest.count < needed, let chunk = receive(fd) { rest.append(chunk) }
                if size == 0 { break }
                body.append(rest[lineEnd.upperBound..<(lineEnd.upperBound + size)])
                rest = Data(rest[(lineEnd.upperBound + size + 2)...])
            }
        }

        let method = requestLine[0]
        let target = requestLine[1]
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
            ?? (target, "")
        var response: Data
        var status: String
        let fault = takeFault("\(method) \(target)")
        if case .status(let code, let extra)? = fault {
            status = String(code)
            var head = "HTTP/1.1 \(code) Injected\r\n"
            for (name, value) in extra { head += "\(name): \(value)\r\n" }
            response = Data((head + "Content-Length: 0\r\nConnection: close\r\n\r\n").utf8)
        } else if case .drop? = fault {
            lock.withLock { _requests.append("\(method) \(target) dropped") }
            return
        } else if let token, !authorized(headers["authorization"], token: token) {
            status = "401"
            response = Data(("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n"
                             + "Content-Length: 0\r\nConnection: close\r\n\r\n").utf8)
        } else {
            (status, response) = runBackend(method: method, path: path, query: query,
                                            contentType: headers["content-type"], body: body)
        }
        if case .dropAfterBackend? = fault {
            status += " dropped"
        } else if case .truncate? = fault, let headEnd = response.range(of: Data("\r\n\r\n".utf8)) {
            let bodyLength = response.count - headEnd.upperBound
            response = response.prefix(headEnd.upperBound + bodyLength / 2)
            status += " truncated"
        }
        let action = lock.withLock {
            _requests.append("\(method) \(target) \(status)")
            return afterResponse
        }
        // Before sending: the client cannot act on this response until the action is done.
        action?("\(method) \(target)")
        if case .dropAfterBackend? = fault { return }
        send(fd, response)
    }

    private func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6))) else { return false }
        let pair = String(decoding: decoded, as: UTF8.self)
        guard let colon = pair.firstIndex(of: ":") else { return false }
        return pair[pair.index(after: colon)...] == token
    }

    private func runBackend(method: String, path: String, query: String, contentType: String?, body: Data) -> (String, Data) {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("cgi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        do {
            try body.write(to: bodyFile)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            process.arguments = ["http-backend"]
            var environment = ["GIT_PROJECT_ROOT": projectRoot.path, "GIT_HTTP_EXPORT_ALL": "1",
                               "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                               "CONTENT_LENGTH": String(body.count), "REMOTE_USER": "oauth2",
                               "REMOTE_ADDR": "127.0.0.1", "HOME": projectRoot.path, "GIT_CONFIG_NOSYSTEM": "1",
                               "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            if let contentType { environment["CONTENT_TYPE"] = contentType }
            process.environment = environment
            process.standardInput = try FileHandle(forReadingFrom: bodyFile)
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return cgiToHTTP(output)
        } catch {
            return ("500", Data("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        }
    }

    private func cgiToHTTP(_ output: Data) -> (String, Data) {
        let separator = output.range(of: Data("\r\n\r\n".utf8)) ?? output.range(of: Data("\n\n".utf8))
        guard let separator else { return ("502", Data("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n".utf8)) }
        let head = String(decoding: output[..<separator.lowerBound], as: UTF8.self)
        let body = output[separator.upperBound...]
        var status = "200 OK"
        var headerLines: [String] = []
        for line in head.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if line.lowercased().hasPrefix("status:") {
                status = line.dropFirst(7).trimmingCharacters(in: .whitespaces)
            } else {
                headerLines.append(String(line))
            }
        }
        var response = "HTTP/1.1 \(status)\r\n"
        for line in headerLines { response += line + "\r\n" }
        response += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var data = Data(response.utf8)
        data.append(body)
        return (String(status.prefix(3)), data)
    }

    private func receive(_ fd: Int32) -> Data? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        guard count > 0 else { return nil }
        return Data(chunk[0..<count])
    }

    private func send(_ fd: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}
