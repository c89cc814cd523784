import Foundation
import Yams

// MARK: - Rollback blocks

extension PolicyParser.Parser {
    /// One `rollback` block as written, in the policy or in a stage.
    struct RollbackBlock {
        /// The block's keys, with every key it leaves out filled in from the block it inherits from (the
        /// policy's, for a stage) and then from `RollbackSettings`' defaults.
        var settings: RollbackSettings
        /// The key node of each key the block sets: where to point, and whether a value is set here or inherited.
        var keyNodes: [String: Node]
        /// `'rollback' of stage 'prod'`, for messages.
        var label: String
    }

    /// A stage's `rollback`: its own block over the policy's, key by key; the policy's (or the defaults)
    /// when the stage has none.
    func parseRollbackKey(_ keys: StageKeys, policyRollback: RollbackBlock?, into stage: inout Stage,
                          draft: inout StageDraft) {
        stage.rollback = policyRollback?.settings ?? RollbackSettings()
        guard let entry = keys.entries["rollback"],
              let block = parseRollback(entry.value, owner: keys.label, inherited: policyRollback) else { return }
        stage.rollback = block.settings
        draft.rollback = block
    }

    /// A `rollback` block of `owner` (`policy 'oms'`, `stage 'prod'`) over `inherited`; nil, reported, when
    /// it is not a mapping. Rules that need the whole policy (`auto` and `within`) are in `checkRollbacks`.
    func parseRollback(_ node: Node, owner: String, inherited: RollbackBlock?) -> RollbackBlock? {
        guard let mapping = reader.mapping(node, "'rollback' in \(owner)") else { return nil }
        let label = "'rollback' of \(owner)"
        let context = "in \(label)"
        let entries = reader.entries(mapping, allowed: PolicyParser.rollbackKeys, context: context)
        var settings = inherited?.settings ?? RollbackSettings()

        var inheritedText = "the default '\(settings.merge.rawValue)'"
        if let inherited, inherited.keyNodes["merge"] != nil {
            inheritedText = "'\(settings.merge.rawValue)' from \(inherited.label)"
        }
        (settings.merge, settings.approvals) = mergeMode(entries, context: context,
                                                         inherited: (settings.merge, settings.approvals),
                                                         inheritedText: inheritedText)
        if let entry = entries["auto"], let value = reader.bool(entry.value, "'auto' \(context)") {
            settings.auto = value
        }
        if let entry = entries["within"], let value = duration(entry.value, "'within' \(context)") {
            settings.within = value
        }
        return RollbackBlock(settings: settings, keyNodes: entries.mapValues(\.key), label: label)
    }

    // MARK: Rules across stages

    /// The rules for automatic rollbacks, once every stage's `from` is resolved: `within` only with
    /// `auto: true`, and `auto: true` only on a stage promobot promotes into (so there is a promotion to
    /// undo) that has health checks of its own (so there is something to notice the failure).
    ///
    /// A rule broken through the policy's block is reported at the policy's key, naming the stage, so the
    /// message points at the line that has to change (or at the stage that has to opt out).
    func checkRollbacks(_ drafts: [StageDraft], policyRollback: RollbackBlock?) {
        for draft in drafts {
            // The block that sets the stage's `auto`: its own, else the policy's; nil when it is the default.
            let autoOrigin = [draft.rollback, policyRollback].compactMap { $0 }.first { $0.keyNodes["auto"] != nil }
            if let own = draft.rollback, let withinKey = own.keyNodes["within"], !draft.stage.rollback.auto {
                let autoText = autoOrigin.map { "auto is false in \($0.label)" } ?? "auto is false by default"
                reader.error("'within' in \(own.label) needs 'auto: true': it only limits automatic rollbacks (\(autoText))",
                             at: withinKey)
            }
            guard draft.stage.rollback.auto, let autoOrigin else { continue }

            let inherited = draft.rollback?.keyNodes["auto"] == nil
            let source = inherited ? "automatic rollback (set in \(autoOrigin.label))" : "automatic rollback"
            if draft.stage.from == nil {
                let advice = inherited ? " (add 'rollback: {auto: false}' to \(draft.label))" : ""
                reader.error("\(source) on the first \(draft.label) cannot work: promobot never promotes into the first stage, so there is nothing to roll back automatically\(advice)",
                             at: autoOrigin.keyNodes["auto"])
            } else if draft.stage.health.isEmpty {
                let advice = inherited ? " (add 'health' to \(draft.label), or 'rollback: {auto: false}')" : " (add 'health' to the stage)"
                reader.error("\(source) needs health checks on \(draft.label): it rolls back when they fail\(advice)",
                             at: autoOrigin.keyNodes["auto"])
            }
        }

        // The policy's `within` is a default for stages; it is a mistake only when no stage rolls back by itself.
        if let policyRollback, let withinKey = policyRollback.keyNodes["within"], !drafts.isEmpty,
           !drafts.contains(where: \.stage.rollback.auto) {
            reader.error("'within' in \(policyRollback.label) needs 'auto: true' there or in a stage's 'rollback': it only limits automatic rollbacks, and no stage has them",
                         at: withinKey)
        }
    }
}
