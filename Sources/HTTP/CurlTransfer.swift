import CCurl
import CCurlShims
import Foundation

/// Why an attempt got no response; the client turns it into an `HTTPError` with the URL and attempt count.
struct TransportFailure: Error {
    var kind: HTTPError.Kind
    var message: String
    var curlCode: Int?
}

/// What one finished attempt produced.
struct TransferOutcome: Sendable {
    var response: HTTPResponse
    /// Connections libcurl had to open for this attempt (0 when it reused a kept-alive one).
    var newConnections: Int
}

/// One attempt of one request: the easy-handle options, the buffers libcurl reads from and writes
/// to, and the continuation to resume.
///
/// Ownership: created by the client on the sending task, then handed to the engine, whose thread
/// alone touches the buffers until it resumes the continuation (exactly once). `cancelRequested`
/// is guarded by the engine's lock. Hence `@unchecked Sendable`; not safe for any other sharing.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let configuration: HTTPClientConfiguration
    private var continuation: CheckedContinuation<TransferOutcome, any Error>?
    /// Set (under the engine lock) when the sending task was cancelled.
    var cancelRequested = false

    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var requestBody: UnsafeMutableRawPointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var responseHeaders = HTTPHeaders()
    private var responseBody = Data()
    private var responseTooLarge = false

    init(request: HTTPRequest, configuration: HTTPClientConfiguration) {
        self.request = request
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_slist_free_all(headerList)
        requestBody?.deallocate()
        errorBuffer.deallocate()
    }

    /// Stores the continuation to resume; called once, before the transfer is handed to the engine.
    func attach(_ continuation: CheckedContinuation<TransferOutcome, any Error>) {
        self.continuation = continuation
    }

    // MARK: - Setting up the easy handle (engine thread)

    /// Sets every option for this attempt on a fresh or reset easy handle.
    func configure(_ easy: UnsafeMutableRawPointer) -> TransportFailure? {
        let me = Unmanaged.passUnretained(self).toOpaque()
        var failed: (String, CURLcode)?
        func set(_ name: String, _ rc: CURLcode) {
            if rc != CURLE_OK, failed == nil { failed = (name, rc) }
        }
        set("URL", promobot_curl_easy_setopt_string(easy, CURLOPT_URL, request.url.absoluteString))
        set("NOSIGNAL", promobot_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set("PROTOCOLS_STR", promobot_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set("ERRORBUFFER", promobot_curl_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        set("WRITEFUNCTION", promobot_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        set("WRITEDATA", promobot_curl_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me))
        set("HEADERFUNCTION", promobot_curl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        set("HEADERDATA", promobot_curl_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, me))
        set("CONNECTTIMEOUT_MS", promobot_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)))
        set("TIMEOUT_MS", promobot_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.totalTimeout)))
        set("TCP_KEEPALIVE", promobot_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set("ACCEPT_ENCODING", promobot_curl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""))
        set("USERAGENT", promobot_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, configuration.userAgent))
        set("SSL_VERIFYPEER", promobot_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0))
        set("SSL_VERIFYHOST", promobot_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0))
        if let caBundlePath = configuration.caBundlePath {
            set("CAINFO", promobot_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caBundlePath))
        }
        switch configuration.proxy {
        case .environment: break  // libcurl reads http_proxy/https_proxy/no_proxy when CURLOPT_PROXY is unset.
        case .none: set("PROXY", promobot_curl_easy_setopt_string(easy, CURLOPT_PROXY, ""))
        case .url(let proxy): set("PROXY", promobot_curl_easy_setopt_string(easy, CURLOPT_PROXY, proxy))
        }

        let method = request.method
        let sendsBody = request.body != nil || method == .post || method == .put || method == .patch
        if method == .head {
            set("NOBODY", promobot_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if sendsBody {
            let body = request.body ?? Data()
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, body.count), alignment: 1)
            body.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
            }
            requestBody = buffer
            set("POSTFIELDSIZE_LARGE", promobot_curl_easy_setopt_int64(easy, CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count)))
            set("POSTFIELDS", promobot_curl_easy_setopt_ptr(easy, CURLOPT_POSTFIELDS, buffer))
            if method != .post {
                set("CUSTOMREQUEST", promobot_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method.rawValue))
            }
        } else if method != .get {
            set("CUSTOMREQUEST", promobot_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method.rawValue))
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for field in request.headers {
            // curl's syntax for a header with an empty value is "Name;".
            list = curl_slist_append(list, field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        // Without these, curl would wait for "100 Continue" on larger bodies and label bodies as form data.
        if request.headers["Expect"] == nil { list = curl_slist_append(list, "Expect:") }
        if sendsBody, request.headers["Content-Type"] == nil { list = curl_slist_append(list, "Content-Type:") }
        headerList = list
        set("HTTPHEADER", promobot_curl_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, list))

        guard let (name, rc) = failed else { return nil }
        return TransportFailure(
            kind: .other,
            message: "libcurl rejected option CURLOPT_\(name): \(String(cString: curl_easy_strerror(rc)))",
            curlCode: Int(rc.rawValue))
    }

    // MARK: - Callbacks (engine thread, inside curl_multi_perform)

    fileprivate func receiveBody(_ data: UnsafeRawPointer, count: Int) -> Int {
        if responseBody.count + count > configuration.maxResponseSize {
            responseTooLarge = true
            return 0  // makes libcurl abort with CURLE_WRITE_ERROR
        }
        responseBody.append(data.assumingMemoryBound(to: UInt8.self), count: count)
        return count
    }

    fileprivate func receiveHeaderLine(_ data: UnsafeRawPointer, count: Int) -> Int {
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new status line: an interim (1xx) response came before, forget its headers.
            responseHeaders = HTTPHeaders()
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            if !name.isEmpty { responseHeaders.add(name, value) }
        }
        return count
    }

    // MARK: - Finishing (exactly one of these runs, once)

    /// Reads the result off `easy` after libcurl finished with `code`, and resumes the sender.
    func complete(easy: UnsafeMutableRawPointer, code: CURLcode) {
        var connects = 0
        _ = promobot_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            fail(TransportFailure(
                kind: responseTooLarge ? .responseTooLarge : Self.kind(of: code),
                message: responseTooLarge ? "the body exceeded \(configuration.maxResponseSize) bytes" : message,
                curlCode: Int(code.rawValue)))
            return
        }
        var status = 0
        _ = promobot_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPResponse(status: status, headers: responseHeaders, body: responseBody)
        resume(with: .success(TransferOutcome(response: response, newConnections: connects)))
    }

    /// Resumes the sender with `error` (a `TransportFailure` or `CancellationError`).
    func fail(_ error: any Error) {
        resume(with: .failure(error))
    }

    private func resume(with result: Result<TransferOutcome, any Error>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result)
    }

    // MARK: - Helpers

    /// libcurl treats 0 as "no timeout", so anything shorter than a millisecond becomes 1 ms.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        return max(1, Int(ms.partialValue + attoseconds / 1_000_000_000_000_000))
    }

    static func kind(of code: CURLcode) -> HTTPError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT:
            .connect
        case CURLE_OPERATION_TIMEDOUT:
            .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED:
            .tls
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2,
             CURLE_HTTP2_STREAM:
            .dropped
        case CURLE_TOO_MANY_REDIRECTS:
            .tooManyRedirects
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            .invalidRequest
        default:
            .other
        }
    }
}

// C callbacks: plain functions (no captures) that find their transfer through the userdata pointer.

private let curlWriteBody: promobot_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue().receiveBody(data, count: size * count)
}

private let curlWriteHeader: promobot_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue().receiveHeaderLine(data, count: size * count)
}
