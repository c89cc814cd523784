import Foundation

// Small public value types of the sandbox's in-process API, kept together because each is a
// few stored properties; the behaviour lives on `Sandbox`.

/// A user's role on every project, mirroring GitLab access levels.
/// `.reporter` is read-only: REST writes answer 403 and git pushes are refused.
public enum SandboxRole: String, Sendable, CaseIterable, Comparable {
    case reporter, developer, maintainer, admin

    /// GitLab's numeric access level (20 reporter, 30 developer, 40 maintainer, 50 owner/admin).
    public var accessLevel: Int {
        switch self {
        case .reporter: 20
        case .developer: 30
        case .maintainer: 40
        case .admin: 50
        }
    }

    /// Orders roles by access level.
    public static func < (lhs: SandboxRole, rhs: SandboxRole) -> Bool { lhs.accessLevel < rhs.accessLevel }

    /// Whether the role may write (REST writes, git push).
    public var canWrite: Bool { self >= .developer }
}

/// A user known to the sandbox. Tokens are never part of this value.
public struct SandboxUser: Sendable, Hashable {
    /// Numeric user id, as in GitLab's `user.id`.
    public var id: Int
    /// Login name.
    public var username: String
    /// Display name.
    public var name: String
    /// Role on every project.
    public var role: SandboxRole
}

/// A project's merge method (GitLab `merge_method`).
public enum SandboxMergeMethod: String, Sendable, CaseIterable {
    /// Always create a merge commit.
    case merge
    /// Semi-linear: the source must contain the target tip, then a merge commit is created.
    case rebaseMerge = "rebase_merge"
    /// Fast-forward only: the source must contain the target tip; no merge commit.
    case ff
}

/// A snapshot of a project's identity and URLs.
public struct SandboxProject: Sendable, Hashable {
    /// Numeric project id.
    public var id: Int
    /// Full path, e.g. `group/deploy`.
    public var path: String
    /// Default branch name.
    public var defaultBranch: String
    /// Git smart-HTTP URL: `baseURL/path.git`.
    public var httpURLToRepo: String
    /// Web URL: `baseURL/path`.
    public var webURL: String
}

/// A note (comment) on a merge request, as a snapshot.
public struct SandboxNote: Sendable, Hashable {
    /// Note id (global).
    public var id: Int
    /// Markdown body.
    public var body: String
    /// Username of the author.
    public var author: String
    /// Whether GitLab generated it (merge, close, approval events).
    public var system: Bool
}

/// A merge request snapshot for assertions in tests; changing it changes nothing in the sandbox.
public struct SandboxMergeRequest: Sendable, Hashable {
    /// Project-scoped id (`!iid`).
    public var iid: Int
    /// Title; a `Draft:` prefix makes it a draft.
    public var title: String
    /// Markdown description.
    public var description: String
    /// `opened`, `closed` or `merged`.
    public var state: String
    /// Branch the changes come from.
    public var sourceBranch: String
    /// Branch the changes go to.
    public var targetBranch: String
    /// Labels, in the order given.
    public var labels: [String]
    /// Head SHA of the source branch (frozen at merge time).
    public var sha: String?
    /// Username of the author (the token's user that created it).
    public var author: String
    /// Usernames of the assignees.
    public var assignees: [String]
    /// Usernames of the reviewers.
    public var reviewers: [String]
    /// Usernames that approved it, in order.
    public var approvedBy: [String]
    /// User notes and system notes, oldest first.
    public var notes: [SandboxNote]
    /// Whether auto-merge (merge when pipeline succeeds) is scheduled.
    public var mergeWhenPipelineSucceeds: Bool
    /// The merge (or fast-forward) commit once merged.
    public var mergeCommitSHA: String?
    /// Whether the source branch is (to be) removed on merge.
    public var shouldRemoveSourceBranch: Bool
    /// Whether the MR is (or was) squashed on merge.
    public var squash: Bool
}

/// An Argo CD application as the sandbox reports it at `GET /api/v1/applications/{name}`.
public struct SandboxArgoApplication: Sendable, Hashable {
    /// Application name (`metadata.name`).
    public var name: String
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing`, `Unknown`.
    public var health: String
    /// `status.health.message` (why Argo CD judged it so); nil omits it.
    public var healthMessage: String?
    /// `Synced`, `OutOfSync`, `Unknown`.
    public var sync: String
    /// `status.summary.images`.
    public var images: [String]
    /// `status.operationState.finishedAt`; nil omits `operationState.finishedAt`.
    public var operationFinishedAt: Date?
    /// `status.sync.revision` (the deployed git SHA).
    public var revision: String?
    /// `status.operationState.phase`; nil omits `operationState` entirely.
    public var operationPhase: String?
    /// A sandbox project it deploys from: `spec.source.repoURL` is that project's clone URL (as served
    /// when asked, so it is right whenever the sandbox started); nil omits `spec.source`.
    public var sourceProject: String?
    /// `spec.source.path`: the folder of `sourceProject` it deploys; nil means the root.
    public var sourcePath: String?

    /// Creates an application; `operationPhase` defaults to `Succeeded` when a finish time is given.
    public init(name: String, health: String = "Healthy", healthMessage: String? = nil, sync: String = "Synced", images: [String] = [],
                operationFinishedAt: Date? = nil, revision: String? = nil, operationPhase: String? = nil,
                sourceProject: String? = nil, sourcePath: String? = nil) {
        self.sourceProject = sourceProject
        self.sourcePath = sourcePath
        self.name = name
        self.health = health
        self.healthMessage = healthMessage
        self.sync = sync
        self.images = images
        self.operationFinishedAt = operationFinishedAt
        self.revision = revision
        self.operationPhase = operationPhase ?? (operationFinishedAt == nil ? nil : "Succeeded")
    }
}

/// A fault the sandbox injects into the next `count` matching requests, before routing.
public struct SandboxFault: Sendable {
    /// What happens to a matching request.
    public enum Kind: Sendable {
        /// Answer with this status, body and headers instead of handling the request.
        case status(Int, body: String = "", headers: [String: String] = [:])
        /// Wait this long, then handle the request normally.
        case delay(Duration)
        /// Close the connection without writing any response.
        case drop
    }

    /// HTTP method to match (`GET`, `PUT`...); nil matches any.
    public var method: String?
    /// Raw (still percent-encoded) path prefix to match, e.g. `/api/v4/projects/1/merge_requests`.
    public var pathPrefix: String
    /// What happens to matching requests.
    public var kind: Kind
    /// How many matching requests to affect.
    public var count: Int

    /// Creates a fault for the next `count` requests matching `method` and `pathPrefix`.
    public init(method: String? = nil, pathPrefix: String, kind: Kind, count: Int = 1) {
        self.method = method
        self.pathPrefix = pathPrefix
        self.kind = kind
        self.count = count
    }
}

/// A kind of webhook event, named by its `X-Gitlab-Event` header (apis.md §17.1).
public enum SandboxWebhookEvent: String, Sendable, Hashable, CaseIterable {
    /// A branch was created, moved or deleted (`push_events`, filtered by `push_events_branch_filter`).
    case push = "Push Hook"
    /// A tag was pushed or deleted over git (`tag_push_events`).
    case tagPush = "Tag Push Hook"
    /// A merge request was opened, updated, closed, reopened, merged, approved or unapproved (`merge_requests_events`).
    case mergeRequest = "Merge Request Hook"
    /// A pipeline's status changed (`pipeline_events`).
    case pipeline = "Pipeline Hook"
    /// A user commented on a merge request (`note_events`).
    case note = "Note Hook"

    /// The hook's REST field that subscribes to this event, e.g. `push_events`.
    public var field: String {
        switch self {
        case .push: "push_events"
        case .tagPush: "tag_push_events"
        case .mergeRequest: "merge_requests_events"
        case .pipeline: "pipeline_events"
        case .note: "note_events"
        }
    }
}

/// A project hook as a snapshot; its secret token is write-only, so only `hasToken` says whether one is set.
public struct SandboxWebhook: Sendable, Hashable {
    /// Hook id (global, as GitLab's).
    public var id: Int
    /// The project it belongs to.
    public var projectID: Int
    /// Where deliveries are POSTed.
    public var url: String
    /// Optional name (GitLab 17.1+); `""` when not set.
    public var name: String
    /// Optional description (GitLab 17.1+); `""` when not set.
    public var description: String
    /// The events it subscribes to.
    public var events: Set<SandboxWebhookEvent>
    /// Which branches' pushes it receives: `""` = all; with `branchFilterStrategy` `wildcard`, `*` matches any run of characters.
    public var pushEventsBranchFilter: String
    /// `wildcard` (default), `regex` or `all_branches`.
    public var branchFilterStrategy: String
    /// Recorded only: the sandbox delivers to http and https URLs and always verifies certificates.
    public var enableSSLVerification: Bool
    /// Whether a secret token is set (sent as `X-Gitlab-Token`).
    public var hasToken: Bool
}

/// One attempt to deliver a webhook, as the sandbox recorded it once it finished (answered, failed or timed out).
public struct SandboxWebhookDelivery: Sendable, Hashable {
    /// Delivery id, unique in the sandbox (pass the delivery to `Sandbox.redeliver` to send it again).
    public var id: Int
    /// The hook it was sent for.
    public var hookID: Int
    /// The project whose event it reports.
    public var projectID: Int
    /// `X-Gitlab-Event`.
    public var event: SandboxWebhookEvent
    /// The URL it was POSTed to.
    public var url: String
    /// The JSON body sent.
    public var body: Data
    /// `X-Gitlab-Event-UUID`: one per originating event, shared by every hook it went to.
    public var eventUUID: String
    /// `X-Gitlab-Webhook-UUID`: new for every request, redeliveries included.
    public var webhookUUID: String
    /// `Idempotency-Key`: one per event and hook, the same on every redelivery.
    public var idempotencyKey: String
    /// The receiver's HTTP status; nil when there was no answer (see `error`).
    public var statusCode: Int?
    /// Why there was no answer (`timed out after 10 s`, `connection refused`...); nil when there was one.
    public var error: String?
    /// From sending the request to the answer or the failure.
    public var duration: Duration
    /// The id of the delivery this one resent, for redeliveries.
    public var redeliveryOf: Int?

    /// GitLab's rule: a 2xx or 3xx answer.
    public var succeeded: Bool { statusCode.map { (200..<400).contains($0) } ?? false }

    /// The body decoded as a JSON object (empty when it is not one).
    public var payload: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
}

/// Errors of the in-process API. Each says what failed, where, and what to do.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    /// Human-readable explanation.
    public let description: String

    init(_ description: String) { self.description = description }

    static func projectNotFound(_ path: String) -> SandboxError {
        SandboxError("sandbox: project '\(path)' does not exist; create it first with createProject(path:)")
    }
    static func mergeRequestNotFound(_ project: String, _ iid: Int) -> SandboxError {
        SandboxError("sandbox: merge request \(project)!\(iid) does not exist")
    }
    static func git(_ what: String, _ result: ProcessResult) -> SandboxError {
        SandboxError("sandbox: git \(what) failed (exit \(result.status)): \(result.errorText)")
    }
}
