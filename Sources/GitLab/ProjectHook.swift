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
    /// The events it receives.
    public var events: ProjectHookEvents
    /// Whether GitLab verifies the receiver's TLS certificate.
    public var enableSSLVerification: Bool
    /// `executable`, `disabled`, `temporarily_disabled`; `""` if not sent.
    public var alertStatus: String
    /// Creation time; `nil` if not sent.
    public var createdAt: Date?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, url: String, projectID: Int? = nil, name: String = "", description: String = "",
                events: ProjectHookEvents = ProjectHookEvents(), enableSSLVerification: Bool = true,
                alertStatus: String = "executable", createdAt: Date? = nil) {
        self.id = id; self.url = url; self.projectID = projectID; self.name = name; self.description = description
        self.events = events; self.enableSSLVerification = enableSSLVerification; self.alertStatus = alertStatus
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, url, name, description
        case projectID = "project_id", enableSSLVerification = "enable_ssl_verification", alertStatus = "alert_status"
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
        events = try ProjectHookEvents(from: decoder)
        enableSSLVerification = try c.flag(.enableSSLVerification)
        alertStatus = try c.text(.alertStatus)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
    }
}

/// Which events a project hook receives: GitLab's `*_events` fields and `push_events_branch_filter`, read from a
/// hook and sent when creating or updating one. A value type: thread-safe.
public struct ProjectHookEvents: Sendable, Hashable, Decodable, CustomStringConvertible {
    /// Branch pushes (`Push Hook`; GitLab's default: on).
    public var push: Bool
    /// Only these branches' pushes: `""` for all, else a name or a wildcard pattern.
    public var pushBranchFilter: String
    /// Tag pushes (`Tag Push Hook`).
    public var tagPush: Bool
    /// Merge request events (`Merge Request Hook`).
    public var mergeRequests: Bool
    /// Pipeline status changes (`Pipeline Hook`).
    public var pipelines: Bool
    /// Comments (`Note Hook`).
    public var notes: Bool

    /// - Parameters: see the properties; the defaults are GitLab's.
    public init(push: Bool = true, pushBranchFilter: String = "", tagPush: Bool = false, mergeRequests: Bool = false,
                pipelines: Bool = false, notes: Bool = false) {
        self.push = push; self.pushBranchFilter = pushBranchFilter; self.tagPush = tagPush
        self.mergeRequests = mergeRequests; self.pipelines = pipelines; self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case push = "push_events", pushBranchFilter = "push_events_branch_filter", tagPush = "tag_push_events"
        case mergeRequests = "merge_requests_events", pipelines = "pipeline_events", notes = "note_events"
    }

    /// Decodes the fields from a hook's JSON; absent or `null` read as off (and `""` for the filter).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        push = try c.flag(.push)
        pushBranchFilter = try c.text(.pushBranchFilter)
        tagPush = try c.flag(.tagPush)
        mergeRequests = try c.flag(.mergeRequests)
        pipelines = try c.flag(.pipelines)
        notes = try c.flag(.notes)
    }

    /// The events that are on, for people: `push, merge requests, pipelines` (`none` when none is).
    public var description: String {
        let on = [(push, "push"), (tagPush, "tag push"), (mergeRequests, "merge requests"), (pipelines, "pipelines"), (notes, "comments")]
            .filter(\.0).map(\.1)
        return on.isEmpty ? "none" : on.joined(separator: ", ")
    }

    /// The request body's fields.
    var fields: [String: JSONValue] {
        ["push_events": .bool(push), "push_events_branch_filter": .string(pushBranchFilter), "tag_push_events": .bool(tagPush),
         "merge_requests_events": .bool(mergeRequests), "pipeline_events": .bool(pipelines), "note_events": .bool(notes)]
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
    /// Optional name; `nil` leaves it alone.
    public var name: String?
    /// Optional description; `nil` leaves it alone.
    public var description: String?
    /// The events it receives.
    public var events: ProjectHookEvents
    /// Verify the receiver's TLS certificate (GitLab's default: on).
    public var enableSSLVerification: Bool

    /// - Parameters: see the properties; the defaults are GitLab's.
    public init(url: String, token: HookToken? = nil, name: String? = nil, description: String? = nil,
                events: ProjectHookEvents = ProjectHookEvents(), enableSSLVerification: Bool = true) {
        self.url = url; self.token = token; self.name = name; self.description = description
        self.events = events; self.enableSSLVerification = enableSSLVerification
    }

    /// The request body.
    var body: [String: JSONValue] {
        var body = events.fields
        body["url"] = .string(url)
        body["enable_ssl_verification"] = .bool(enableSSLVerification)
        if let token { body["token"] = .string(token.value) }
        if let name { body["name"] = .string(name) }
        if let description { body["description"] = .string(description) }
        return body
    }
}
