import ArgumentParser

/// Options shared by `run`, `plan` and `status`: where the config and policies are, and which policies to look at.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "The global config file (default: promobot.yaml when it exists, else built-in defaults and environment).")
    var config: String?

    @Option(name: .long, help: "The policies folder (overrides the config's 'policies').")
    var policies: String?

    @Option(name: .customLong("policy"), help: "Only this policy (repeatable). Orphan MRs are not closed when filtering.")
    var only: [String] = []

    @Option(name: .long, help: "Only the policies of shard I of N (I/N, 0-based; or N with I from JOB_COMPLETION_INDEX). Policies sharing a repository share a shard.")
    var shard: String?
}

/// How log lines look: for people, or one JSON object per line for machines.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
