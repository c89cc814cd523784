import Foundation
import HTTP

/// A project webhook as GitLab returns it (`GET /projects/:id/hooks`). The secret token is write-only: GitLab
/// never returns it, so it is not here. A value type: thread-safe.
public struct ProjectHook: Sendable, Hashable, Decodable {
    /// Hook id (for `updateHook` and `deleteHook`).
    public var id: Int
    /// Where GitLab POSTs the events.
    public var url: String
    /// Owning project; `nil` if not sent.
    public var projectID: Int?
    /// Optional name (GitLab 17.1+); `""` when not set or not sent.
    public var name: String
    /// Optional description (GitLab 17.1+); `""` when not set or not sent.
    public var description: String
    /// Branch pushes (`Push Hook`).
    public var pushEvents: Bool
    /// Which branches' pushes: `""` for all, else a name or a wildcard pattern.
    public var pushEventsBranchFilter: String
    /// Tag pushes (`Tag Push Hook`).
    public var tagPushEvents: Bool
    /// Merge request events (`Merge Request Hook`).
    public var mergeRequestsEvents: Bool
    /// Pipeline status changes (`Pipeline Hook`).
    public var pipelineEvents: Bool
    /// Comments (`Note Hook`).
    public var noteEvents: Bool
    /// Whether GitLab verifies the receiver's TLS certificate.
    public var enableSSLVerification: Bool
    /// `executable`, `disabled`, `temporarily_disabled`; `""` if not sent.
    public var alertStatus: String
    /// Creation time; `nil` if not sent.
    public var createdAt: Date?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, url: String, projectID: Int? = nil, name: String = "", description: String = "", pushEvents: Bool = true,
                pushEventsBranchFilter: String = "", tagPushEvents: Bool = false, mergeRequestsEvents: Bool = false,
                pipelineEvents: Bool = false, noteEvents: Bool = false, enableSSLVerification: Bool = true,
                alertStatus: String = "executable", createdAt: Date? = nil) {
        self.id = id; self.url = url; self.projectID = projectID; self.name = name; self.description = description
        self.pushEvents = pushEvents; self.pushEventsBranchFilter = pushEventsBranchFilter; self.tagPushEvents = tagPushEvents
        self.mergeRequestsEvents = mergeRequestsEvents; self.pipelineEvents = pipelineEvents; self.noteEvents = noteEvents
        self.enableSSLVerification = enableSSLVerification; self.alertStatus = alertStatus; self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, url, name, description
        case projectID = "project_id", pushEvents = "push_events", pushEventsBranchFilter = "push_events_branch_filter"
        case tagPushEvents = "tag_push_events", mergeRequestsEvents = "merge_requests_events", pipelineEvents = "pipeline_events"
        case noteEvents = "note_events", enableSSLVerification = "enable_ssl_verification", alertStatus = "alert_status"
        case createdAt = "created_at"
    }

    /// Decodes GitLab's project hook JSON; absent or `null` booleans read as `false`, texts as `""`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        url = try c.decode(String.self, forKey: .url)
        projectID = try c.decodeIfPresent(Int.self, forKey: .projectID)
        name = try c.text(.name)
        description = try c.text(.description)
        pushEvents = try c.flag(.pushEvents)
        pushEventsBranchFilter = try c.text(.pushEventsBranchFilter)
        tagPushEvents = try c.flag(.tagPushEvents)
        mergeRequestsEvents = try c.flag(.mergeRequestsEvents)
        pipelineEvents = try c.flag(.pipelineEvents)
        noteEvents = try c.flag(.noteEvents)
        enableSSLVerification = try c.flag(.enableSSLVerification)
        alertStatus = try c.text(.alertStatus)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
    }
}

/// A webhook's secret token (GitLab's `token`, sent back by GitLab as `X-Gitlab-Token`).
///
/// The value only ever goes into a request body; `description`, `debugDescription` and reflection (`dump`,
/// `Mirror`) never show it, so it cannot leak through interpolation or logs. A value type: thread-safe.
public struct HookToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Never log or interpolate it.
    public let value: String

    /// Wraps a secret.
    public init(_ value: String) { self.value = value }

    /// `HookToken(REDACTED)`: never the value.
    public var description: String { "HookToken(\(Redaction.placeholder))" }
    /// Same as `description`.
    public var debugDescription: String { description }
    /// Hides the value from `dump` and `Mirror`.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// What `GitLabClient.createHook(_:_:)` and `updateHook(_:id:_:)` send: every field, so an update leaves the
/// hook exactly so. A value type: thread-safe.
public struct ProjectHookSettings: Sendable, Hashable {
    /// Where GitLab POSTs the events (required by create and update).
    public var url: String
    /// The secret GitLab sends as `X-Gitlab-Token`; `nil` sends none, which keeps the current one on an
    /// update, unless the URL changes (GitLab then drops it).
    public var token: HookToken?
    /// Optional name and description; `nil` leaves them alone.
    public var name: String?
    /// See `name`.
    public var description: String?
    /// Branch pushes (GitLab's default: on).
    public var pushEvents: Bool
    /// Only these branches' pushes (`""`: all).
    public var pushEventsBranchFilter: String
    /// Tag pushes.
    public var tagPushEvents: Bool
    /// Merge request events.
    public var mergeRequestsEvents: Bool
    /// Pipeline status changes.
    public var pipelineEvents: Bool
    /// Comments.
    public var noteEvents: Bool
    /// Verify the receiver's TLS certificate (GitLab's default: on).
    public var enableSSLVerification: Bool

    /// - Parameters: see the properties; the defaults are GitLab's.
    public init(url: String, token: HookToken? = nil, name: String? = nil, description: String? = nil, pushEvents: Bool = true,
                pushEventsBranchFilter: String = "", tagPushEvents: Bool = false, mergeRequestsEvents: Bool = false,
                pipelineEvents: Bool = false, noteEvents: Bool = false, enableSSLVerification: Bool = true) {
        self.url = url; self.token = token; self.name = name; self.description = description; self.pushEvents = pushEvents
        self.pushEventsBranchFilter = pushEventsBranchFilter; self.tagPushEvents = tagPushEvents
        self.mergeRequestsEvents = mergeRequestsEvents; self.pipelineEvents = pipelineEvents; self.noteEvents = noteEvents
        self.enableSSLVerification = enableSSLVerification
    }

    /// The request body.
    var body: [String: JSONValue] {
        var body: [String: JSONValue] = [
            "url": .string(url), "push_events": .bool(pushEvents), "push_events_branch_filter": .string(pushEventsBranchFilter),
            "tag_push_events": .bool(tagPushEvents), "merge_requests_events": .bool(mergeRequestsEvents),
            "pipeline_events": .bool(pipelineEvents), "note_events": .bool(noteEvents),
            "enable_ssl_verification": .bool(enableSSLVerification),
        ]
        if let token { body["token"] = .string(token.value) }
        if let name { body["name"] = .string(name) }
        if let description { body["description"] = .string(description) }
        return body
    }
}
