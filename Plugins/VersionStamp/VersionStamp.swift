import Foundation
import PackagePlugin

/// Bakes promobot's version into the target it is applied to (`PromobotCLI`), on every `swift build`.
///
/// Why a prebuild command: the version follows git (`git describe --tags`), and SwiftPM cannot know that a
/// new commit or tag is an input, so the stamp must run on every build. It is one `git describe` (a few ms),
/// and `scripts/version --swift` rewrites the generated file only when the version changed, so an
/// unchanged version recompiles nothing. Why a script rather than Swift here: `scripts/package`, the
/// Dockerfile and CI need the same answer, and one shell script gives it to all of them.
///
/// `PROMOBOT_VERSION` in the environment of `swift build` overrides git (builds without `.git`, such as a
/// Docker build context); the plugin hands it on because the command runs with only the environment given.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "BakedVersion")
        let package = context.package.directoryURL
        let inherited = ProcessInfo.processInfo.environment
        var environment = ["PATH": inherited["PATH"] ?? "/usr/bin:/bin"]
        if let version = inherited["PROMOBOT_VERSION"] { environment["PROMOBOT_VERSION"] = version }
        return [
            .prebuildCommand(
                displayName: "Stamping promobot's version (scripts/version)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [package.appending(path: "scripts/version").path, "--swift",
                            output.appending(path: "BakedVersion.swift").path, package.path],
                environment: environment,
                outputFilesDirectory: output
            ),
        ]
    }
}
