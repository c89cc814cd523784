/// Filters for `GitLabClient.mergeRequests(_:_:)`. A value type: thread-safe.
///
/// `state` defaults to `.opened`, unlike GitLab's server default (`all`): a bot looking for
/// "its" MR must not adopt a merged or closed one by accident.
public struct MergeRequestQuery: Sendable, Hashable {
    /// Which states to list.
    public enum StateFilter: String, Sendable, Hashable {
        case opened, closed, locked, merged, all
    }
    /// Whose MRs to list.
    public enum Scope: String, Sendable, Hashable {
        case createdByMe = "created_by_me", assignedToMe = "assigned_to_me", all
    }

    public var state: StateFilter
    /// Exact source branch name.
    public var sourceBranch: String?
    /// Exact target branch name.
    public var targetBranch: String?
    /// The MR must carry all of these.
    public var labels: [String]
    public var scope: Scope?
    /// Exact author username.
    public var authorUsername: String?

    /// - Parameters: see the properties; all optional filters default to "no filter".
    public init(state: StateFilter = .opened, sourceBranch: String? = nil, targetBranch: String? = nil, labels: [String] = [],
                scope: Scope? = nil, authorUsername: String? = nil) {
        self.state = state; self.sourceBranch = sourceBranch; self.targetBranch = targetBranch
        self.labels = labels; self.scope = scope; self.authorUsername = authorUsername
    }

    /// The query parameters, in a stable order.
    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = [("state", state.rawValue)]
        if let sourceBranch { items.append(("source_branch", sourceBranch)) }
        if let targetBranch { items.append(("target_branch", targetBranch)) }
        if !labels.isEmpty { items.append(("labels", labels.joined(separator: ","))) }
        if let scope { items.append(("scope", scope.rawValue)) }
        if let authorUsername { items.append(("author_username", authorUsername)) }
        return items
    }
}
