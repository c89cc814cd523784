import ArgumentParser
import Foundation
import LocalFiles
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
            reported as unchanged. Helm templates ({{ }}) whose template actions are what keeps them from \
            parsing as YAML are skipped with a notice; any other file that is not valid YAML is an error. \
            A file named twice (or through a symbolic link) is edited once; a link is never replaced: its \
            target is edited when it lies inside the given paths, and refused otherwise. Files larger than \
            4 MiB are refused. If any file cannot be edited safely, or an image is found in none of the \
            paths, nothing is written and the exit status is 1; writes are all or nothing. Bad arguments \
            (including two updates for the same image) exit with status 2. With --dry-run, prints a \
            unified diff (stdout, accepted by patch -p1 and git apply) and the change lines (stderr) and \
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
    /// - Throws: `ValidationError` (exit status 2) naming an argument that is neither, when updates or paths
    ///   are missing, or when two updates name the same image (in any spelling). Arguments are echoed
    ///   escaped (``EchoText``).
    static func classify(_ arguments: [String]) throws -> (updates: [ImageUpdate], paths: [String]) {
        var updates: [ImageUpdate] = []
        var paths: [String] = []
        var given: [String: String] = [:]  // image name -> the argument that set it
        for argument in arguments {
            if FileManager.default.fileExists(atPath: argument) {
                paths.append(argument)
                continue
            }
            let shown = EchoText.escapingControls(argument)
            let update: ImageUpdate
            do {
                update = try ImageUpdate(parsing: argument)
            } catch {
                if argument.contains(":") || argument.contains("@") {
                    throw ValidationError("'\(shown)' is not an existing path, and as an image: \(EchoText.escapingControls(error.description))")
                }
                throw ValidationError("'\(shown)': no such file or folder (and not IMAGE:TAG or IMAGE@DIGEST)")
            }
            if let earlier = given[update.image] {
                throw ValidationError("'\(EchoText.escapingControls(earlier))' and '\(shown)' both set \(update.image); give one update per image")
            }
            given[update.image] = argument
            updates.append(update)
        }
        guard !updates.isEmpty else { throw ValidationError("give at least one IMAGE:TAG or IMAGE@DIGEST to set") }
        guard !paths.isEmpty else { throw ValidationError("give at least one manifest file or folder to edit") }
        return (updates, paths)
    }

    /// Plans every edit, then writes all changed files (or renders the diff) only if nothing failed.
    /// Every line echoes paths and values from files or argv through ``EchoText`` (one line each, no
    /// escape sequences); the diff body is the files' own text (YAML that parsed holds no C0 controls
    /// but tab and CR, which `patch` needs kept).
    package func execute() -> Outcome {
        var outcome = Outcome()
        let paths: [String], plan: EditPlan
        do {
            let (updates, classified) = try Self.classify(arguments)
            paths = classified
            plan = try ManifestFiles.plan(updates: updates, paths: paths)
        } catch {
            outcome.errors = "error: \(Self.line(error))\n"
            outcome.exitCode = 1
            return outcome
        }
        var lines = ""
        for file in plan.files {
            for notice in file.result.notices { outcome.errors += "notice: \(Self.line(notice))\n" }
            for change in file.result.changes { lines += "\(Self.line(change))\n" }
            if file.result.changes.isEmpty {
                for found in file.result.matched {
                    lines += Self.line("\(file.path):\(found.line): \(found.reference.familiarName) already at \(found.reference.version) (unchanged)") + "\n"
                }
            }
        }
        outcome.changes = plan.changes
        for failure in plan.failures {
            outcome.errors += "error: \(Self.line(failure))\n"
        }
        let searched = paths.joined(separator: ", ")
        for update in plan.unmatchedUpdates {
            let scope = plan.failures.isEmpty ? searched : "the files of \(searched) that could be read"
            outcome.errors += "error: " + Self.line("image \(update.image) not found in \(scope); check the name and paths") + "\n"
        }
        if dryRun {
            outcome.errors += lines
            for file in plan.files where file.isChanged {
                outcome.output += UnifiedDiff.render(path: file.path, old: file.original, new: file.result.text)
            }
        } else {
            outcome.output = lines
        }
        if plan.refusesToWrite {
            if !dryRun { outcome.errors += "error: nothing was written\n" }
            outcome.exitCode = 1
            return outcome
        }
        guard !dryRun else { return outcome }
        do {
            try ManifestFiles.commit(plan)
        } catch {
            outcome.errors += "error: \(Self.line(error))\n"
            outcome.exitCode = 1
        }
        return outcome
    }

    /// One output line: the text with control characters escaped, so nothing echoed can start a line.
    static func line(_ value: Any) -> String {
        EchoText.escapingControls("\(value)")
    }
}
