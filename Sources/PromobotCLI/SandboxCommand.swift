import ArgumentParser

/// `promobot sandbox` (placeholder until its module lands).
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sandbox", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'sandbox' is not built yet")
    }
}
