import ArgumentParser

/// Benchmarks: each subcommand lives in its own file and prints figures as ratios measured in one run.
@main
struct PromobotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promobot-bench",
        abstract: "promobot's benchmarks (not tests): each compares promobot with a baseline in the same run.",
        subcommands: [EditBenchmark.self, RefreshBenchmark.self, EngineBenchmark.self, ServeBenchmark.self, EngineCycles.self]
    )
}
