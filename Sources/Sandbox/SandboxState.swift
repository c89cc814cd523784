import Foundation

// The sandbox's in-memory model. Everything here is guarded by `Sandbox.state` (one lock);
// git data lives in the bare repositories, never here.

struct UserRecord: Sendable {
    var id: Int
    var username: String
    var name: String
    var role: SandboxRole
    var createdAt: Date

    var publicValue: SandboxUser { SandboxUser(id: id, username: username, name: name, role: role) }
}

struct NoteRecord: Sendable {
    var id: Int
    var body: String
    var authorID: Int
    var system: Bool
    var createdAt: Date
    var updatedAt: Date
}

struct PipelineRecord: Sendable {
    var id: Int
    var iid: Int
    var sha: String
    var ref: String
    var status: String
    var source: String
    var createdAt: Date
    var updatedAt: Date

    static let activeStatuses: Set<String> = ["created", "waiting_for_resource", "preparing", "pending", "running", "scheduled", "waiting_for_callback"]
    var isActive: Bool { Self.activeStatuses.contains(status) }
}

struct MergeRequestRecord: Sendable {
    var id: Int
    var iid: Int
    var projectID: Int
    var title: String
    var description: String
    var state: String = "opened"
    var sourceBranch: String
    var targetBranch: String
    var labels: [String] = []
    var authorID: Int
    var assigneeIDs: [Int] = []
    var reviewerIDs: [Int] = []
    var forceRemoveSourceBranch: Bool?
    var shouldRemoveSourceBranch: Bool?
    var squash: Bool = false
    var approvalsRequired: Int?
    /// Each approval with the source head it was given on (`resetApprovalsOnPush` drops older ones).
    var approvals: [(userID: Int, at: Date, sha: String?)] = []
    var notes: [NoteRecord] = []
    var createdAt: Date
    var updatedAt: Date
    var mergedAt: Date?
    var closedAt: Date?
    var mergedByID: Int?
    var closedByID: Int?
    var mergeCommitSHA: String?
    var squashCommitSHA: String?
    /// Head SHA frozen when the MR stops being open (the branch may be deleted later).
    var frozenSHA: String?
    var autoMerge = false
    var autoMergeUserID: Int?
    var mergeError: String?

    var isDraft: Bool {
        let t = title.lowercased()
        return t.hasPrefix("draft:") || t.hasPrefix("[draft]") || t.hasPrefix("(draft)") || t.hasPrefix("wip:")
    }
}

struct ProjectRecord: Sendable {
    var id: Int
    var path: String
    var defaultBranch: String
    var mergeMethod: SandboxMergeMethod
    var approvalsRequired: Int = 0
    var pipelineMustSucceed: Bool = true
    /// GitLab's "Remove all approvals when commits are added to the source branch" (on by default here).
    var resetApprovalsOnPush: Bool = true
    /// How long GitLab reports `checking` after an MR's head changes (it computes mergeability
    /// asynchronously); 0 answers at once.
    var mergeabilityDelay: TimeInterval = 0
    /// Protected branch -> push access level (0 = no one).
    var protected: [String: Int] = [:]
    var createdAt: Date
    var mergeRequests: [MergeRequestRecord] = []
    var pipelines: [PipelineRecord] = []
    var repository: GitRepository

    var name: String { String(path.split(separator: "/").last ?? Substring(path)) }
    var namespace: String { path.split(separator: "/").dropLast().joined(separator: "/") }
}

/// A project hook; `token` is write-only in the REST API (never rendered).
struct HookRecord: Sendable {
    var id: Int
    var projectID: Int
    var url: String
    var name: String = ""
    var description: String = ""
    var token: String?
    var events: Set<SandboxWebhookEvent> = [.push]
    var pushEventsBranchFilter: String = ""
    var branchFilterStrategy: String = "wildcard"
    var enableSSLVerification: Bool = true
    var createdAt: Date

    var publicValue: SandboxWebhook {
        SandboxWebhook(id: id, projectID: projectID, url: url, name: name, description: description, events: events,
                       pushEventsBranchFilter: pushEventsBranchFilter, branchFilterStrategy: branchFilterStrategy,
                       enableSSLVerification: enableSSLVerification, hasToken: token != nil)
    }

    /// Whether an `event` (on `branch`, for pushes) goes to this hook: its event flag, then for branch pushes
    /// the branch filter (GitLab's `RefMatcher`: an exact name, or a wildcard where `*` matches anything).
    func wants(_ event: SandboxWebhookEvent, branch: String?) -> Bool {
        guard events.contains(event) else { return false }
        guard event == .push, let branch, !pushEventsBranchFilter.isEmpty else { return true }
        switch branchFilterStrategy {
        case "all_branches": return true
        case "regex": return Self.matches(pushEventsBranchFilter, branch, whole: false)
        default:
            if branch == pushEventsBranchFilter { return true }
            let pattern = NSRegularExpression.escapedPattern(for: pushEventsBranchFilter).replacingOccurrences(of: "\\*", with: ".*")
            return Self.matches(pattern, branch, whole: true)
        }
    }

    private static func matches(_ pattern: String, _ text: String, whole: Bool) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        let match = try? (whole ? regex.wholeMatch(in: text) : regex.firstMatch(in: text))
        return match != nil
    }
}

struct FaultRecord: Sendable {
    var fault: SandboxFault
    var remaining: Int
}

struct SandboxState: Sendable {
    /// See `Sandbox.serveGitOverSSH(at:)`.
    var sshHost: String?
    var users: [Int: UserRecord] = [:]
    var tokens: [String: Int] = [:]
    var projects: [Int: ProjectRecord] = [:]
    var projectIDsByPath: [String: Int] = [:]
    var nextUserID = 1
    var nextProjectID = 1
    var nextMergeRequestID = 1
    var nextNoteID = 1
    var nextPipelineID = 1
    var argo: [String: SandboxArgoApplication] = [:]
    /// The container registry (`/v2/`): repositories, tags, manifests, tokens.
    var registry = RegistryState()
    var prometheus: [String: Double?] = [:]
    var faults: [FaultRecord] = []
    var hooks: [Int: HookRecord] = [:]
    var nextHookID = 1
    var requestLog: [(method: String, path: String)] = []
    /// "target..source" -> merged tree (nil = conflict). SHAs are immutable, so this never goes stale.
    var mergeTreeCache: [String: String?] = [:]
    /// When each MR head was first looked at, for `mergeabilityDelay`.
    var headFirstSeen: [String: Date] = [:]
    /// "a..b" -> whether a is an ancestor of b.
    var ancestorCache: [String: Bool] = [:]

    func project(_ key: String) -> ProjectRecord? {
        if let id = Int(key) { return projects[id] }
        return projectIDsByPath[key].flatMap { projects[$0] }
    }

    func user(named username: String) -> UserRecord? {
        users.values.first { $0.username == username }
    }
}
