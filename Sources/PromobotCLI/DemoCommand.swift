import ArgumentParser

/// `promobot demo`: the whole promotion story against an in-process sandbox; no configuration, no network.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk a dev -> test -> prod promotion against an in-process GitLab sandbox on loopback."
    )

    func run() async throws {
        try await DemoScenario().run()
    }
}
