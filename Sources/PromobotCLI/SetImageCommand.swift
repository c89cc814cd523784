import ArgumentParser
import Foundation
import Manifests

/// `promobot set-image IMAGE:TAG|IMAGE@DIGEST... PATH...`: sets image tags/digests in Kubernetes manifests,
/// kustomizations and Helm values files, changing only the version bytes. The drop-in for the seed's
/// `./update-image-tag.py dev/app/deploy.yaml $appImgVersion` CI step.
///
/// All files are processed; if any file fails (invalid YAML, failed safety check) or an image is found in
/// none of the paths, nothing is written and the exit status is 1. `package` so the benchmark can run the
/// exact same code path in-process.
package struct SetImageCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "set-image",
        abstract: "Set image tags/digests in manifests, changing nothing but the version text.",
        discussion: """
            Arguments are updates (IMAGE:TAG, IMAGE@DIGEST or IMAGE:TAG@DIGEST) and files or folders \
            (searched for *.yaml and *.yml), in any order. An argument that names an existing file or \
            folder is always a path, even if it also reads as an image reference; anything else must be \
            an image reference with a tag or digest. Images are matched by normalised name, so nginx, \
            library/nginx and docker.io/library/nginx are the same image.

            Prints one line per change (path:line: image old -> new). Files already at the version are \
            reported as unchanged. Helm templates ({{ }}) are skipped with a notice. If any file cannot be \
            edited safely, or an image is found in none of the paths, nothing is written and the exit \
            status is 1. With --dry-run, prints a unified diff (stdout) and the change lines (stderr) and \
            writes nothing.
            """
    )

    @Flag(name: .long, help: "Print a unified diff instead of writing the files.")
    var dryRun = false

    @Argument(help: ArgumentHelp("Updates (IMAGE:TAG, IMAGE@DIGEST) and manifest files or folders, in any order.",
                                 valueName: "image-or-path"))
    var arguments: [String] = []

    package init() {}

    /// What the command would print and its exit status; ``run()`` prints it.
    package struct Outcome: Sendable {
        /// Standard output: change lines, or the diff with `--dry-run`.
        package var output = ""
        /// Standard error: notices, errors (and change lines with `--dry-run`).
        package var errors = ""
        /// 0 on success (including "unchanged"), 1 when anything failed.
        package var exitCode: Int32 = 0
        /// The change records (written, or would be with `--dry-run`).
        package var changes: [ImageChange] = []
    }

    package func validate() throws {
        _ = try Self.classify(arguments)
    }

    package func run() async throws {
        let outcome = execute()
        if !outcome.output.isEmpty { print(outcome.output, terminator: "") }
        if !outcome.errors.isEmpty { FileHandle.standardError.write(Data(outcome.errors.utf8)) }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// Splits arguments into updates and paths: an existing path wins; otherwise an image reference with a
    /// tag or digest is an update.
    /// - Throws: `ValidationError` naming an argument that is neither, or when updates or paths are missing.
    static func classify(_ arguments: [String]) throws -> (updates: [ImageUpdate], paths: [String]) {
        var updates: [ImageUpdate] = []
        var paths: [String] = []
        for argument in arguments {
            if FileManager.default.fileExists(atPath: argument) {
                paths.append(argument)
                continue
            }
            do {
                updates.append(try ImageUpdate(parsing: argument))
            } catch {
                if argument.contains(":") || argument.contains("@") {
                    throw ValidationError("'\(argument)' is not an existing path, and as an image: \(error.description)")
                }
                throw ValidationError("'\(argument)': no such file or folder (and not IMAGE:TAG or IMAGE@DIGEST)")
            }
        }
        guard !updates.isEmpty else { throw ValidationError("give at least one IMAGE:TAG or IMAGE@DIGEST to set") }
        guard !paths.isEmpty else { throw ValidationError("give at least one manifest file or folder to edit") }
        return (updates, paths)
    }

    /// Plans every edit, then writes all changed files (or renders the diff) only if nothing failed.
    package func execute() -> Outcome {
        var outcome = Outcome()
        let paths: [String], plan: EditPlan
        do {
            let (updates, classified) = try Self.classify(arguments)
            paths = classified
            plan = try ManifestFiles.plan(updates: updates, paths: paths)
        } catch {
            outcome.errors = "error: \(error)\n"
            outcome.exitCode = 1
            return outcome
        }
        var lines = ""
        for file in plan.files {
            for notice in file.result.notices { outcome.errors += "notice: \(notice)\n" }
            for change in file.result.changes { lines += "\(change)\n" }
            if file.result.changes.isEmpty {
                for found in file.result.matched {
                    lines += "\(file.path):\(found.line): \(found.reference.familiarName) already at \(found.reference.version) (unchanged)\n"
                }
            }
        }
        outcome.changes = plan.changes
        var failed = false
        for failure in plan.failures {
            outcome.errors += "error: \(failure)\n"
            failed = true
        }
        for update in plan.unmatchedUpdates {
            outcome.errors += "error: image \(update.image) not found in \(paths.joined(separator: ", ")); check the name and paths\n"
            failed = true
        }
        if dryRun {
            outcome.errors += lines
            for file in plan.files where file.isChanged {
                outcome.output += UnifiedDiff.render(path: file.path, old: file.original, new: file.result.text)
            }
        } else {
            outcome.output = lines
        }
        if failed {
            if !dryRun { outcome.errors += "error: nothing was written\n" }
            outcome.exitCode = 1
            return outcome
        }
        guard !dryRun else { return outcome }
        do {
            try ManifestFiles.commit(plan)
        } catch {
            outcome.errors += "error: \(error)\n"
            outcome.exitCode = 1
        }
        return outcome
    }
}
