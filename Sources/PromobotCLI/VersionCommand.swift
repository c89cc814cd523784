import ArgumentParser
import Git
import HTTP

/// `promobot version`: promobot's version and the C libraries it runs on.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print promobot's version and the libgit2 and libcurl versions it runs on."
    )

    func run() throws {
        print("promobot \(Promobot.version)")
        print("libgit2 \(LibGit2.version)")
        print("libcurl \(LibCurl.version)")
    }
}
