import CGitShims
import Foundation
import HTTP

/// Why a failed git network step is worth trying again, and what the server said about waiting (internal).
///
/// Transient: a connect failure, a reset or dropped connection, an I/O timeout (all seen by promobot's
/// TCP stream), or an HTTP status REST retries too (`RetryPolicy.isRetryable(status:)`: 408, 429, 5xx).
/// Never transient: authentication, certificate and not-found errors, lease and hook rejections, and any
/// other network error the stream did not see break (a login page instead of git, too many redirects).
struct TransientFailure: Sendable, Hashable {
    /// The HTTP status that failed the step, when there was one (e.g. 503).
    var status: Int?
    /// The server's `Retry-After` for that status. Seen for plain http only: over https promobot's stream
    /// carries TLS records and libgit2 does not pass response headers on, so there the backoff applies.
    var retryAfter: String?

    /// What this thread's connections saw during the step that just failed.
    struct Observation: Sendable, Hashable {
        /// One of `PROMOBOT_GIT_TRANSPORT_*`.
        var failure: Int32 = PROMOBOT_GIT_TRANSPORT_OK
        /// The status of the last plain-http response head (0: none seen).
        var status: Int = 0
        /// Its `Retry-After` value ("" when absent).
        var retryAfter: String = ""

        /// Reads the stream's thread-local record: call on the thread that ran the failing libgit2 call,
        /// right after it.
        static func current() -> Observation {
            var buffer = [CChar](repeating: 0, count: 64)
            promobot_git_observed_retry_after(&buffer, buffer.count)
            let retryAfter = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return Observation(failure: promobot_git_observed_failure(), status: Int(promobot_git_observed_status()),
                               retryAfter: retryAfter)
        }

        /// Forgets the record before a step, so a failure is judged by what that step saw.
        static func reset() { promobot_git_observation_reset() }
    }

    /// Whether the failure with `kind` and libgit2's `message`, after a step that saw `observation`, is
    /// transient; nil when it is not.
    static func classify(kind: GitError.Kind, message: String, observation: Observation) -> TransientFailure? {
        guard kind == .network else { return nil }
        if let status = httpStatus(in: message) {
            guard RetryPolicy.isRetryable(status: status) else { return nil }
            let retryAfter = observation.status == status && !observation.retryAfter.isEmpty ? observation.retryAfter : nil
            return TransientFailure(status: status, retryAfter: retryAfter)
        }
        switch observation.failure {
        case PROMOBOT_GIT_TRANSPORT_CONNECT, PROMOBOT_GIT_TRANSPORT_IO:
            return TransientFailure()
        case PROMOBOT_GIT_TRANSPORT_EOF:
            // The peer hung up. A drop when libgit2 says the answer was cut short; a server that closes after
            // a complete (HTTP/1.0-style) answer libgit2 rejected, e.g. a login page, is not retried.
            let lowercased = message.lowercased()
            return cutShortMessages.contains { lowercased.contains($0) } ? TransientFailure() : nil
        default:
            return nil
        }
    }

    /// libgit2 1.5's words for an answer that ended too soon: its HTTP client ("unexpected EOF"), the
    /// http-parser ("stream ended at an unexpected time"), the pack protocol ("early EOF"), and a TLS read
    /// that hit the end of the connection ("SSL error: …").
    static let cutShortMessages = ["eof", "unexpected time", "ssl error"]

    /// The status in libgit2's "unexpected http status code: 503".
    static func httpStatus(in message: String) -> Int? {
        guard let range = message.range(of: "status code: ") else { return nil }
        let digits = message[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return digits.count == 3 ? Int(digits) : nil
    }

    /// How long to wait before the next attempt: the server's `Retry-After` when it gave one, else the
    /// policy's jittered backoff (both capped by `policy.maxDelay`).
    func delay(afterAttempt attempt: Int, policy: RetryPolicy) -> Duration {
        let response = status.map { status in
            HTTPResponse(status: status, headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        }
        return policy.delay(afterAttempt: attempt, response: response)
    }
}
