import Foundation

/// A request GitLab refused or answered in a way the client cannot use.
///
/// Carries the HTTP `status`, GitLab's `message` (flattened from its string, array, hash and
/// `error`/`error_description` forms), the request's method and encoded path (never the query,
/// never the token) and an `operation` such as `merge !4` so `description` can say what failed,
/// where, and what to do. Transport failures (connect, TLS, timeout) are not wrapped: they
/// arrive as the HTTP module's errors. A value type: thread-safe.
public struct GitLabError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal this is, mostly by HTTP status.
    public enum Kind: String, Sendable, Hashable {
        /// 400: a parameter is missing or invalid, or GitLab refused a write (e.g. branch delete).
        case badRequest
        /// 401: the token is missing, wrong, expired or revoked; on merge/approve, no permission.
        case unauthorized
        /// 403: the token lacks a scope (e.g. `read_api`) or its user lacks a role.
        case forbidden
        /// 404: the resource does not exist or the token's user cannot see it.
        case notFound
        /// 405: not allowed now, e.g. the MR cannot be merged yet.
        case methodNotAllowed
        /// 409: duplicate MR, SHA mismatch, or a transient "Resource lock".
        case conflict
        /// 422: GitLab understood but could not do it (e.g. "Branch cannot be merged").
        case unprocessable
        /// 429: GitLab's rate limit; see `retryAfter`.
        case rateLimited
        /// 5xx: GitLab failed.
        case server
        /// This client's own `RequestBudget` had no request left within its wait bound.
        case budgetExhausted
        /// Anything else: another status, an undecodable body, a refused pagination link.
        case unexpected
    }

    /// The category the engine switches on.
    public var kind: Kind
    /// The HTTP status, or `nil` when the refusal is the client's own (`.budgetExhausted`, an unknown username).
    public var status: Int?
    /// GitLab's message, flattened to one line; never contains the token.
    public var message: String
    /// The request method, e.g. `PUT`.
    public var method: String
    /// The request path below `/api/v4`, percent-encoded as sent, without query.
    public var path: String
    /// What the client was doing, e.g. `merge !4 in group/oms`; may be empty.
    public var operation: String
    /// From `Retry-After` on a 429, when GitLab sent one.
    public var retryAfter: Duration?

    /// Creates an error; the client builds these, tests and fakes may too.
    public init(kind: Kind, status: Int?, message: String, method: String, path: String, operation: String = "", retryAfter: Duration? = nil) {
        self.kind = kind
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.operation = operation
        self.retryAfter = retryAfter
    }

    /// The kind GitLab's status maps to.
    public static func kind(forStatus status: Int) -> Kind {
        switch status {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 409: .conflict
        case 422: .unprocessable
        case 429: .rateLimited
        case 500...599: .server
        default: .unexpected
        }
    }

    // MARK: - Helpers the engine relies on

    /// True for 409 "Another open merge request already exists for this source branch: !N":
    /// the MR the bot wants already exists; adopt `existingMergeRequestIID`.
    public var isDuplicateMergeRequest: Bool {
        status == 409 && message.range(of: "Another open merge request already exists", options: .caseInsensitive) != nil
    }

    /// The `N` of `!N` in a duplicate-MR message, or `nil`.
    public var existingMergeRequestIID: Int? {
        guard isDuplicateMergeRequest,
              let marker = message.range(of: "already exists for this source branch", options: .caseInsensitive)
        else { return nil }
        let rest = message[marker.upperBound...]
        guard let bang = rest.firstIndex(of: "!") else { return nil }
        let digits = rest[rest.index(after: bang)...].prefix(while: \.isASCII).prefix(while: \.isNumber)
        return Int(digits)
    }

    /// True for 409 "Resource lock": GitLab was busy with the same object; retrying soon works.
    public var isResourceLock: Bool {
        status == 409 && message.range(of: "Resource lock", options: .caseInsensitive) != nil
    }

    /// True for 409 "SHA does not match HEAD of source branch": the branch moved; re-read the MR.
    public var isSHAMismatch: Bool {
        status == 409 && message.range(of: "SHA does not match", options: .caseInsensitive) != nil
    }

    /// True when GitLab refused because the MR's source branch does not exist (yet): right after
    /// a push it may not be visible to the MR service.
    public var isMissingSourceBranch: Bool {
        guard status == 400 || status == 422 || status == 404 else { return false }
        let lower = message.lowercased()
        return lower.contains("source_branch does not exist")
            || (lower.contains("source branch") && lower.contains("does not exist"))
    }

    /// True for a 403 whose token lacks a scope (`insufficient_scope`, e.g. a `read_api` token writing).
    public var isInsufficientScope: Bool {
        status == 403 && (message.contains("insufficient_scope") || message.contains("higher privileges than provided by the access token"))
    }

    // MARK: - Description

    /// "GitLab answered 403 Forbidden for PUT /projects/group%2Foms/merge_requests/4/merge (merge !4 in group/oms):
    /// <message> — <what to do>". Never contains the token.
    public var description: String {
        var text: String
        if let status {
            text = "GitLab answered \(status) \(Self.reasonPhrase(status)) for \(method) \(path)"
        } else if kind == .budgetExhausted {
            text = "GitLab request \(method) \(path) was not sent"
        } else {
            text = "GitLab request \(method) \(path) failed"
        }
        if !operation.isEmpty { text += " (\(operation))" }
        if !message.isEmpty { text += ": \(message)" }
        if let hint { text += " — \(hint)" }
        return text
    }

    /// What a user can do about it.
    var hint: String? {
        let isMerge = method == "PUT" && path.hasSuffix("/merge")
        let isApprove = method == "POST" && path.hasSuffix("/approve")
        switch kind {
        case .unauthorized:
            if isMerge { return "the token's user cannot merge into the target branch — check its role (Developer or higher) and the branch protection's 'allowed to merge'" }
            if isApprove { return "the token's user cannot approve this merge request (already approved, is its author, or not an eligible approver)" }
            return "the token is missing, wrong, expired or revoked — create a new access token with scope 'api' and configure it"
        case .forbidden:
            if isInsufficientScope { return "the token's scopes do not allow this (a 'read_api' token cannot write) — use a token with scope 'api'" }
            if isMerge { return "the token's user cannot merge into the target branch — check its role or the branch protection" }
            return "the token's user lacks the permission — check its role in the project (Developer or higher to open and update merge requests)"
        case .notFound:
            if path.hasPrefix("/user") { return "no such user, or this GitLab does not serve the users API — check the username and the GitLab URL" }
            if message == "404 Not Found" { return "GitLab has no such route or object — check that the GitLab URL points at the instance root (without /api/v4 or with it, nothing else)" }
            return "it does not exist or the token's user cannot see it — check the project path or id, the merge request iid, and that the user is a member of the project"
        case .methodNotAllowed:
            if isMerge { return "the merge request cannot be merged now (draft, conflicts, pipeline not finished or failed, approvals missing, unresolved threads, or not open) — check its detailed_merge_status" }
            return "GitLab does not allow this operation in the object's current state"
        case .conflict:
            if isDuplicateMergeRequest { return "an open merge request already exists for this source branch" + (existingMergeRequestIID.map { " (!\($0)); adopt it" } ?? "") }
            if isSHAMismatch { return "the source branch moved since it was read — re-read the merge request and try again" }
            if isResourceLock { return "GitLab was busy with this object; retried without success — try again shortly" }
            return "the object changed or already exists — re-read it and try again"
        case .unprocessable:
            if isMerge { return "GitLab tried but could not merge (conflict or race) — re-read the merge request" }
            return "GitLab could not process the request — check the branches and parameters"
        case .badRequest:
            if isMissingSourceBranch { return "the source branch is not visible to GitLab — push it first" }
            return "a parameter was missing or invalid"
        case .rateLimited:
            // Whole seconds, rounded up: waiting the printed time is always enough.
            let after = retryAfter.map { " (retry after \($0.components.seconds + ($0.components.attoseconds > 0 ? 1 : 0)) s)" } ?? ""
            return "GitLab's rate limit was hit\(after) — lower the request budget or run less often"
        case .server:
            return "GitLab failed internally — retry later; check GitLab's status if it persists"
        case .budgetExhausted:
            return "this run used its client-side request budget — raise requests per minute or the wait bound, or split the run"
        case .unexpected:
            return nil
        }
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "HTTP \(status)"
        }
    }
}
