import Yams

// Values several file kinds share (policy files and the sandbox's seed file), read the one way.
extension YAMLReader {
    /// The case of `Choice` that `value` names; nil, reported with every name and a suggestion, otherwise.
    package func choice<Choice: CaseIterable & RawRepresentable>(
        _ value: String, _ what: String, _ context: String, at node: Node
    ) -> Choice? where Choice.RawValue == String {
        if let choice = Choice(rawValue: value) { return choice }
        let names = Choice.allCases.map(\.rawValue)
        error("invalid \(what) '\(value)' \(context): use one of \(names.joined(separator: ", "))\(Suggestion.didYouMean(value, in: names))",
              at: node)
        return nil
    }

    /// A duration such as `30m` or `1h30m` (a policy's `soak`, a seed's `syncedAgo`); nil, reported, otherwise.
    package func duration(_ node: Node, _ what: String) -> PolicyDuration? {
        guard case let .scalar(scalar) = node, !Self.isNull(node) else {
            error("\(what) must be a duration like 30m, found \(Self.describe(node))", at: node)
            return nil
        }
        switch PolicyDuration.parse(scalar.string) {
        case let .success(duration):
            return duration
        case .failure(.outOfRange):
            error("duration '\(scalar.string)' for \(what) is out of range (at most \(PolicyDuration.maximum), one year)", at: node)
        case .failure(.malformed):
            error("invalid duration '\(scalar.string)' for \(what): use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m",
                  at: node)
        }
        return nil
    }

    /// ` (did you mean 'x'?)` when `word` looks like a typo of one of `candidates`, else an empty string.
    package static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String {
        Suggestion.didYouMean(word, in: candidates)
    }
}
