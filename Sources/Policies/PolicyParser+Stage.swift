import Foundation
import Yams

// MARK: - Stage keys

extension PolicyParser.Parser {
    /// One stage's entries by key, its label (`stage 'dev'`, or `stage 2` before a name is known) and the
    /// `in stage 'dev'` that follows a key in messages.
    struct StageKeys {
        var entries: Entries
        var mapping: Node.Mapping
        var label: String
        var context: String
    }

    /// One stage item of `stages`, key by key: each concern below reads its own keys in the order the
    /// diagnostics have always come in (they are sorted by position afterwards anyway).
    ///
    /// `policyHas...`: the policy sets the key (even to an invalid value, already reported), so a
    /// stage without it is not reported again. `policyRollback`: the policy's `rollback` block, which the
    /// stage's own inherits from key by key.
    func parseStage(_ node: Node, index: Int, defaultRepository: String?, defaultBranch: String?,
                    policyContext: String, policyHasRepository: Bool, policyHasBranch: Bool,
                    policyRollback: RollbackBlock?) -> StageDraft? {
        guard let mapping = reader.mapping(node, "stage \(index + 1) \(policyContext)") else { return nil }
        var label = "stage \(index + 1)"
        if let nameNode = mapping["name"], case let .scalar(scalar) = nameNode, !scalar.string.isEmpty {
            label = "stage '\(YAMLReader.excerpt(scalar.string))'"
        }
        let context = "in \(label)"
        let entries = reader.entries(mapping, allowed: PolicyParser.stageKeys, context: context)

        var stage = Stage(name: "", repository: defaultRepository ?? "", branch: defaultBranch ?? "", paths: [])
        // Defaults first, lowest precedence first; the stage's own keys below replace them.
        if let name = entries["name"]?.value.scalar?.string { shared.stageDefaults[name]?.apply(to: &stage) }
        policyDefaults?.apply(to: &stage)
        var draft = StageDraft(stage: stage, mapping: mapping, nameNode: entries["name"]?.value,
                               fromNode: entries["from"]?.value, pathNodes: [],
                               keyNodes: entries.mapValues(\.key), label: label)

        if let entry = entries["name"] {
            if let value = reader.string(entry.value, "'name' \(context)") {
                stage.name = value
                if !PolicyParser.isValidName(value) {
                    reader.error("invalid stage name '\(value)': use 1-63 lowercase letters, digits and '-', not starting or ending with '-'",
                                 at: entry.value)
                }
            }
        } else {
            reader.missing("name", "in stage \(index + 1) \(policyContext)", at: mapping.mark)
        }

        if let entry = entries["from"] {
            stage.from = reader.string(entry.value, "'from' \(context)")
        }

        let keys = StageKeys(entries: entries, mapping: mapping, label: label, context: context)
        parseTarget(keys, into: &stage, draft: &draft, policyHasRepository: policyHasRepository,
                    policyHasBranch: policyHasBranch)
        parseHealthChecks(keys, into: &stage)
        parseMergeKeys(keys, into: &stage)
        parseCalendarKeys(keys, into: &stage)
        parseSelectionKeys(keys, into: &stage)
        parseMergeRequestKeys(keys, into: &stage)
        parseRollbackKey(keys, policyRollback: policyRollback, into: &stage, draft: &draft)
        for key in StageDefaults.keys {
            if let keyNode = entries[key]?.key { stage.sources[key] = .stage(path: path, line: keyNode.mark?.line ?? 0) }
        }
        StageDefaults.normalizeApprovals(&stage)

        draft.stage = stage
        return draft
    }

    /// A `defaults:` block of a policy, or one `stageDefaults:` entry of the config file (read with the
    /// config's reader, so its problems point into the config file): the stage keys of `StageDefaults.keys`,
    /// checked exactly as in a stage, on an otherwise built-in stage. `source` says where a key is written.
    ///
    /// `approvals` may stand without `merge` here: the `merge: approved` it needs may come from another
    /// layer (checked per stage, see `StageDefaults.normalizeApprovals`).
    func parseDefaults(_ node: Node, label: String, source: (Node) -> SettingSource) -> StageDefaults? {
        guard let mapping = reader.mapping(node, label) else { return nil }
        let context = "in \(label)"
        let entries = reader.entries(mapping, allowed: StageDefaults.keys, context: context) { key in
            guard PolicyParser.stageKeys.contains(key) else { return nil }
            return "'\(key)' cannot be a default \(context): it is set in each stage (defaults hold \(StageDefaults.keys.joined(separator: ", ")))"
        }
        var stage = Stage(name: "", repository: "", branch: "", paths: [], merge: .approved, approvals: 1)
        let keys = StageKeys(entries: entries, mapping: mapping, label: label, context: context)
        parseHealthChecks(keys, into: &stage)
        parseMergeKeys(keys, into: &stage)
        parseCalendarKeys(keys, into: &stage)
        parseSelectionKeys(keys, into: &stage)
        parseMergeRequestKeys(keys, into: &stage)
        return StageDefaults(values: stage, sources: entries.mapValues { source($0.key) })
    }

    /// `stage` with the config's company-wide freezes that apply to it added to its own.
    func withCompanyFreezes(_ stage: Stage, policy: String) -> Stage {
        var stage = stage
        for company in shared.freezes where company.applies(toStage: stage.name, policy: policy) {
            stage.freezes.append(company.freeze)
        }
        return stage
    }

    /// `repository`, `branch` (each defaulting to the policy's) and `paths`: where the stage's manifests are.
    func parseTarget(_ keys: StageKeys, into stage: inout Stage, draft: inout StageDraft,
                     policyHasRepository: Bool, policyHasBranch: Bool) {
        if let entry = keys.entries["repository"] {
            if let value = repository(entry.value, "'repository' \(keys.context)") { stage.repository = value }
        } else if !policyHasRepository {
            reader.error("\(keys.label) has no 'repository' and the policy sets no default: add 'repository: group/project' to the stage or the policy",
                         at: keys.mapping.mark)
        }
        if let entry = keys.entries["branch"] {
            if let value = branch(entry.value, "'branch' \(keys.context)") { stage.branch = value }
        } else if !policyHasBranch {
            reader.error("\(keys.label) has no 'branch' and the policy sets no default: add 'branch: main' to the stage or the policy",
                         at: keys.mapping.mark)
        }

        if let entry = keys.entries["paths"] {
            for (value, pathNode) in reader.stringList(entry.value, "'paths' \(keys.context)") ?? [] {
                if let problem = PolicyParser.pathProblem(value) {
                    reader.error("path '\(value)' \(keys.context) \(problem)", at: pathNode)
                } else {
                    stage.paths.append(value)
                    draft.pathNodes.append(pathNode)
                }
            }
        } else {
            reader.missing("paths", keys.context, at: keys.mapping.mark)
        }
    }

    /// `health`: the checks that gate promotions out of this stage (see `PolicyParser+Health.swift`).
    func parseHealthChecks(_ keys: StageKeys, into stage: inout Stage) {
        if let entry = keys.entries["health"], let items = reader.list(entry.value, "'health' \(keys.context)", allowEmpty: true) {
            stage.health = []  // replaces the defaults' checks
            for (checkIndex, item) in items.enumerated() {
                if let check = parseHealthCheck(item, label: "health check \(checkIndex + 1) of \(keys.label)") {
                    stage.health.append(check)
                }
            }
        }
    }

    /// `soak`, `merge` and `approvals`: how long a version must run upstream, and how its MR is merged.
    func parseMergeKeys(_ keys: StageKeys, into stage: inout Stage) {
        if let entry = keys.entries["soak"] { stage.soak = duration(entry.value, "'soak' \(keys.context)") }
        let inheritedText = stage.sources["merge"].map { "'\(stage.merge.rawValue)' from \($0)" } ?? "the default '\(stage.merge.rawValue)'"
        (stage.merge, stage.approvals) = mergeMode(keys.entries, context: keys.context, inherited: (stage.merge, stage.approvals),
                                                   inheritedText: inheritedText)
    }

    /// `merge` and `approvals` of one mapping (a stage, or a `rollback` block), read together because
    /// approvals only mean something with `merge: approved`.
    ///
    /// Keys the mapping leaves out come from `inherited` (the default, or the policy's `rollback` block),
    /// key by key: `merge: approved` without `approvals` keeps the inherited count when the inherited mode is
    /// `approved` too, and is 1 otherwise; any other mode has no approvals. `inheritedText` names where the
    /// inherited mode comes from, for the message about `approvals` without `merge: approved`.
    func mergeMode(_ entries: Entries, context: String, inherited: (merge: MergeMode, approvals: Int),
                   inheritedText: String) -> (merge: MergeMode, approvals: Int) {
        var merge = inherited.merge
        if let entry = entries["merge"], let value = reader.string(entry.value, "'merge' \(context)"),
           let mode: MergeMode = choice(value, "merge mode", context, at: entry.value) {
            merge = mode
        }
        // An inherited count carries over only together with an inherited `approved` mode.
        let defaultApprovals = merge == .approved ? max(inherited.merge == .approved ? inherited.approvals : 0, 1) : 0

        guard let entry = entries["approvals"], let value = reader.int(entry.value, "'approvals' \(context)") else {
            return (merge, defaultApprovals)
        }
        if merge != .approved {
            let mergeText = entries["merge"] == nil ? inheritedText : "'\(merge.rawValue)'"
            reader.error("'approvals' \(context) needs 'merge: approved' (merge is \(mergeText))", at: entry.key)
        } else if value < 1 {
            reader.error("'approvals' \(context) must be at least 1 with 'merge: approved' (use 'merge: auto' to merge without approvals)",
                         at: entry.value)
        } else {
            return (merge, value)
        }
        return (merge, defaultApprovals)
    }

    /// `tags`, `downgrade`, `pick`, `imageExists` and `pin`: which upstream versions may be promoted, and how.
    func parseSelectionKeys(_ keys: StageKeys, into stage: inout Stage) {
        if let entry = keys.entries["tags"], let value = reader.string(entry.value, "'tags' \(keys.context)") {
            if let problem = PolicyParser.regexProblem(value) {
                let shown = value.count > PolicyParser.maxRegexLength ? String(value.prefix(40)) + "..." : value
                reader.error("invalid regular expression '\(shown)' for 'tags' \(keys.context): \(problem)", at: entry.value)
            } else {
                stage.tagPattern = value
            }
        }

        if let entry = keys.entries["downgrade"], let value = reader.bool(entry.value, "'downgrade' \(keys.context)") {
            stage.allowDowngrade = value
        }

        if let entry = keys.entries["pick"], let value = reader.string(entry.value, "'pick' \(keys.context)"),
           let pick: PickStrategy = choice(value, "pick strategy", keys.context, at: entry.value) {
            stage.pick = pick
        }

        if let entry = keys.entries["imageExists"], let value = reader.bool(entry.value, "'imageExists' \(keys.context)") {
            stage.imageExists = value
        }

        if let entry = keys.entries["pin"], let value = reader.string(entry.value, "'pin' \(keys.context)"),
           let pin: PinMode = choice(value, "pin mode", keys.context, at: entry.value) {
            stage.pin = pin
        }
    }

    /// `labels`, `reviewers` and `assignees`: what the promotion MR carries.
    func parseMergeRequestKeys(_ keys: StageKeys, into stage: inout Stage) {
        if let entry = keys.entries["labels"] {
            stage.labels = []  // replaces the defaults' labels
            for (value, labelNode) in reader.stringList(entry.value, "'labels' \(keys.context)", allowEmpty: true) ?? [] {
                if value.contains(",") {
                    reader.error("label '\(value)' \(keys.context) must not contain ',' (GitLab splits labels on commas): list each label separately",
                                 at: labelNode)
                } else {
                    stage.labels.append(value)
                }
            }
        }
        if let node = keys.entries["reviewers"]?.value { stage.reviewers = users(node, "'reviewers' \(keys.context)") }
        if let node = keys.entries["assignees"]?.value { stage.assignees = users(node, "'assignees' \(keys.context)") }
    }

    // MARK: Values shared by several keys

    /// The case of `Choice` that `value` names; nil, reported with every name and a suggestion, otherwise.
    func choice<Choice: CaseIterable & RawRepresentable>(
        _ value: String, _ what: String, _ context: String, at node: Node
    ) -> Choice? where Choice.RawValue == String {
        reader.choice(value, what, context, at: node)
    }

    /// GitLab usernames; a leading `@` is accepted and dropped.
    func users(_ node: Node, _ what: String) -> [String] {
        var users: [String] = []
        for (value, userNode) in reader.stringList(node, what, allowEmpty: true) ?? [] {
            let name = value.hasPrefix("@") ? String(value.dropFirst()) : value
            let valid = !name.isEmpty
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            if valid {
                users.append(name)
            } else {
                reader.error("invalid GitLab username '\(value)' in \(what)", at: userNode)
            }
        }
        return users
    }

    /// A duration such as `30m` or `1h30m` (`soak`, a health check's `settle`); nil, reported, otherwise.
    func duration(_ node: Node, _ what: String) -> PolicyDuration? {
        reader.duration(node, what)
    }
}
