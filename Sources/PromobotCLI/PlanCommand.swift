import ArgumentParser
import Foundation
import Planning
import Promotion

/// `promobot plan`: the dry run for people — every stage's tags, candidate, gates and the action the bot would take.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what the bot would do, and why, without doing it."
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Flag(name: .long, help: "Print JSON for machines.")
    var json = false

    @Flag(name: .long, help: "After the plan, print each stage's effective settings and where each comes from (as validate --show-effective).")
    var explain = false

    func run() async throws {
        let runtime = try Runtime.loadOrExit(options, dryRun: true, logFormat: .text, quiet: true)
        let report = await runtime.engine.runCycle()
        let now = runtime.engine.clock()
        if let shard = runtime.shard, !json {
            let names = runtime.engine.policies.map(\.name)
            let repositories = Set(runtime.engine.policies.flatMap { $0.stages.map(\.repository) }).sorted()
            print("shard \(shard) owns \(names.count) of \(runtime.loadedPolicies) policies: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
                  + " (repositories: \(repositories.isEmpty ? "none" : repositories.joined(separator: ", ")))")
        }
        print(json ? try PlanPrinter.json(report, now: now, shard: runtime.shard.map { ($0, runtime.engine.policies.map(\.name)) })
                   : PlanPrinter.text(report, now: now))
        if explain, !json { print("\neffective settings:\n" + EffectiveSettings.render(runtime.engine.policies)) }
        if report.hasErrors { throw ExitCode(1) }
    }
}
