import Foundation
import Yams

// MARK: - Rules across stages

extension PolicyParser.Parser {
    /// The rules no single stage can check: unique names, `from` (defaulting to the previous stage, and
    /// naming an earlier one), keys that do nothing on the first stage, health checks nobody runs, and
    /// paths two stages would both write. Fills in the default `from` of each draft.
    func checkStages(_ drafts: inout [StageDraft], policyContext: String) {
        // Duplicate names.
        var firstIndex: [String: Int] = [:]
        for (index, draft) in drafts.enumerated() where !draft.stage.name.isEmpty {
            if let first = firstIndex[draft.stage.name] {
                let line = drafts[first].nameNode?.mark?.line ?? 0
                reader.error("duplicate stage name '\(draft.stage.name)' \(policyContext) (first defined at line \(line))",
                             at: draft.nameNode)
            } else {
                firstIndex[draft.stage.name] = index
            }
        }
        let names = drafts.map(\.stage.name).filter { !$0.isEmpty }

        // `from`: default previous stage; must name an earlier stage.
        for index in drafts.indices {
            let name = drafts[index].stage.name
            guard let from = drafts[index].stage.from else {
                drafts[index].stage.from = index > 0 ? drafts[index - 1].stage.name : nil
                continue
            }
            let node = drafts[index].fromNode
            let label = drafts[index].label
            if from == name {
                reader.error("\(label) cannot promote from itself: 'from' must name an earlier stage", at: node)
            } else if let target = firstIndex[from] {
                if target > index {
                    reader.error("\(label) cannot promote from '\(from)', which comes later: list stages upstream first (no cycles)",
                                 at: node)
                }
            } else {
                reader.error("\(label) promotes from unknown stage '\(from)'\(Suggestion.didYouMean(from, in: names))",
                             at: node)
            }
        }

        // First stage: CI writes it; promotion settings have no effect there.
        if let first = drafts.first {
            for key in PolicyParser.promotionOnlyKeys {
                if let keyNode = first.keyNodes[key] {
                    reader.warning("'\(key)' has no effect on the first \(first.label): CI writes it and promobot never promotes into it",
                                   at: keyNode)
                }
            }
        }
        // Health checks on a stage nobody promotes from are never run, unless they trigger its automatic rollback.
        let upstreams = Set(drafts.compactMap { draft in draft.stage.from.flatMap { $0 == draft.stage.name ? nil : $0 } })
        for draft in drafts where !draft.stage.health.isEmpty && !draft.stage.rollback.auto {
            if !upstreams.contains(draft.stage.name), let keyNode = draft.keyNodes["health"] {
                reader.warning("health checks on \(draft.label) never run: they gate promotions out of a stage, and no stage promotes from it",
                               at: keyNode)
            }
        }

        // Two stages must not write the same files in the same repository and branch.
        for overlap in PathOverlaps.find(drafts.map { ($0.stage.repository, $0.stage.branch, $0.stage.paths) }) {
            let later = drafts[overlap.stage], earlier = drafts[overlap.earlierStage]
            let laterPath = later.stage.paths[overlap.path]
            let other = YAMLReader.excerpt(earlier.stage.paths[overlap.earlierPath])
            reader.error("path '\(laterPath)' of \(later.label) overlaps path '\(other)' of \(earlier.label) in \(YAMLReader.excerpt(later.stage.repository)) (branch \(YAMLReader.excerpt(later.stage.branch))): stages must not share files",
                         at: later.pathNodes[overlap.path])
        }
    }
}
