import Foundation

/// A pipeline (`GET …/merge_requests/:iid/pipelines`, or an MR's `head_pipeline`).
/// A value type: thread-safe.
public struct GitLabPipeline: Sendable, Hashable, Decodable {
    /// A pipeline status. Open set: unknown values from newer GitLab versions decode as is.
    public struct Status: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created = Status(rawValue: "created")
        public static let waitingForResource = Status(rawValue: "waiting_for_resource")
        public static let preparing = Status(rawValue: "preparing")
        public static let waitingForCallback = Status(rawValue: "waiting_for_callback")
        public static let pending = Status(rawValue: "pending")
        public static let running = Status(rawValue: "running")
        public static let success = Status(rawValue: "success")
        public static let failed = Status(rawValue: "failed")
        public static let canceling = Status(rawValue: "canceling")
        public static let canceled = Status(rawValue: "canceled")
        public static let skipped = Status(rawValue: "skipped")
        public static let manual = Status(rawValue: "manual")
        public static let scheduled = Status(rawValue: "scheduled")

        /// Still going: the result is not known yet.
        public var isActive: Bool {
            [.created, .waitingForResource, .preparing, .waitingForCallback, .pending, .running, .canceling, .scheduled].contains(self)
        }
        /// Finished without success (`failed`, `canceled`, `skipped`).
        public var isFailure: Bool { [.failed, .canceled, .skipped].contains(self) }
        public var description: String { rawValue }
    }

    /// Global pipeline id.
    public var id: Int
    /// Project-scoped number; `nil` on older GitLab.
    public var iid: Int?
    /// Owning project; `nil` if not sent.
    public var projectID: Int?
    /// The commit it ran on.
    public var sha: String
    /// Branch or `refs/merge-requests/<iid>/head|merge`.
    public var ref: String
    /// Current status.
    public var status: Status
    /// `push`, `merge_request_event`, `api`, …; `""` if not sent.
    public var source: String
    /// Pipeline page; `""` if not sent.
    public var webURL: String
    /// Creation time; `nil` if not sent.
    public var createdAt: Date?
    /// Last update; `nil` if not sent.
    public var updatedAt: Date?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, iid: Int? = nil, projectID: Int? = nil, sha: String, ref: String, status: Status, source: String = "",
                webURL: String = "", createdAt: Date? = nil, updatedAt: Date? = nil) {
        self.id = id; self.iid = iid; self.projectID = projectID; self.sha = sha; self.ref = ref; self.status = status
        self.source = source; self.webURL = webURL; self.createdAt = createdAt; self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, iid, sha, ref, status, source
        case projectID = "project_id", webURL = "web_url", createdAt = "created_at", updatedAt = "updated_at"
    }

    /// Decodes GitLab's pipeline JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        iid = try c.decodeIfPresent(Int.self, forKey: .iid)
        projectID = try c.decodeIfPresent(Int.self, forKey: .projectID)
        sha = try c.text(.sha)
        ref = try c.text(.ref)
        status = try c.decode(Status.self, forKey: .status)
        source = try c.text(.source)
        webURL = try c.text(.webURL)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt)
    }
}
