import ArgumentParser

/// `promobot set-image` (placeholder until its module lands).
struct SetImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-image", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'set-image' is not built yet")
    }
}
